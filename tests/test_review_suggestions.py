"""Accepting shashin-rank's suggestions in bulk from the review page: preview, apply, undo, refusals."""

import json
import os
import re

import pytest

from conftest import copies, group_of, phone_library, reset_from, run
from review_client import Visitor, datasette
from shashin.store import Store

pytestmark = pytest.mark.asyncio

PHOTOS = 8
DECIDED = 5  # the fewest decided groups shashin-rank learns from


@pytest.fixture(scope="module")
def ranked_template(tmp_path_factory):
    """Photos from Camera/, each with a half-size WhatsApp/ copy and an Exports/ PNG, hashed and grouped
    for real; someone kept the Camera/ original of the first five, and shashin-rank learnt from it."""
    root = tmp_path_factory.mktemp("ranked")
    folder = (root / "Pictures").resolve()
    phone_library(folder, PHOTOS)
    db = root / "shashin.db"
    run("shashin-hash", "--db", db, "-q", folder, check=0)
    run("shashin-group", "--db", db, "-q", check=0)
    decisions = tmp_path_factory.mktemp("decisions") / "kept.jsonl"
    decisions.write_text(
        "".join(
            json.dumps({"kept": [c["camera"]], "deleted": [c["whatsapp"], c["exports"]]}) + "\n"
            for c in map(lambda n: copies(folder, n), range(DECIDED))
        )
    )
    result = run("shashin-rank", "--db", db, "--decisions", decisions, check=0)
    assert "the learned order (the rule's order) orders groups" in result.stderr
    Store(db).db.execute("pragma wal_checkpoint(truncate)")
    pristine = tmp_path_factory.mktemp("ranked-pristine")
    os.rename(folder, pristine / "Pictures")
    os.rename(db, pristine / "shashin.db")
    return root, pristine, folder


@pytest.fixture
def ranked(ranked_template):
    """A fresh copy of the ranked library at the same paths: ``(db, folder)``."""
    root, pristine, folder = ranked_template
    reset_from(pristine, root)
    return root / "shashin.db", folder


def undecided(folder):
    return [copies(folder, n) for n in range(DECIDED, PHOTOS)]


async def preview(visitor, threshold="0.95"):
    page = (await visitor.get("/-/shashin/suggestions?threshold=" + threshold)).text
    fields = dict(re.findall(r'<input type="hidden" name="(threshold|groups|files|bytes)" value="([^"]*)"', page))
    return page, fields


async def test_review_page_offers_it_to_those_who_may_delete(ranked):
    db, _ = ranked
    ds = await datasette(db)
    page = (await Visitor(ds, {"id": "root"}).get("/-/shashin")).text
    assert "Accept suggestions" in page and 'name="threshold" value="0.95"' in page
    # Each keeper's keep probability: the weight of the learned orders that keep it.
    assert "3 groups to review" in page and page.count("· 0.98</span>") == 3
    assert "Accept suggestions" not in (await Visitor(ds).get("/-/shashin")).text


async def test_preview_counts_groups_files_and_bytes(ranked):
    db, folder = ranked
    root = Visitor(await datasette(db), {"id": "root"})
    page, fields = await preview(root)
    removed = [c[kind] for c in undecided(folder) for kind in ("whatsapp", "exports")]
    size = sum(map(os.path.getsize, removed))
    assert fields == {"threshold": "0.95", "groups": "3", "files": "6", "bytes": str(size)}
    assert "<strong>3 groups</strong>" in page and "<strong>6 files</strong>" in page
    assert "{:.1f} kB".format(size / 1000) in page or "{:.1f} MB".format(size / 1e6) in page
    for c in undecided(folder):
        assert 'id="group-{}"'.format(group_of(db, c["camera"])) in page
        assert os.path.basename(c["whatsapp"]) in page
    assert all(map(os.path.exists, removed))  # a preview moves nothing
    none, fields = await preview(root, "0.999")
    assert "No undecided group has a suggested keeper" in none and fields == {}
    wrong, _ = await preview(root, "0.2")
    assert "the threshold is a keep probability from 0.5 to 1" in wrong


async def test_a_group_whose_sureness_is_below_the_threshold_is_left_out(ranked):
    """The trees may be sure of a keeper the learned orders are split on (ranks.sureness): not accepted in bulk."""
    db, folder = ranked
    store = Store(db)
    with store.db.conn:
        store.db.execute(
            "update ranks set sureness = 0.55 where group_id = ?", [group_of(db, undecided(folder)[0]["camera"])]
        )
    _, fields = await preview(Visitor(await datasette(db), {"id": "root"}))
    assert fields["groups"] == "2" and fields["files"] == "4"


async def test_accept_moves_every_group_as_one_batch_and_undo_restores_it(ranked):
    db, folder = ranked
    root = Visitor(await datasette(db), {"id": "root"})
    _, fields = await preview(root)
    response = await root.post("/-/shashin/accept", fields)
    result = response.json()
    assert response.status_code == 200 and result["ok"] and result["groups"] == 3 and result["removed"] == 6
    assert result["messages"][0].startswith("accepted the suggestions for 3 of 3 groups: 6 files")
    for c in undecided(folder):
        assert os.path.exists(c["camera"]) and not os.path.exists(c["whatsapp"]) and not os.path.exists(c["exports"])
    store = Store(db)
    assert {row["batch"] for row in store.db.query("select batch from trash")} == {result["batch"]}
    suggested = [d for d in store.decisions() if d["batch"] == result["batch"]]
    assert len(suggested) == 3 and {d["source"] for d in suggested} == {"suggestion"}
    assert len(store.keep_decisions()) == DECIDED  # ranking does not learn from its own suggestions
    assert "0 groups to review" in (await root.get("/-/shashin")).text
    trash_page = (await root.get("/-/shashin/trash")).text
    assert "6 files" in trash_page and "from 3 groups" in trash_page
    assert 'name="batch" value="{}"'.format(result["batch"]) in trash_page
    undo = await root.post("/-/shashin/restore", {"batch": result["batch"]})
    assert undo.json()["ok"] and len(undo.json()["messages"]) == 6
    assert all(os.path.exists(c[kind]) for c in undecided(folder) for kind in c)
    assert "3 groups to review" in (await root.get("/-/shashin")).text


async def test_undo_from_the_command_line_and_one_group_at_a_time(ranked):
    db, folder = ranked
    root = Visitor(await datasette(db), {"id": "root"})
    _, fields = await preview(root)
    batch = (await root.post("/-/shashin/accept", fields)).json()["batch"]
    first = undecided(folder)[0]
    entries = Store(db).db.execute(
        "select id from trash where original_path in (?, ?)", [first["whatsapp"], first["exports"]]
    )
    restored = await root.post("/-/shashin/restore", {"entry": [row[0] for row in entries.fetchall()]})
    assert restored.json()["ok"]
    # That group is back for review; the others stay accepted.
    page = (await root.get("/-/shashin")).text
    assert "1 group to review" in page and 'id="group-{}"'.format(group_of(db, first["camera"])) in page
    run("shashin-trash", "restore", "--batch", batch, "--db", db, check=0)
    assert all(os.path.exists(c[kind]) for c in undecided(folder) for kind in c)
    assert "3 groups to review" in (await root.get("/-/shashin")).text


async def test_an_unsafe_group_is_refused_and_the_others_go_on(ranked):
    db, folder = ranked
    root = Visitor(await datasette(db), {"id": "root"})
    _, fields = await preview(root)
    keeper_changed, copy_changed, fine = undecided(folder)
    for path in (keeper_changed["camera"], copy_changed["exports"]):
        with open(path, "ab") as handle:
            handle.write(b"edited since the scan")
    response = await root.post("/-/shashin/accept", fields)
    result = response.json()
    assert response.status_code == 409 and not result["ok"]
    assert result["groups"] == 2 and result["removed"] == 3
    assert "accepted the suggestions for 2 of 3 groups: 3 files" in result["messages"][0]
    refused = "group {}: refused: no other copy".format(group_of(db, keeper_changed["camera"]))
    assert any(message.startswith(refused) for message in result["messages"])
    assert any(copy_changed["exports"] + ": not removed: changed since it was scanned" in m for m in result["messages"])
    assert all(os.path.exists(path) for path in keeper_changed.values())
    assert os.path.exists(copy_changed["exports"]) and not os.path.exists(copy_changed["whatsapp"])
    assert not os.path.exists(fine["whatsapp"]) and not os.path.exists(fine["exports"])
    assert len(Store(db).trash_batch(result["batch"])) == 3


async def test_a_stale_preview_is_not_applied(ranked):
    db, folder = ranked
    root = Visitor(await datasette(db), {"id": "root"})
    _, fields = await preview(root)
    response = await root.post("/-/shashin/accept", dict(fields, files="5"))
    assert (
        response.status_code == 409
        and "changed since the preview (now 3 groups, 6 files)" in response.json()["messages"][0]
    )
    plain = await root.post("/-/shashin/accept", dict(fields, files="5"), headers={"accept": "text/html"})
    assert plain.status_code == 302 and plain.headers["location"] == "/-/shashin/suggestions?threshold=0.95"
    assert all(os.path.exists(c[kind]) for c in undecided(folder) for kind in c)


async def test_only_allowed_actors_local_and_with_csrf(ranked):
    db, folder = ranked
    ds = await datasette(db, {"allow_delete": {"id": "alice"}})
    alice = Visitor(ds, {"id": "alice"})
    _, fields = await preview(alice)
    for visitor in (Visitor(ds), Visitor(ds, {"id": "root"})):
        assert (await visitor.get("/-/shashin/suggestions")).status_code == 403
        assert (await visitor.post("/-/shashin/accept", fields)).status_code == 403
    assert (await alice.get("/-/shashin/suggestions", headers={"host": "evil.example"})).status_code == 403
    assert (await alice.post("/-/shashin/accept", fields, headers={"host": "evil.example"})).status_code == 403
    assert (await alice.post("/-/shashin/accept", fields, cross_site=True)).status_code == 403
    assert (await alice.get("/-/shashin/accept")).status_code == 405  # changes are POST requests
    assert all(os.path.exists(c[kind]) for c in undecided(folder) for kind in c)
    plain = await alice.post("/-/shashin/accept", fields, headers={"accept": "text/html"})
    assert plain.status_code == 302 and plain.headers["location"] == "/-/shashin/trash"
    assert not any(os.path.exists(c["whatsapp"]) for c in undecided(folder))


async def test_without_a_trained_model_it_says_so(duplicates):
    db, _ = duplicates
    run("shashin-rank", "--db", db, "-q", check=0)  # no decisions: the rule orders, without probabilities
    root = Visitor(await datasette(db), {"id": "root"})
    page = (await root.get("/-/shashin")).text
    assert "no trained model yet" in page and 'name="threshold"' not in page
    suggestions = (await root.get("/-/shashin/suggestions")).text
    assert "No trained model yet" in suggestions and "Move" not in suggestions
