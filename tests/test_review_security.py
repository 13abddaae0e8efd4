"""The review server against a hostile web page and a hostile folder: the Host of every route, a photo
served only as the content it was scanned as, integers from URLs and forms kept in range."""

import html
import os
import re
import threading
import time
from pathlib import Path

import pytest
from datasette.app import Datasette

from conftest import group_of, md5
from review_client import Visitor, datasette, key, md5_of_recorded
from shashin.store import Store

pytestmark = pytest.mark.asyncio


@pytest.fixture
def db(duplicates):
    return duplicates[0]


#: Host headers a DNS-rebinding page (or a confused parser) could send.
FOREIGN_HOSTS = [
    "evil.example",
    "evil.example:8001",
    "192.168.1.20:8001",
    "[::1]evil.example",
    "localhost:80@evil.example",
    "user@localhost",
    "localhost:abc",
    "localhost:",
    "localhost:99999",
    "localhost.evil.example",
    "127.0.0.1.evil.example",
    "127.1",
    "[::1",
    "[::ffff:7f00:1]",
    "localhost/evil",
    "",
]
LOCAL_HOSTS = ["localhost", "LOCALHOST:8001", "127.0.0.1:8001", "127.0.0.2", "[::1]", "[::1]:8001"]
BIGGEST = 2**63 - 1
HUGE = "99999999999999999999"


def datasette_routes(db, photos):
    """A page, a table as JSON, a thumbnail BLOB download and the plugin's pages and files."""
    content = md5(photos["photo"])
    database = Path(db).stem
    return [
        "/",
        "/{}/images.json".format(database),
        "/{}/thumbnails/{}.blob?_blob_column=jpeg".format(database, content),
        "/-/shashin",
        "/-/shashin/trash",
        "/-/shashin/thumbnail/{}.jpg".format(content),
        "/-/shashin/image/" + content,
    ]


async def test_every_route_refuses_a_foreign_host(db, photos):
    visitor = Visitor(await datasette(db), {"id": "root"})
    routes = datasette_routes(db, photos)
    group = group_of(db, photos["photo"])
    for host in FOREIGN_HOSTS:
        for path in routes:
            response = await visitor.get(path, headers={"host": host})
            assert response.status_code == 403, (host, path)
            assert response.headers["content-type"].startswith("text/plain") and response.text.count("\n") == 1
            assert photos["photo"] not in response.text
        form = {"group": group, "member": key(photos["backup"])}
        removal = await visitor.post("/-/shashin/remove", form, headers={"host": host})
        assert removal.status_code == 403 and os.path.exists(photos["backup"]), host


async def test_local_hosts_answered(db, photos):
    visitor = Visitor(await datasette(db), {"id": "root"})
    for host in LOCAL_HOSTS:
        for path in datasette_routes(db, photos):
            assert (await visitor.get(path, headers={"host": host})).status_code == 200, (host, path)


async def test_several_host_headers_refused(db, photos):
    ds = await datasette(db)
    for hosts in (["localhost", "evil.example"], ["evil.example", "localhost"], ["localhost", "localhost"]):
        headers = [("host", host) for host in hosts]
        response = await ds.client.get("/{}/images.json".format(Path(db).stem), headers=headers)
        assert response.status_code == 403, hosts


async def test_allowed_hosts_setting(db, photos):
    visitor = Visitor(await datasette(db, {"allowed_hosts": ["Photos.lan"]}))
    for path in datasette_routes(db, photos):
        assert (await visitor.get(path, headers={"host": "photos.lan:8001"})).status_code == 200, path
        assert (await visitor.get(path, headers={"host": "localhost"})).status_code == 200, path
    for host in ("photos.lan.evil.example", "photos.lan@evil.example", "evil.example"):
        assert (await visitor.get("/-/shashin", headers={"host": host})).status_code == 403, host


async def test_lifespan_passes_the_host_check(db):
    app = (await datasette(db)).app()
    messages = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent = []

    async def receive():
        return messages.pop(0)

    async def send(message):
        sent.append(message["type"])

    await app({"type": "lifespan"}, receive, send)
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


async def test_photo_folder_flipped_to_a_link_never_serves_what_the_link_reaches(db, photos, tmp_path):
    """A thread swaps the folder of the first recorded copy for a link to a folder holding a secret
    of the same name and size, and back, while the image route is asked for that photo.

    Before the image route opened files without following links, 136 to 202 of these 300
    responses were the secret.
    """
    folder, aside = os.path.dirname(photos["backup"]), os.path.dirname(photos["backup"]) + ".real"
    wanted = open(photos["backup"], "rb").read()
    planted = tmp_path / "planted"
    planted.mkdir()
    (planted / "photo.jpg").write_bytes((b"SECRET " * len(wanted))[: len(wanted)])
    visitor = Visitor(await datasette(db))
    stop, flips = threading.Event(), []

    def flip():
        while not stop.is_set():
            os.rename(folder, aside)
            os.symlink(planted, folder)
            time.sleep(0.001)  # linked for a while too, not only in passing
            os.unlink(folder)
            os.rename(aside, folder)
            flips.append(1)

    flipper = threading.Thread(target=flip)
    flipper.start()
    try:
        responses = [await visitor.get("/-/shashin/image/" + md5(photos["photo"])) for _ in range(300)]
    finally:
        stop.set()
        flipper.join()
    assert len(flips) > 10
    assert not [response for response in responses if b"SECRET" in response.content]
    # Another copy of the same content is always there to serve.
    assert all(response.status_code == 200 and response.content == wanted for response in responses)


async def test_photo_rewritten_since_the_scan_is_not_served_under_its_old_md5(db, photos):
    scanned = md5_of_recorded(db, photos["beach"])
    before = os.stat(photos["beach"])
    rewritten = bytearray(open(photos["beach"], "rb").read())
    rewritten[-200:-2] = bytes(198)
    Path(photos["beach"]).write_bytes(rewritten)
    os.utime(photos["beach"], ns=(before.st_atime_ns, before.st_mtime_ns))
    response = await Visitor(await datasette(db)).get("/-/shashin/image/" + scanned)
    assert response.status_code == 404 and bytes(rewritten) not in response.content


async def test_a_copy_rewritten_since_the_scan_never_shows_another_copys_pixels_under_its_name(db, photos):
    """photo.jpg, "photo copy.jpg" and backup/photo.jpg hold one content; photo.jpg is rewritten since.
    Its pane in the compare view (and its card's full image) must not show the others' bytes."""
    scanned = md5_of_recorded(db, photos["photo"])
    other_copy = open(photos["photo copy"], "rb").read()
    Path(photos["photo"]).write_bytes(open(photos["beach"], "rb").read())
    visitor = Visitor(await datasette(db))
    group = group_of(db, photos["photo"])
    compare = (await visitor.get("/-/shashin/compare/{}".format(group))).text
    panes = re.findall(r'<img src="([^"]+)" alt="([^"]+)".*?"shashin-copy-folder">([^<]*)<', compare, re.S)
    assert len(panes) == 3
    for source, name, folder in panes:
        response = await visitor.get(html.unescape(source))
        if os.path.join(folder, name) == photos["photo"]:
            assert response.status_code == 404 and "changed since the scan" in response.text
        else:
            assert response.status_code == 200 and response.content == other_copy
    review = (await visitor.get("/-/shashin?group={}".format(group), follow_redirects=True)).text
    opened = re.findall(r'<a href="(/-/shashin/image/{}[^"]*)"'.format(scanned), review)
    assert len(opened) == 3 and len(set(opened)) == 3
    answers = [await visitor.get(html.unescape(link)) for link in opened]
    assert sorted(answer.status_code for answer in answers) == [200, 200, 404]
    # Asked by content alone, any copy still holding it answers.
    assert (await visitor.get("/-/shashin/image/" + scanned)).content == other_copy


async def test_photo_over_the_size_cap_is_refused_with_a_message(db, photos):
    content = md5(photos["beach"])
    Store(db).db.execute("update images set size = ? where md5 = ?", [(256 << 20) + 1, content])
    response = await Visitor(await datasette(db)).get("/-/shashin/image/" + content)
    assert response.status_code == 403 and "over 256 MB" in response.text


async def test_huge_page_numbers(db, photos):
    visitor = Visitor(await datasette(db), {"id": "root"})
    await visitor.post("/-/shashin/remove", {"group": group_of(db, photos["photo"]), "member": key(photos["backup"])})
    for page in ("/-/shashin", "/-/shashin/trash"):
        for number in (HUGE, str(BIGGEST + 1), "-1", "0", "abc", "1e3"):
            response = await visitor.get("{}?page={}".format(page, number))
            assert response.status_code == 400 and "page: give a whole number" in response.text, (page, number)
        # Past the end: the last page.
        last = await visitor.get("{}?page={}".format(page, BIGGEST), follow_redirects=True)
        assert last.status_code == 200 and "page {}".format(BIGGEST) not in last.text


@pytest.mark.parametrize("number", [HUGE, str(-BIGGEST - 2), "abc", "1.5"])
async def test_integers_out_of_range_in_forms_are_a_400(db, photos, number):
    root = Visitor(await datasette(db), {"id": "root"})
    counts = {"threshold": 0.95, "groups": 0, "files": 0, "bytes": 0}
    for path, form in (
        ("/-/shashin/remove", {"group": number, "member": key(photos["backup"])}),
        ("/-/shashin/remove", {"group": number, "keep": key(photos["photo"])}),
        ("/-/shashin/not-duplicates", {"group": number}),
        ("/-/shashin/restore", {"entry": number}),
        ("/-/shashin/undo", {"decision": number}),
        ("/-/shashin/undo", {"batch": "x", "shown": number}),
        *(("/-/shashin/accept", dict(counts, **{name: number})) for name in ("groups", "files", "bytes")),
    ):
        response = await root.post(path, form)
        assert response.status_code == 400 and response.text.count("\n") == 0, (path, form)
        assert "give a whole number" in response.text
    assert os.path.exists(photos["backup"]) and os.path.exists(photos["photo copy"])


async def test_largest_integers_in_forms_are_no_such_thing(db, photos):
    root = Visitor(await datasette(db), {"id": "root"})
    for path, form in (
        ("/-/shashin/remove", {"group": BIGGEST, "member": key(photos["backup"])}),
        ("/-/shashin/not-duplicates", {"group": BIGGEST}),
        ("/-/shashin/restore", {"entry": BIGGEST}),
        ("/-/shashin/undo", {"decision": BIGGEST}),
        ("/-/shashin/undo", {"batch": "no such removal"}),
        ("/-/shashin/accept", {"threshold": 0.95, "groups": BIGGEST, "files": BIGGEST, "bytes": BIGGEST}),
    ):
        response = await root.post(path, form)
        assert response.status_code == 409 and not response.json()["ok"], (path, response.text)
    assert os.path.exists(photos["backup"])


@pytest.mark.parametrize(
    "back",
    [
        "/-/shashin?sort=date\r\nSet-Cookie: evil=1",
        "/-/shashin/trash?q=a\nb",
        "/-/shashin?folder=a b",
        "/-/shashin?folder=caf\u00e9",
        "//evil.example/-/shashin",
        "https://evil.example/-/shashin",
        "/-/shashin/../../evil",
        "/-/shashin/rules",
        "",
    ],
)
async def test_a_back_that_is_not_a_page_of_the_plugin_returns_to_the_default(db, photos, back):
    """A plain form's return address ends up in the Location header: a CR or LF there dropped the connection."""
    root = Visitor(await datasette(db), {"id": "root"})
    plain_form = {"accept": "text/html"}
    for path, form, default in (
        ("/-/shashin/restore", {"entry": BIGGEST}, "/-/shashin/trash"),
        ("/-/shashin/not-duplicates", {"group": BIGGEST}, "/-/shashin"),
        ("/-/shashin/undo", {"batch": "no such removal"}, "/-/shashin"),
    ):
        response = await root.post(path, dict(form, back=back), headers=plain_form)
        assert response.status_code == 302 and response.headers["location"] == default, (path, back)
    # The page's script gets each group's HTML with its forms' back replaced too.
    group = group_of(db, photos["photo"])
    answer = await root.post("/-/shashin/remove", {"group": group, "member": key(photos["backup"]), "back": back})
    assert answer.json()["ok"] and 'name="back" value="/-/shashin"' in answer.json()["html"][str(group)]


async def test_a_back_to_a_page_of_the_plugin_is_kept(db, photos):
    root = Visitor(await datasette(db), {"id": "root"})
    for back in ("/-/shashin?sort=date&page=2", "/-/shashin/trash?q=IMG%20%C3%A9", "/-/shashin/trash"):
        response = await root.post("/-/shashin/restore", {"entry": BIGGEST, "back": back}, {"accept": "text/html"})
        assert response.status_code == 302 and response.headers["location"] == back
    # Under a base_url the pages and the default are its own.
    prefixed = Datasette([str(db)], settings={"base_url": "/photos/"})
    await prefixed.invoke_startup()
    root = Visitor(prefixed, {"id": "root"})
    for back, location in (
        ("/photos/-/shashin?page=2", "/photos/-/shashin?page=2"),
        ("/-/shashin", "/photos/-/shashin"),
    ):
        response = await root.post(
            "/-/shashin/not-duplicates", {"group": BIGGEST, "back": back}, {"accept": "text/html"}
        )
        assert response.status_code == 302 and response.headers["location"] == location


async def test_no_request_text_reaches_a_response_header_unescaped(db, photos):
    """Every parameter of every GET route given a CR LF and a header: answered (a 4xx or a page), and any
    redirect's Location is printable ASCII with no header of the request's making."""
    root = Visitor(await datasette(db), {"id": "root"})
    await root.post("/-/shashin/remove", {"group": group_of(db, photos["photo"]), "member": key(photos["backup"])})
    injected = "x%0D%0ASet-Cookie:%20evil=1"
    group, content = group_of(db, photos["beach"]), md5(photos["beach"])
    for path, names in (
        ("/-/shashin", ("sort", "kind", "folder", "group", "page")),
        ("/-/shashin/trash", ("q", "batch", "page")),
        ("/-/shashin/suggestions", ("threshold", "page")),
        ("/-/shashin/rules", ("criterion", "argument")),
        ("/-/shashin/rules/preview", ("criterion", "argument")),
        ("/-/shashin/compare/{}".format(group), ("back",)),
        ("/-/shashin/image/" + content, ("edge", "copy")),
    ):
        for name in names:
            response = await root.get("{}?{}={}&page=99".format(path, name, injected))
            assert response.status_code < 500 and "evil" not in response.headers.get("set-cookie", ""), (path, name)
            assert re.fullmatch("[!-~]*", response.headers.get("location", "")), (path, name)
