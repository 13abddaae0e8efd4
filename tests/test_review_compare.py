"""The compare view: its page and converted photos through Datasette's client (0.65 and 1.0), and in
headless chromium zoom, pan, pinch, flicker and the difference of a rotated copy; files checked on disk."""

import asyncio
import contextlib
import html
import json
import os
import re

import exiftool
import pytest
from playwright.sync_api import expect
from wand.image import Image

from browser import chromium, needs_chromium, signed_in_page
from conftest import fresh_copy, group_of, make_photo, md5, run, scanned_template
from review_client import Visitor, datasette
from shashin import trash
from shashin.ranking.preferences import keeper_first
from shashin.store import Store

UPRIGHT, TURNED, MIRRORED, TIFF = "photo.jpg", "photo turned.jpg", "photo mirrored.jpg", "photo.tif"
RAW = "IMG_0001.NEF"


def compare_library(folder):
    """A photo with three copies: turned a quarter clockwise, mirrored left-right, and a TIFF (which a
    browser cannot show); beach.jpg with a smaller copy; and a stand-in RAW file, alone."""
    original = make_photo(folder / UPRIGHT, 0)
    for name, change in ((TURNED, lambda image: image.rotate(90)), (MIRRORED, Image.flop), (TIFF, None)):
        with Image(filename=str(original)) as image:
            if change:
                change(image)
            image.save(filename=str(folder / name))
    make_photo(folder / "beach.jpg", 1)
    make_photo(folder / "beach-small.jpg", 1, 320, 240)
    raw_stand_in(folder / RAW, make_photo(folder.parent / "preview.jpg", 2, 160, 120))


def raw_stand_in(path, preview):
    """A RAW file as far as shashin can tell (no RAW encoder exists): TIFF-structured, a JPEG preview
    embedded, turned by its Orientation tag (6: a quarter clockwise)."""
    with exiftool.ExifToolHelper() as tool:
        tool.execute("-overwrite_original", "-Orientation#=6", "-ThumbnailImage<={}".format(preview), str(preview))
        path.write_bytes(tool.execute("-b", "-EXIF", str(preview), raw_bytes=True))


@pytest.fixture(scope="module")
def compare_template(tmp_path_factory):
    return scanned_template(tmp_path_factory, "compare", compare_library)


@pytest.fixture
def duplicates(compare_template):
    """This module's library in place of conftest's (the browser's server fixture serves it too)."""
    db, folder = fresh_copy(compare_template)
    return db, {name: str(folder / name) for name in os.listdir(folder)}


@pytest.fixture
def db(duplicates):
    return duplicates[0]


def group_url(db, photos):
    return "/-/shashin/compare/{}".format(group_of(db, photos[UPRIGHT]))


def panes(page_html):
    """``(names, turns)`` of a compare page: its copies' names in order and the orientations between them."""
    names = re.findall(r'<strong class="shashin-copy-name">([^<]+)</strong>', page_html)
    turns = json.loads(html.unescape(re.search(r'data-turns="([^"]+)"', page_html).group(1)))
    return names, turns


def longest_edge(jpeg):
    with Image(blob=jpeg) as image:
        assert image.format == "JPEG"
        return max(image.size)


# Through Datasette's own client, on both versions


@pytest.mark.asyncio
async def test_every_copy_keeper_first_with_the_turn_between_each_pair(db, photos):
    response = await Visitor(await datasette(db)).get(group_url(db, photos))
    assert response.status_code == 200
    names, turns = panes(response.text)
    with contextlib.closing(Store(db)) as store:
        members = store.review_members([group_of(db, photos[UPRIGHT])])[group_of(db, photos[UPRIGHT])]
    assert names == [os.path.basename(member["path"]) for member in keeper_first(members)]
    assert sorted(names) == sorted([UPRIGHT, TURNED, MIRRORED, TIFF])
    at = names.index
    # Turned a quarter clockwise: a quarter counter-clockwise (1) undoes it; the mirror undoes itself (4).
    assert turns[at(TURNED)][at(UPRIGHT)] == 1 and turns[at(UPRIGHT)][at(TURNED)] == 3
    assert turns[at(MIRRORED)][at(UPRIGHT)] == 4 == turns[at(UPRIGHT)][at(MIRRORED)]
    assert turns[at(TIFF)][at(UPRIGHT)] == 0
    assert response.text.count("640 × 480") == 3 and response.text.count("480 × 640") == 1
    assert "suggested keeper" in response.text
    assert "TIFF, converted to JPEG for the browser" in response.text
    size = os.path.getsize(photos[TURNED])
    assert "{:,} bytes".format(size) in response.text


@pytest.mark.asyncio
async def test_a_converted_photo_is_scaled_to_the_edge_asked_and_checked_on_disk_each_time(db, photos):
    visitor = Visitor(await datasette(db))
    url = "/-/shashin/image/{}".format(md5(photos[TIFF]))
    small = await visitor.get(url + "?edge=300")
    assert small.status_code == 200 and small.headers["content-type"] == "image/jpeg"
    assert longest_edge(small.content) == 512  # the edge asked, rounded up to a step
    assert longest_edge((await visitor.get(url + "?edge=100000")).content) == 640  # never scaled up
    assert longest_edge((await visitor.get(url)).content) == 640
    for wrong in ("abc", "0", "-5", str(2**64)):
        assert (await visitor.get(url + "?edge=" + wrong)).status_code == 400, wrong
    # A JPEG is sent as it is, whatever the edge.
    jpeg = await visitor.get("/-/shashin/image/{}?edge=512".format(md5(photos[UPRIGHT])))
    assert jpeg.content == open(photos[UPRIGHT], "rb").read()
    # The conversion kept in memory is sent only while a file holds that content.
    with open(photos[TIFF], "r+b") as tiff:
        tiff.seek(-1, os.SEEK_END)
        last = tiff.read(1)
        tiff.seek(-1, os.SEEK_END)
        tiff.write(bytes([last[0] ^ 0xFF]))
    assert (await visitor.get(url + "?edge=300")).status_code == 404
    os.unlink(photos[TIFF])
    assert (await visitor.get(url + "?edge=300")).status_code == 404


@pytest.mark.asyncio
async def test_a_raw_file_is_shown_from_its_embedded_preview_upright(db, photos):
    response = await Visitor(await datasette(db)).get("/-/shashin/image/{}?edge=512".format(md5(photos[RAW])))
    assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"
    with Image(blob=response.content) as image:
        assert image.size == (120, 160)


@pytest.mark.asyncio
async def test_a_group_gone_or_with_one_copy_left_says_so_with_a_link_back(db, photos, open_store):
    visitor = Visitor(await datasette(db))
    gone = await visitor.get("/-/shashin/compare/999999")
    assert gone.status_code == 404
    assert "Group 999999 no longer exists" in gone.text and 'href="/-/shashin"' in gone.text
    beach = group_of(db, photos["beach.jpg"])
    assert (await visitor.get("/-/shashin/compare/{}".format(beach))).status_code == 200
    trash.remove(open_store(db), beach, [photos["beach-small.jpg"]])
    assert not os.path.exists(photos["beach-small.jpg"])
    alone = await visitor.get("/-/shashin/compare/{}".format(beach))
    assert alone.status_code == 404
    assert "has one copy in place now: there is nothing to compare it with" in alone.text
    assert (await visitor.get("/-/shashin/compare/{}".format(2**63))).status_code == 400


@pytest.mark.asyncio
async def test_a_private_instance_keeps_the_compare_view_private(db, photos):
    ds = await datasette(db, allow={"id": "root"})
    url = group_url(db, photos)
    assert (await Visitor(ds).get(url)).status_code == 403
    assert (await Visitor(ds, {"id": "root"}).get(url)).status_code == 200


@pytest.mark.asyncio
async def test_the_conversion_runs_off_the_event_loop(db, photos):
    """While a large TIFF converts, the server answers other requests."""
    visitor = Visitor(await datasette(db))
    with Image(filename=photos[TIFF]) as image:
        image.resize(4000, 3000)
        image.save(filename=photos[TIFF])
    run("shashin-hash", "--db", db, "-q", photos[TIFF], check=0)
    converting = asyncio.ensure_future(visitor.get("/-/shashin/image/{}?edge=4096".format(md5(photos[TIFF]))))
    await asyncio.sleep(0.05)
    answered = await visitor.get("/-/versions.json")
    assert answered.status_code == 200 and not converting.done()
    assert longest_edge((await converting).content) == 4000


# In chromium


#: For each pane: the point of its photo at the centre of its view (fractions), and its zoom over fitting.
PANES_SEEN = """() => Array.from(document.querySelectorAll('.shashin-pane:not(.shashin-difference)'))
  .filter(pane => pane.offsetParent !== null).map(pane => {
    const view = pane.querySelector('.shashin-stage').getBoundingClientRect();
    const img = pane.querySelector('img').getBoundingClientRect();
    const width = Number(pane.dataset.width), height = Number(pane.dataset.height);
    const fit = Math.min(view.width / width, view.height / height) * width;
    return {name: pane.querySelector('.shashin-copy-name').textContent,
            x: (view.left + view.width / 2 - img.left) / img.width,
            y: (view.top + view.height / 2 - img.top) / img.height,
            zoom: img.width / fit};
  })"""

#: The mean of the difference canvas's pixels (0 black, 255 white), and the pair it shows.
DIFFERENCE = """() => {
  const canvas = document.querySelector('.shashin-difference canvas');
  const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let sum = 0;
  for (let i = 0; i < pixels.length; i += 4) sum += pixels[i] + pixels[i + 1] + pixels[i + 2];
  return {mean: sum / (pixels.length / 4 * 3), pair: canvas.dataset.pair, width: canvas.width, height: canvas.height};
}"""

#: Every photo shown has loaded (the others wait until they are shown).
LOADED = """() => Array.from(document.querySelectorAll('.shashin-pane img'))
  .filter(img => img.offsetParent !== null).every(img => img.complete && img.naturalWidth)"""
#: The photos the page fetched.
FETCHED = "performance.getEntriesByType('resource').map(entry => entry.name).filter(url => url.includes('/image/'))"


def expected_centre(keeper, name, x, y):
    """Where the keeper's content point (x, y) is in a copy (the turned copy is turned a quarter clockwise)."""
    upright = {TURNED: (y, 1 - x), MIRRORED: (1 - x, y)}.get(keeper, (x, y))
    return {TURNED: (1 - upright[1], upright[0]), MIRRORED: (1 - upright[0], upright[1])}.get(name, upright)


def assert_in_step(seen):
    keeper = seen[0]
    for pane in seen:
        assert pane["zoom"] == pytest.approx(keeper["zoom"], rel=0.01), seen
        expected = expected_centre(keeper["name"], pane["name"], keeper["x"], keeper["y"])
        assert (pane["x"], pane["y"]) == pytest.approx(expected, abs=0.01), seen


def open_compare(browser, sign_in, url, **context):
    page, errors = signed_in_page(browser, sign_in, url, **context)
    page.wait_for_function(LOADED)
    return page, errors


def choose_pair(page, name):
    """Press ] until the copy compared with the first is name."""
    for _ in range(4):
        if (
            page.locator(".shashin-pair")
            .inner_text()
            .startswith(
                "Comparing {} with {}".format(
                    page.locator(".shashin-pane.shashin-a .shashin-copy-name").inner_text(), name
                )
            )
        ):
            return
        page.keyboard.press("]")
    raise AssertionError("{} never became the pair".format(name))


@needs_chromium
def test_zoom_pan_flicker_and_the_aligned_difference_of_a_rotated_copy(server, duplicates, tmp_path):
    sign_in, base = server
    db, photos = duplicates
    before = {path: md5(path) for path in photos.values()}
    with chromium() as browser:
        page, errors = open_compare(
            browser, sign_in, base + group_url(db, photos), viewport={"width": 1440, "height": 900}
        )
        # The TIFF is shown, converted: chromium decodes no TIFF.
        tiff = page.locator(".shashin-pane[data-converted] img")
        assert tiff.evaluate("img => img.naturalWidth") == 640 and "?copy=" in tiff.get_attribute("src")
        assert "&edge=2048" in tiff.get_attribute("src")
        assert len(page.evaluate(PANES_SEEN)) == 4

        # Wheel over the top left of the first pane: every pane zooms to the same point of its copy.
        view = page.locator(".shashin-pane.shashin-a .shashin-stage").bounding_box()
        page.mouse.move(view["x"] + view["width"] * 0.3, view["y"] + view["height"] * 0.3)
        page.mouse.wheel(0, -400)
        seen = page.evaluate(PANES_SEEN)
        assert seen[0]["zoom"] > 1.5 and seen[0]["x"] < 0.49 and seen[0]["y"] < 0.49
        assert_in_step(seen)
        # Dragging any pane (here the turned one) pans them all.
        turned = page.locator(".shashin-pane", has_text=TURNED).locator(".shashin-stage").bounding_box()
        page.mouse.move(turned["x"] + 100, turned["y"] + 100)
        page.mouse.down()
        page.mouse.move(turned["x"] + 60, turned["y"] + 140, steps=4)
        page.mouse.up()
        moved = page.evaluate(PANES_SEEN)
        assert (moved[0]["x"], moved[0]["y"]) != pytest.approx((seen[0]["x"], seen[0]["y"]), abs=0.01)
        assert_in_step(moved)
        page.keyboard.press("+")
        assert page.evaluate(PANES_SEEN)[0]["zoom"] == pytest.approx(moved[0]["zoom"] * 1.5, rel=0.01)
        assert_in_step(page.evaluate(PANES_SEEN))
        page.keyboard.press("1")  # one photo pixel per screen pixel
        keeper = page.locator(".shashin-pane.shashin-a")
        width = int(keeper.get_attribute("data-width"))
        assert keeper.locator("img").bounding_box()["width"] == pytest.approx(width, abs=1)
        assert_in_step(page.evaluate(PANES_SEEN))
        page.keyboard.press("0")
        assert page.evaluate(PANES_SEEN)[0]["zoom"] == pytest.approx(1, rel=0.01)
        page.screenshot(path=str(tmp_path / "compare.png"))

        # The difference of the turned copy, turned back, is near black; as it is, it is not.
        # The pair: the turned copy and the upright photo, whichever is the keeper.
        keeper = page.locator(".shashin-pane.shashin-a .shashin-copy-name").inner_text()
        choose_pair(page, UPRIGHT if keeper == TURNED else TURNED)
        page.keyboard.press("x")
        expect(page.locator(".shashin-difference")).to_be_visible()
        drawn = "() => /,{}$/.test(document.querySelector('.shashin-difference canvas').dataset.pair || '')"
        page.wait_for_function(drawn.format("[13]"))  # turned a quarter one way or the other
        aligned = page.evaluate(DIFFERENCE)
        assert aligned["mean"] < 4, aligned
        page.screenshot(path=str(tmp_path / "difference.png"))
        page.keyboard.press("a")
        page.wait_for_function(drawn.format("0"))
        assert page.evaluate(DIFFERENCE)["mean"] > 25
        page.keyboard.press("a")
        # The mirrored copy, mirrored back, is near black too.
        choose_pair(page, MIRRORED)
        page.wait_for_function(drawn.format("[4-7]"))
        assert page.evaluate(DIFFERENCE)["mean"] < 4
        # The difference pane zooms like the others.
        fitted = page.locator(".shashin-difference canvas").bounding_box()
        page.keyboard.press("+")
        zoomed = page.locator(".shashin-difference canvas").bounding_box()
        assert zoomed["width"] == pytest.approx(fitted["width"] * 1.5, rel=0.01)

        # Flicker: the pair one at a time in the same place; space shows the other and stops alternating.
        page.keyboard.press("f")
        shown = page.locator(".shashin-pane.shashin-shown .shashin-copy-name")
        first = shown.inner_text()
        expect(shown).not_to_have_text(first, timeout=3000)  # it alternates by itself
        assert (
            page.locator(".shashin-pane.shashin-a").bounding_box()
            == page.locator(".shashin-pane.shashin-b").bounding_box()
        )
        page.keyboard.press(" ")
        now = shown.inner_text()
        page.wait_for_timeout(1600)
        assert shown.inner_text() == now
        page.keyboard.press("Tab")  # swap the pair
        expect(page.locator(".shashin-pane.shashin-a .shashin-copy-name")).to_have_text(MIRRORED)

        # Escape goes back to the review page, at this group.
        page.keyboard.press("Escape")
        page.wait_for_url(re.compile(r"/-/shashin(\?[^#]*)?#group-{}$".format(group_of(db, photos[UPRIGHT]))))
        assert errors == []
    assert {path: md5(path) for path in photos.values()} == before  # looking changes no file


@needs_chromium
def test_a_phone_pinches_and_drags_without_overflow(server, duplicates, tmp_path):
    sign_in, base = server
    db, photos = duplicates
    with chromium() as browser:
        page, errors = open_compare(
            browser,
            sign_in,
            base + group_url(db, photos),
            viewport={"width": 390, "height": 844},
            has_touch=True,
            is_mobile=True,
            device_scale_factor=3,
        )
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        # The pair only, one above the other; the other copies' photos are fetched once shown.
        seen = page.evaluate(PANES_SEEN)
        assert len(seen) == 2
        assert len(page.evaluate(FETCHED)) == 2
        a, b = (page.locator(".shashin-pane.shashin-" + which).bounding_box() for which in "ab")
        assert b["y"] >= a["y"] + a["height"] and a["x"] + a["width"] <= 390
        for control in page.locator(".shashin-compare-bar button, .shashin-back, .shashin-align").all():
            box = control.bounding_box()
            assert box["height"] >= 44 and box["width"] >= 44, control.inner_text()
            assert box["x"] >= 0 and box["x"] + box["width"] <= 390, control.inner_text()
        page.screenshot(path=str(tmp_path / "phone.png"), full_page=True)

        # A tap on the difference button shows the pair's difference, one on side by side the pair again.
        page.locator("[data-do=difference]").tap()
        expect(page.locator(".shashin-difference")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.locator("[data-do=side]").tap()
        expect(page.locator(".shashin-difference")).to_be_hidden()
        page.locator("[data-do=next]").tap()  # the next copy: its photo is fetched now
        page.wait_for_function("() => {}.length === 3".format(FETCHED))
        page.wait_for_function(LOADED)

        # Two fingers spread apart on the first pane: both panes zoom, in step.
        view = page.locator(".shashin-pane.shashin-a .shashin-stage").bounding_box()
        x, y = view["x"] + view["width"] / 2, view["y"] + view["height"] / 2
        touch = page.context.new_cdp_session(page)

        def fingers(kind, spread):
            points = [{"x": x - spread, "y": y, "id": 0}, {"x": x + spread, "y": y, "id": 1}]
            touch.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points if kind != "touchEnd" else []})

        fingers("touchStart", 20)
        for spread in (30, 45, 60, 80):
            fingers("touchMove", spread)
        fingers("touchEnd", 80)
        pinched = page.evaluate(PANES_SEEN)
        assert pinched[0]["zoom"] == pytest.approx(4, rel=0.1)
        assert_in_step(pinched)
        # One finger drags: both pan.
        touch.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y, "id": 0}]})
        for step in range(1, 5):
            point = {"x": x + 10 * step, "y": y + 5 * step, "id": 0}
            touch.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [point]})
        touch.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
        dragged = page.evaluate(PANES_SEEN)
        assert dragged[0]["x"] < pinched[0]["x"] and dragged[0]["y"] < pinched[0]["y"]
        assert_in_step(dragged)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert errors == []


@needs_chromium
def test_a_copy_gone_since_the_scan_says_so_in_its_pane(server, duplicates):
    sign_in, base = server
    db, photos = duplicates
    os.unlink(photos[MIRRORED])
    with chromium() as browser:
        page, errors = signed_in_page(
            browser, sign_in, base + group_url(db, photos), viewport={"width": 1440, "height": 900}
        )
        gone = page.locator(".shashin-pane", has_text=MIRRORED)
        expect(gone.locator(".shashin-unshown")).to_be_visible()
        expect(gone.locator(".shashin-unshown")).to_contain_text("gone since the scan")
        for other in (UPRIGHT, TURNED, TIFF):
            expect(page.locator(".shashin-pane", has_text=other).locator(".shashin-unshown")).to_be_hidden()
        choose_pair(page, MIRRORED)
        page.keyboard.press("x")
        expect(page.locator(".shashin-pair")).to_contain_text("There is no difference to draw")
        assert errors == []


@needs_chromium
def test_reached_from_the_review_page_with_one_key_or_one_tap(server, duplicates):
    sign_in, base = server
    db, photos = duplicates
    group = str(group_of(db, photos[UPRIGHT]))
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.goto(sign_in)
        page.goto(base + "/-/shashin")
        page.locator('.shashin-group[data-group="{}"] .shashin-group-head'.format(group)).click()  # its group
        page.keyboard.press("c")
        page.wait_for_url("**/-/shashin/compare/" + group)
        expect(page.locator(".shashin-pane:not(.shashin-difference)")).to_have_count(4)
        page.keyboard.press("b")
        page.wait_for_url(re.compile("#group-{}$".format(group)))
        page.locator('.shashin-group[data-group="{}"] a.shashin-compare'.format(group)).click()
        page.wait_for_url("**/-/shashin/compare/" + group)
