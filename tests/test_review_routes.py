"""The review plugin through Datasette's own client: pages, files, changes, permissions, failures."""

import asyncio
import contextlib
import os
import re
import sqlite3

import pytest
from datasette.app import Datasette

from conftest import group_of, make_photo, md5, run, unwritable
from review_client import CROSS_SITE, Visitor, datasette, key, md5_of_recorded
from shashin.store import Store

pytestmark = pytest.mark.asyncio


@pytest.fixture
def db(duplicates):
    return duplicates[0]


async def test_page_lists_groups_largest_saving_first_read_only(db, photos):
    ds = await datasette(db)
    response = await Visitor(ds).get("/-/shashin")
    assert response.status_code == 200
    html = response.text
    exact, similar = html.index("shashin-exact"), html.index("shashin-similar")
    assert exact < similar  # two 640 px copies free more than one 320 px copy
    assert "2 groups to review" in html and "suggested keeper" in html
    assert "Read only" in html and "Delete selected" not in html
    assert html.count('<figure class="shashin-member') == 5
    assert "640 × 480" in html and "320 × 240" in html and "backup" in html
    similar_only = await Visitor(ds).get("/-/shashin?kind=similar")
    assert similar_only.text.count('<figure class="shashin-member') == 2
    assert "1 group to review" in similar_only.text
    past_the_end = await Visitor(ds).get("/-/shashin?kind=similar&page=9")  # to the last page
    assert past_the_end.status_code == 302 and past_the_end.headers["location"] == "/-/shashin?kind=similar"


async def test_keeper_first_by_cold_start_rule(db, photos):
    html = (await Visitor(await datasette(db)).get("/-/shashin?kind=similar")).text
    first_member = html[html.index('<figure class="shashin-member') :]
    # The larger beach.jpg is suggested over beach-small.jpg.
    assert (
        first_member.index("shashin-keeper") < first_member.index("beach.jpg") < first_member.index("beach-small.jpg")
    )


async def test_keeper_first_by_shashin_rank_when_ranked(db, photos):
    group = group_of(db, photos["beach"])
    Store(db).save_ranks(
        [
            {
                "path": photos["beach-small"],
                "group_id": group,
                "rank": 1,
                "keep_probability": 0.8,
                "reasons": ["you keep small files"],
            },
            {"path": photos["beach"], "group_id": group, "rank": 2, "keep_probability": 0.2, "reasons": []},
        ]
    )
    html = (await Visitor(await datasette(db)).get("/-/shashin?kind=similar")).text
    assert html.index("shashin-keeper") < html.index("beach-small.jpg") < html.index("beach.jpg")
    assert "you keep small files" in html


async def test_warnings_live_photo_changed_and_gone(db, photos):
    open(os.path.splitext(photos["beach"])[0] + ".MOV", "wb").close()
    with open(photos["beach-small"], "ab") as handle:
        handle.write(b"edited")
    os.remove(photos["backup"])
    html = (await Visitor(await datasette(db)).get("/-/shashin")).text
    assert "Live Photo video beside it (beach.MOV)" in html
    assert "beach-small.jpg: changed since it was scanned" in html
    assert "photo.jpg: no longer on disk" in html


async def test_signed_in_root_sees_actions(db, photos):
    html = (await Visitor(await datasette(db), {"id": "root"}).get("/-/shashin")).text
    assert "Delete selected" in html and "Keep this one, delete the others" in html and "Not duplicates" in html
    assert 'name="csrftoken"' in html and "Read only" not in html
    assert (
        await Visitor(await datasette(db), {"id": "root"}).get("/-/static-plugins/shashin/review.js")
    ).status_code == 200


async def test_thumbnail_cached_for_long(db, photos):
    visitor = Visitor(await datasette(db), {"id": "root"})
    content = md5(photos["photo"])
    response = await visitor.get("/-/shashin/thumbnail/{}.jpg".format(content))
    assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"
    assert response.content[:3] == b"\xff\xd8\xff"
    assert "immutable" in response.headers["cache-control"] and "max-age=31536000" in response.headers["cache-control"]
    assert "shashin-cache-control" not in response.headers
    assert (await visitor.get("/-/shashin/thumbnail/{}.jpg".format("0" * 32))).status_code == 404


async def test_full_image_streamed_and_converted(db, photos):
    visitor = Visitor(await datasette(db))
    response = await visitor.get("/-/shashin/image/" + md5(photos["beach"]))
    assert response.status_code == 200 and response.content == open(photos["beach"], "rb").read()
    scan = make_photo(os.path.join(os.path.dirname(photos["photo"]), "scan.tiff"), 3)
    run("shashin-hash", "--db", db, "-q", scan, check=0)
    converted = await visitor.get("/-/shashin/image/" + md5(scan))
    assert converted.status_code == 200 and converted.headers["content-type"] == "image/jpeg"
    assert converted.content[:3] == b"\xff\xd8\xff"


async def test_symbolic_link_in_place_of_a_photo_is_not_followed(db, photos, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("not a photo")
    os.remove(photos["beach-small"])
    os.symlink(secret, photos["beach-small"])
    response = await Visitor(await datasette(db)).get("/-/shashin/image/" + md5_of_recorded(db, photos["beach-small"]))
    assert response.status_code == 404 and "not a photo" not in response.text


@pytest.mark.parametrize(
    "path",
    [
        "/-/shashin/image/../../../../etc/passwd",
        "/-/shashin/image/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/-/shashin/image/" + "0" * 32,
        "/-/shashin/thumbnail/..%2fshashin.db",
        "/-/shashin/image/" + "0" * 32 + "/../../etc/passwd",
    ],
)
async def test_path_traversal_is_404(db, photos, path):
    # Datasette first redirects %2F to its ~2F encoding; the end is a 404 either way.
    response = await Visitor(await datasette(db)).get(path, follow_redirects=True)
    assert response.status_code == 404
    assert "root:" not in response.text


async def test_anonymous_cannot_change(db, photos):
    ds = await datasette(db)
    group = group_of(db, photos["photo"])
    response = await Visitor(ds).post("/-/shashin/remove", {"group": group, "member": key(photos["backup"])})
    assert response.status_code == 403 and os.path.exists(photos["backup"])
    for path in ("/-/shashin/restore", "/-/shashin/empty", "/-/shashin/not-duplicates", "/-/shashin/undo"):
        assert (await Visitor(ds).post(path, {"group": group})).status_code == 403


async def test_a_get_to_a_change_is_405(db, photos):
    visitor = Visitor(await datasette(db), {"id": "root"})
    for path in (
        "/-/shashin/remove",
        "/-/shashin/accept",
        "/-/shashin/not-duplicates",
        "/-/shashin/undo",
        "/-/shashin/restore",
        "/-/shashin/empty",
    ):
        response = await visitor.get(path + "?group=1&keep=x")
        assert response.status_code == 405 and response.headers["allow"] == "POST", path
    assert (await Visitor(await datasette(db)).get("/-/shashin/empty")).status_code == 405  # anyone: no secret
    assert os.path.exists(photos["backup"]) and os.path.exists(photos["photo copy"])


async def test_allow_delete_setting(db, photos):
    ds = await datasette(db, {"allow_delete": {"id": "alice"}})
    group = group_of(db, photos["photo"])
    root = await Visitor(ds, {"id": "root"}).post(
        "/-/shashin/remove", {"group": group, "member": key(photos["backup"])}
    )
    assert root.status_code == 403
    alice = await Visitor(ds, {"id": "alice"}).post(
        "/-/shashin/remove", {"group": group, "member": key(photos["backup"])}
    )
    assert alice.status_code == 200 and not os.path.exists(photos["backup"])


async def test_cross_site_post_rejected(db, photos):
    visitor = Visitor(await datasette(db), {"id": "root"})
    await visitor.get("/-/shashin")  # the signed-in browser holds Datasette 0.65's CSRF cookie too
    form = {"group": group_of(db, photos["photo"]), "member": key(photos["backup"])}
    response = await visitor.post("/-/shashin/remove", form, cross_site=True)
    assert response.status_code == 403
    assert "did not match" in response.text or "CSRF check failed" in response.text  # Datasette 0.65 / 1.0
    # A browser older than Sec-Fetch-Site sends only the Origin.
    older = {"accept": "application/json", "origin": CROSS_SITE["origin"]}
    assert (
        await visitor.ds.client.post("/-/shashin/remove", data=form, headers=visitor._headers(older))
    ).status_code == 403
    assert os.path.exists(photos["backup"])


async def test_settings_under_the_old_key_in_metadata(db, photos):
    # metadata.yaml files written for earlier versions: Datasette 1.0 moves their plugins block to its config.
    ds = Datasette([str(db)], metadata={"plugins": {"shashin-review": {"allow_delete": {"id": "alice"}}}})
    await ds.invoke_startup()
    form = {"group": group_of(db, photos["photo"]), "member": key(photos["backup"])}
    assert (await Visitor(ds, {"id": "root"}).post("/-/shashin/remove", form)).status_code == 403
    assert (await Visitor(ds, {"id": "alice"}).post("/-/shashin/remove", form)).status_code == 200


async def test_a_removal_interrupted_before_datasette_started_is_settled(db, photos):
    group = group_of(db, photos["photo"])
    with contextlib.closing(Store(db)) as store, store.write_lock():
        store.journal_trash({"original_path": photos["backup"], "trash_path": "/nowhere/photo.jpg", "group_id": group})
    root = Visitor(await datasette(db), {"id": "root"})  # on start, through Datasette's write connection
    with contextlib.closing(Store(db)) as store:
        assert store.unfinished_trash() == []
    assert "2 groups to review" in (await root.get("/-/shashin")).text and os.path.exists(photos["backup"])


async def test_delete_trash_restore_empty(db, photos):
    ds = await datasette(db)
    root = Visitor(ds, {"id": "root"})
    group = group_of(db, photos["photo"])
    content = md5(photos["photo copy"])
    removed = await root.post(
        "/-/shashin/remove", {"group": group, "member": [key(photos["photo copy"]), key(photos["backup"])]}
    )
    assert removed.status_code == 200 and removed.json()["ok"] and removed.json()["removed"] == 2
    assert not os.path.exists(photos["photo copy"]) and os.path.exists(photos["photo"])
    page = (await root.get("/-/shashin")).text
    assert "1 group to review" in page  # the decided group is done
    trash_page = (await root.get("/-/shashin/trash")).text
    assert "photo copy.jpg" in trash_page and "2 files" in trash_page and "frees" in trash_page
    entry = int(re.search(r'name="entry" value="(\d+)"', trash_page).group(1))
    restored = await root.post("/-/shashin/restore", {"entry": entry})
    assert restored.json()["ok"]
    restored_path = restored.json()["messages"][0].split(": restored")[0]
    assert os.path.exists(restored_path)
    batch = removed.json()["batch"]
    undo = await root.post("/-/shashin/restore", {"batch": batch})  # undo the whole removal: the rest of it
    assert undo.json()["ok"] and os.path.exists(photos["photo copy"]) and os.path.exists(photos["backup"])
    assert md5(photos["photo copy"]) == content
    assert "2 groups to review" in (await root.get("/-/shashin")).text
    await root.post("/-/shashin/remove", {"group": group, "keep": key(photos["photo"])})
    assert (
        os.path.exists(photos["photo"])
        and not os.path.exists(photos["backup"])
        and not os.path.exists(photos["photo copy"])
    )
    emptied = await root.post("/-/shashin/empty", {})
    size = os.path.getsize(photos["photo"])
    assert emptied.json()["freed"] == 2 * size
    assert "freed" in emptied.json()["messages"][0]
    assert "0 files" in (await root.get("/-/shashin/trash")).text


async def test_decision_recorded_with_snapshots(db, photos):
    root = Visitor(await datasette(db), {"id": "root"})
    group = group_of(db, photos["beach"])
    await root.post("/-/shashin/remove", {"group": group, "keep": key(photos["beach"])})
    [decision] = Store(db).decisions(group)
    assert decision["action"] == "keep" and decision["source"] == "ui"
    kept = {member["path"]: member["kept"] for member in decision["members"]}
    assert kept == {photos["beach"]: 1, photos["beach-small"]: 0}
    assert {member["snapshot"]["width"] for member in decision["members"]} == {640, 320}


async def test_plain_form_post_redirects_with_message(db, photos):
    root = Visitor(await datasette(db), {"id": "root"})
    group = group_of(db, photos["photo"])
    response = await root.post(
        "/-/shashin/remove",
        {"group": group, "member": key(photos["backup"]), "back": "https://evil.example/"},
        headers={"accept": "text/html"},
    )
    assert response.status_code == 302 and response.headers["location"] == "/-/shashin"
    root.cookies["ds_messages"] = response.cookies["ds_messages"]
    assert "Moved 1 file (" in (await root.get("/-/shashin")).text


async def test_last_copy_refused(db, photos):
    root = Visitor(await datasette(db), {"id": "root"})
    group = group_of(db, photos["beach"])
    response = await root.post(
        "/-/shashin/remove", {"group": group, "member": [key(photos["beach"]), key(photos["beach-small"])]}
    )
    assert response.status_code == 409 and "never removes the last copy" in response.json()["messages"][0]
    assert os.path.exists(photos["beach"]) and os.path.exists(photos["beach-small"])


async def test_concurrent_deletes_keep_one(db, photos):
    ds = await datasette(db)
    first, second = Visitor(ds, {"id": "root"}), Visitor(ds, {"id": "root"})
    await first.get("/-/shashin")
    await second.get("/-/shashin")
    group = group_of(db, photos["beach"])
    responses = await asyncio.gather(
        first.post("/-/shashin/remove", {"group": group, "member": key(photos["beach"])}),
        second.post("/-/shashin/remove", {"group": group, "member": key(photos["beach-small"])}),
    )
    assert sorted(response.status_code for response in responses) == [200, 409]
    assert os.path.exists(photos["beach"]) != os.path.exists(photos["beach-small"])


async def test_changed_file_left_in_place(db, photos):
    root = Visitor(await datasette(db), {"id": "root"})
    group = group_of(db, photos["photo"])
    with open(photos["backup"], "ab") as handle:
        handle.write(b"edited")
    response = await root.post("/-/shashin/remove", {"group": group, "member": key(photos["backup"])})
    assert response.status_code == 409 and "changed since it was scanned" in response.json()["messages"][0]
    # The sentence says why; the file's name is in the details.
    assert response.json()["summary"].startswith("Nothing moved: changed since it was scanned")
    assert os.path.exists(photos["backup"]) and Store(db).decisions(group) == []


async def test_permission_denied_left_in_place(db, photos):
    root = Visitor(await datasette(db), {"id": "root"})
    group = group_of(db, photos["photo"])
    with unwritable(os.path.dirname(photos["backup"])):
        response = await root.post("/-/shashin/remove", {"group": group, "member": key(photos["backup"])})
    assert response.status_code == 409 and "permission denied" in response.json()["messages"][0]
    assert os.path.exists(photos["backup"])


async def test_restore_refuses_to_overwrite(db, photos):
    root = Visitor(await datasette(db), {"id": "root"})
    group = group_of(db, photos["photo"])
    removed = await root.post("/-/shashin/remove", {"group": group, "member": key(photos["backup"])})
    with open(photos["backup"], "wb") as handle:
        handle.write(b"someone else's file")
    nothing_ticked = await root.post("/-/shashin/restore", {})
    assert nothing_ticked.status_code == 409 and nothing_ticked.json()["summary"].startswith("nothing ticked")
    response = await root.post("/-/shashin/restore", {"batch": removed.json()["batch"]})
    assert response.status_code == 409 and "not overwriting" in response.json()["messages"][0]
    assert open(photos["backup"], "rb").read() == b"someone else's file"


async def test_not_duplicates(db, photos):
    root = Visitor(await datasette(db), {"id": "root"})
    group = group_of(db, photos["beach"])
    response = await root.post("/-/shashin/not-duplicates", {"group": group})
    assert response.json()["ok"]
    store = Store(db)
    assert store.not_duplicates() == {tuple(sorted([md5(photos["beach"]), md5(photos["beach-small"])]))}
    assert store.decisions(group)[0]["action"] == "not_duplicates"
    assert "1 group to review" in (await root.get("/-/shashin")).text
    assert os.path.exists(photos["beach"]) and os.path.exists(photos["beach-small"])


async def test_an_undo_sent_twice_never_undoes_a_later_decision(db, photos):
    """Undoing a "not duplicates" twice (a retry, a second tab) after another group was decided: the second
    undo finds its decision undone, and the other group's decision stands."""
    root = Visitor(await datasette(db), {"id": "root"})
    beach, photo = group_of(db, photos["beach"]), group_of(db, photos["photo"])
    first = (await root.post("/-/shashin/not-duplicates", {"group": beach})).json()
    undo = {"decision": first["undo"]["decision"]}
    assert (await root.post("/-/shashin/undo", undo)).json()["ok"]
    await root.post("/-/shashin/not-duplicates", {"group": photo})
    again = await root.post("/-/shashin/undo", undo)
    assert again.status_code == 409 and "undone already" in again.json()["summary"]
    assert Store(db).decisions(photo)[0]["undone_at"] is None
    assert Store(db).decisions(beach)[0]["undone_at"] is not None


async def test_table_view_renders_thumbnails(db, photos):
    response = await Visitor(await datasette(db)).get("/shashin/thumbnails")
    assert response.status_code == 200 and 'src="data:image/jpeg;base64,' in response.text


@pytest.mark.parametrize("private", ["instance", "database"])
async def test_private_instance_stays_private(db, photos, private):
    root_only = {"allow": {"id": "root"}}
    ds = await datasette(db, **(root_only if private == "instance" else {"databases": {db.stem: root_only}}))
    content = md5(photos["photo"])
    for path in (
        "/-/shashin",
        "/-/shashin/trash",
        "/-/shashin/thumbnail/{}.jpg".format(content),
        "/-/shashin/image/" + content,
    ):
        assert (await Visitor(ds).get(path)).status_code == 403, path
    assert (await Visitor(ds, {"id": "root"}).get("/-/shashin")).status_code == 200


async def test_database_write_failure_is_a_message_and_file_stays(db, photos):
    root = Visitor(await datasette(db), {"id": "root"})
    group = group_of(db, photos["photo"])
    # The journal write fails inside SQLite, as it does on a full disk.
    Store(db).db.execute(
        "create trigger full before insert on trash begin select raise(abort, 'database or disk is full'); end"
    )
    response = await root.post("/-/shashin/remove", {"group": group, "member": key(photos["backup"])})
    assert response.status_code == 409
    assert "database or disk is full" in response.json()["messages"][0]
    assert os.path.exists(photos["backup"])


async def test_in_place_answers_carry_the_group_and_its_undo(db, photos):
    root = Visitor(await datasette(db), {"id": "root"})
    group = group_of(db, photos["photo"])
    removed = (await root.post("/-/shashin/remove", {"group": group, "member": key(photos["backup"])})).json()
    assert removed["summary"].startswith("Moved 1 file (") and removed["undo"] == {"batch": removed["batch"]}
    # Two copies are left: the group is still to review, shown with its two members.
    fragment = removed["html"][str(group)]
    assert fragment.count('<figure class="shashin-member') == 2 and "shashin-done" not in fragment
    assert "2 groups to review" in (await root.get("/-/shashin")).text
    kept = (await root.post("/-/shashin/remove", {"group": group, "keep": key(photos["photo"])})).json()
    assert "kept the chosen copy" in kept["summary"] and "shashin-done" in kept["html"][str(group)]
    assert "Done: kept <strong>photo.jpg</strong>" in kept["html"][str(group)]
    assert "1 group to review" in (await root.get("/-/shashin")).text
    # Undone newest first: each answer brings the group back as it was before.
    back = (await root.post("/-/shashin/undo", kept["undo"])).json()
    assert back["ok"] and back["html"][str(group)].count('<figure class="shashin-member') == 2
    assert os.path.exists(photos["photo copy"]) and not os.path.exists(photos["backup"])
    await root.post("/-/shashin/undo", removed["undo"])
    assert os.path.exists(photos["backup"]) and Store(db).decided_groups() == set()
    again = (await root.post("/-/shashin/undo", removed["undo"])).json()
    assert not again["ok"] and again["summary"].startswith("Nothing restored")
    # Nothing ticked: nothing moves, and the answer says what to do.
    nothing = await root.post("/-/shashin/remove", {"group": group})
    assert nothing.status_code == 409 and "tick the copies" in nothing.json()["summary"]


async def test_undo_not_duplicates_regroups_only_what_it_held_apart(db, photos):
    root = Visitor(await datasette(db), {"id": "root"})
    group = group_of(db, photos["beach"])
    pair = tuple(sorted([md5(photos["beach"]), md5(photos["beach-small"])]))
    earlier = await root.post(
        "/-/shashin/remove", {"group": group_of(db, photos["photo"]), "member": key(photos["backup"])}
    )
    marked = (await root.post("/-/shashin/not-duplicates", {"group": group})).json()
    assert Store(db).not_duplicates() == {pair} and "shashin-done" in marked["html"][str(group)]
    undone = (await root.post("/-/shashin/undo", marked["undo"])).json()
    assert undone["ok"] and "shashin-done" not in undone["html"][str(group)]
    store = Store(db)
    assert store.not_duplicates() == set() and [d["undone_at"] is not None for d in store.decisions(group)] == [True]
    # The earlier, unrelated removal stays as it was.
    assert earlier.json()["ok"] and not os.path.exists(photos["backup"])
    # A pair the command line also holds apart stays apart.
    store.add_not_duplicates(list(pair), source="cli")
    marked = (await root.post("/-/shashin/not-duplicates", {"group": group})).json()
    await root.post("/-/shashin/undo", marked["undo"])
    assert store.not_duplicates() == {pair}


async def test_sort_and_filter(db, photos):
    visitor = Visitor(await datasette(db))
    by_savings = (await visitor.get("/-/shashin")).text
    assert by_savings.index("shashin-exact") < by_savings.index("shashin-similar")
    assert "1 of 2" in by_savings and "2 of 2" in by_savings
    by_folder = (await visitor.get("/-/shashin?sort=folder")).text  # backup/ sorts before beach.jpg
    assert by_folder.index("shashin-exact") < by_folder.index("shashin-similar")
    in_backup = await visitor.get("/-/shashin?folder=" + os.path.dirname(photos["backup"]) + "/")
    assert "1 group to review" in in_backup.text and "shashin-exact" in in_backup.text
    none = await visitor.get("/-/shashin?folder=/nowhere&kind=similar")
    assert "No group to review of similar copies in /nowhere" in none.text
    # Least sure first: the group whose suggested keeper the model is least sure of; unranked groups last.
    beach = group_of(db, photos["beach"])
    Store(db).save_ranks(
        [
            {
                "path": photos["beach"],
                "group_id": beach,
                "rank": 1,
                "keep_probability": 0.6,
                "reasons": [],
                "sureness": 0.6,
            },
            {
                "path": photos["beach-small"],
                "group_id": beach,
                "rank": 2,
                "keep_probability": 0.4,
                "reasons": [],
                "sureness": 0.6,
            },
        ]
    )
    unsure = (await visitor.get("/-/shashin?sort=unsure")).text
    assert unsure.index("shashin-similar") < unsure.index("shashin-exact")
    for sort in ("date", "size"):
        assert (await visitor.get("/-/shashin?sort=" + sort)).text.count('<section class="shashin-group') == 2
    # A link to one group (from the images table) goes to the page holding it, or shows it alone when decided.
    linked = await visitor.get("/-/shashin?group={}".format(beach))
    assert linked.status_code == 302 and linked.headers["location"] == "/-/shashin?#group-{}".format(beach)
    await Visitor(visitor.ds, {"id": "root"}).post("/-/shashin/not-duplicates", {"group": beach})
    alone = (await visitor.get("/-/shashin?group={}".format(beach))).text
    assert "not on the list" in alone and alone.count('<section class="shashin-group') == 1


async def test_empty_and_unscanned_databases_say_what_to_run(tmp_path):
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    page = await Visitor(await datasette(empty)).get("/-/shashin")
    assert page.status_code == 200 and "shashin-scan ~/Pictures --db " + str(empty) in page.text
    scanned = tmp_path / "scanned.db"
    Store(scanned).close()
    page = await Visitor(await datasette(scanned)).get("/-/shashin")
    assert page.status_code == 200 and "No photos scanned yet" in page.text


async def test_another_programs_database_served_first_is_not_taken_for_shashins(db, photos, tmp_path):
    """`datasette other.db shashin.db`, other.db with an ``images`` table of its own: every route acts on
    shashin's database, and other.db's cells are left to Datasette."""
    other = tmp_path / "other.db"
    with contextlib.closing(sqlite3.connect(other)) as conn:
        conn.execute("create table images (path text primary key, md5 text, mtime real, size int, metadata text)")
        conn.execute("insert into images values ('/x.jpg', ?, 1434925322.0, 12, 'not json')", ["0" * 32])
        conn.commit()
    ds = Datasette([str(other), str(db)])
    await ds.invoke_startup()
    root = Visitor(ds, {"id": "root"})
    group = group_of(db, photos["beach"])
    for path in ("/-/shashin", "/-/shashin/trash", "/-/shashin/compare/{}".format(group), "/-/shashin/rules"):
        response = await root.get(path)
        assert response.status_code == 200, path
    assert (await root.get("/-/shashin/image/" + md5(photos["beach"]))).status_code == 200
    removed = await root.post("/-/shashin/remove", {"group": group, "member": key(photos["beach-small"])})
    assert removed.json()["ok"] and not os.path.exists(photos["beach-small"])
    assert (await root.post("/-/shashin/undo", removed.json()["undo"])).json()["ok"]
    cells = await root.get("/other/images")
    assert cells.status_code == 200 and "shashin/thumbnail" not in cells.text and "1434925322.0" in cells.text
    assert "/-/shashin/thumbnail/{}.jpg".format(md5(photos["beach"])) in (await root.get("/shashin/images")).text
    # Served alone, another program's database is no shashin database: one sentence, not a 500.
    alone = Datasette([str(other)])
    await alone.invoke_startup()
    response = await Visitor(alone).get("/-/shashin/trash")
    assert response.status_code == 404 and "no shashin database" in response.text


async def test_review_page_one_click_from_home_and_database_page(db, photos):
    visitor = Visitor(await datasette(db), {"id": "root"})
    for path in ("/", "/" + db.stem):
        assert 'class="shashin-home" href="/-/shashin"' in (await visitor.get(path)).text, path
    banner = (await Visitor(await datasette(db)).get("/-/shashin")).text
    assert "datasette {} --root".format(db) in banner


async def test_another_database_served_beside_it_is_never_written(db, photos, tmp_path):
    """Even with an ``images`` table of its own, a second database gets none of shashin's tables."""
    other = tmp_path / "other.db"
    with contextlib.closing(sqlite3.connect(other)) as conn:
        conn.execute("create table images (path text primary key, mtime text)")
    ds = Datasette([str(db), str(other)])
    await ds.invoke_startup()
    assert (await Visitor(ds, {"id": "root"}).get("/-/shashin")).status_code == 200
    with contextlib.closing(sqlite3.connect(other)) as conn:
        assert [name for (name,) in conn.execute("select name from sqlite_master where type = 'table'")] == ["images"]
