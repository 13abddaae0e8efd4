"""The trash page: removals grouped with what they kept, restoring ticked files or a whole removal,
search by path, pages of removals, thumbnails kept through a rescan, phone width; files checked on disk."""

import contextlib
import datetime
import os
import re
import zoneinfo
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from browser import chromium, needs_chromium
from conftest import copies, fresh_copy, group_of, phone_library, run, scanned_template
from datasette_shashin import trash_page
from review_client import Visitor, datasette, key
from shashin import group_decisions, trash
from shashin.store import Store

PHOTOS = 4
#: Groups whose suggested keeper (the Camera/ original) is accepted in bulk; the others get single removals.
ACCEPTED = (2, 3)


@pytest.fixture(scope="module")
def phone_template(tmp_path_factory):
    """A phone's Camera/ photos, each with a WhatsApp/ copy and an Exports/ PNG, hashed and grouped for real."""
    return scanned_template(tmp_path_factory, "phone", lambda folder: phone_library(folder, PHOTOS))


@pytest.fixture
def duplicates(phone_template):
    """A fresh copy of the phone library at the same paths, ``(db, folder)``; the browser's server serves it."""
    return fresh_copy(phone_template)


def remove(db, path):
    """A single removal, as the review page makes one: one file of its group to the trash."""
    with contextlib.closing(Store(db)) as store:
        _, [outcome] = trash.remove(store, group_of(db, path), [path])
    assert outcome.ok


def accept(db, folder, numbers=ACCEPTED):
    """One acceptance of suggestions over these photos' groups: their Camera/ original kept; returns the batch."""
    with contextlib.closing(Store(db)) as store:
        suggestions = []
        for c in map(lambda n: copies(folder, n), numbers):
            others = store.images_by_path([c["whatsapp"], c["exports"]]).values()
            suggestions.append({"group": group_of(db, c["camera"]), "keep": c["camera"], "remove": list(others)})
        batch, accepted, outcomes = group_decisions.accept_suggestions(store, suggestions)
    assert accepted == len(numbers) and all(outcome.ok for outcome in outcomes)
    return batch


def removed_by_hand_and_in_bulk(db, folder):
    """Two single removals (photos 0 and 1), then one acceptance (photos 2 and 3): ``(copies, batch)``."""
    photos = [copies(folder, n) for n in range(PHOTOS)]
    remove(db, photos[0]["whatsapp"])
    remove(db, photos[1]["exports"])
    return photos, accept(db, folder)


async def removed_then_signed_in(duplicates):
    """The two single removals and the acceptance, then root on a Datasette over them: ``(db, photos, batch, root)``."""
    db, folder = duplicates
    photos, batch = removed_by_hand_and_in_bulk(db, folder)
    return db, photos, batch, Visitor(await datasette(db), {"id": "root"})


def entry_ids(db, *paths):
    with contextlib.closing(Store(db)) as store:
        sql = "select id from trash where original_path = ? and restored_at is null"
        return [store.db.execute(sql, [path]).fetchone()[0] for path in paths]


def sections(html):
    """The removals a trash page shows, in order, each as its HTML."""
    return re.findall(r'<section class="trash-removal".*?</section>', html, re.S)


# Through Datasette's own client, on both Datasettes


@pytest.mark.asyncio
async def test_removals_newest_first_with_what_they_kept(duplicates):
    db, photos, batch, root = await removed_then_signed_in(duplicates)
    html = (await root.get("/-/shashin/trash")).text
    bulk, second, first = sections(html)
    assert 'value="{}"'.format(batch) in bulk and "4 files" in bulk and "from 2 groups" in bulk
    for n in ACCEPTED:
        kept = bulk.index(os.path.basename(photos[n]["camera"]))
        assert bulk.rindex('class="trash-tile trash-kept"', 0, kept) > bulk.rindex("trash-group-head", 0, kept)
        assert os.path.basename(photos[n]["whatsapp"]) in bulk and os.path.basename(photos[n]["exports"]) in bulk
    assert "1 file," in first and "from group {}".format(group_of(db, photos[0]["camera"])) in first
    assert os.path.basename(photos[0]["whatsapp"]) in first and "IMG_0001.png" in second
    # Both copies that stayed are shown beside the one removed; each tile's thumbnail is there.
    assert first.count("trash-kept") == 2 and first.count("/-/shashin/thumbnail/") == 3
    assert trash.human_size(os.path.getsize(photos[0]["exports"])) in first  # a kept copy's size
    stamp = re.search(r'<time datetime="([^"]+)">([^<]+)</time>', first)
    when = datetime.datetime.fromisoformat(stamp.group(1))
    assert when.tzinfo is not None and stamp.group(2) == "{} {:%b %Y, %H:%M} UTC".format(when.day, when)
    assert "6 files, " in html and "frees" in html


@pytest.mark.asyncio
async def test_ticked_files_and_a_whole_removal_are_restored(duplicates):
    db, photos, batch, root = await removed_then_signed_in(duplicates)
    html = (await root.get("/-/shashin/trash")).text
    ticked = entry_ids(db, photos[0]["whatsapp"], photos[2]["exports"])
    assert all('name="entry" value="{}"'.format(entry) in html for entry in ticked)
    restored = await root.post("/-/shashin/restore", {"entry": ticked})
    assert restored.json()["ok"] and restored.json()["summary"] == "restored 2 files to where they came from"
    assert os.path.exists(photos[0]["whatsapp"]) and os.path.exists(photos[2]["exports"])
    gone = [photos[1]["exports"], photos[2]["whatsapp"], photos[3]["whatsapp"], photos[3]["exports"]]
    assert not any(map(os.path.exists, gone))
    html = (await root.get("/-/shashin/trash")).text
    assert len(sections(html)) == 2 and "Restore this removal: 3 files" in html
    undone = await root.post("/-/shashin/restore", {"batch": batch})
    assert undone.json()["ok"] and all(map(os.path.exists, gone[1:])) and not os.path.exists(gone[0])


@pytest.mark.asyncio
async def test_search_by_path(duplicates):
    db, photos, _, root = await removed_then_signed_in(duplicates)
    html = (await root.get("/-/shashin/trash?q=whatsapp")).text
    assert len(sections(html)) == 2 and "3 files (" in html and "have “whatsapp” in their path" in html
    assert "IMG_0001.png" not in html and "IMG_0002.png" not in html and "IMG-20190704-WA0003.jpg" in html
    # The whole removal is still what its button restores.
    assert "Restore this removal: 4 files" in html
    assert 'name="q" value="whatsapp"' in html and 'name="back" value="/-/shashin/trash?q=whatsapp"' in html
    for literal in ("%", "IMG%0", "\\"):  # like's wildcards and its escape match only themselves
        assert "No file in the trash has" in (await root.get("/-/shashin/trash?q=" + quote(literal))).text
    assert "1 file (" in (await root.get("/-/shashin/trash?q=G_0001.p")).text
    assert len(sections((await root.get("/-/shashin/trash?q=" + os.path.dirname(photos[0]["exports"]))).text)) == 2


@pytest.mark.asyncio
async def test_undo_after_the_trash_was_emptied_says_the_files_were_deleted_for_good(duplicates):
    db, folder = duplicates
    photo = copies(folder, 0)
    root = Visitor(await datasette(db), {"id": "root"})
    form = {"group": group_of(db, photo["camera"]), "member": [key(photo["whatsapp"]), key(photo["exports"])]}
    removed = (await root.post("/-/shashin/remove", form)).json()
    assert removed["ok"] and (await root.post("/-/shashin/empty", {})).json()["ok"]
    journal = journal_of(db)
    undone = await root.post("/-/shashin/undo", removed["undo"])
    assert undone.status_code == 409 and not undone.json()["ok"]
    assert undone.json()["summary"] == (
        "Nothing restored: 2 files of that removal were deleted for good when the trash was emptied,"
        " and cannot be restored."
    )
    assert journal_of(db) == journal and not os.path.exists(photo["whatsapp"])
    # Undone for real, a removal still says so.
    again = copies(folder, 1)
    form = {"group": group_of(db, again["camera"]), "member": key(again["whatsapp"])}
    removed = (await root.post("/-/shashin/remove", form)).json()
    assert (await root.post("/-/shashin/undo", removed["undo"])).json()["ok"]
    undone = (await root.post("/-/shashin/undo", removed["undo"])).json()
    assert undone["summary"] == "Nothing restored: that removal was undone already."


def journal_of(db):
    """The trash journal and the decisions, as they are."""
    with contextlib.closing(Store(db)) as store:
        return [list(store.db.query("select * from " + table)) for table in ("trash", "decisions", "decision_members")]


@pytest.mark.asyncio
async def test_a_search_holding_a_nul_character_is_a_400(duplicates):
    """SQLite's like stops at a NUL: '%\x00%' was '%', which listed every file in the trash."""
    _, _, _, root = await removed_then_signed_in(duplicates)
    for search in ("%00", "IMG%00", "%00whatsapp", "whatsapp%00"):
        response = await root.get("/-/shashin/trash?q=" + search)
        assert response.status_code == 400 and "IMG_0001.png" not in response.text, search
        assert "q: a search cannot hold a NUL character (no path holds one)" in response.text
    for search in ("%00", "IMG%00"):
        response = await root.get("/-/shashin/trash?batch=x&q=" + search)
        assert response.status_code == 400


@pytest.mark.asyncio
async def test_pages_of_removals_and_a_removal_of_many_groups(duplicates, monkeypatch):
    monkeypatch.setattr(trash_page, "REMOVALS_PER_PAGE", 2)
    monkeypatch.setattr(trash_page, "GROUPS_SHOWN", 1)
    monkeypatch.setattr(trash_page, "GROUPS_PER_PAGE", 1)
    _, _, batch, root = await removed_then_signed_in(duplicates)
    first = (await root.get("/-/shashin/trash")).text
    assert len(sections(first)) == 2 and "page 1 of removals" in first and 'href="?page=2"' in first
    assert "IMG_0002.jpg" in first and "IMG_0003.jpg" not in first  # the acceptance's first group only
    more = "/-/shashin/trash?batch=" + batch
    assert 'href="?batch={}"'.format(batch) in first and "See the other 1 group of this removal" in first
    second = (await root.get("/-/shashin/trash?page=2")).text
    assert len(sections(second)) == 1 and "IMG-20190704-WA0000.jpg" in second
    assert 'rel="prev" href="?"' in second and 'rel="next"' not in second
    past = await root.get("/-/shashin/trash?page=7&q=Pictures")
    assert past.status_code == 302 and past.headers["location"] == "/-/shashin/trash?q=Pictures&page=2"
    nothing = await root.get("/-/shashin/trash?page=3&q=nothing-here")
    assert nothing.status_code == 302 and nothing.headers["location"] == "/-/shashin/trash?q=nothing-here"
    other_group = (await root.get(more + "&page=2")).text
    assert "IMG_0003.jpg" in other_group and "IMG_0002.jpg" not in other_group and "page 2 of 2" in other_group


@pytest.mark.asyncio
async def test_visitors_who_may_not_change_see_no_controls(duplicates):
    db, folder = duplicates
    removed_by_hand_and_in_bulk(db, folder)
    html = (await Visitor(await datasette(db)).get("/-/shashin/trash")).text
    assert len(sections(html)) == 3
    assert 'name="entry"' not in html and 'name="batch"' not in html and "/-/shashin/empty" not in html


def test_a_rescan_keeps_the_thumbnails_of_files_in_the_trash(duplicates):
    db, folder = duplicates
    photos, _ = removed_by_hand_and_in_bulk(db, folder)
    trashed = photos[0]["whatsapp"]  # a content of its own: no other file keeps its thumbnail
    with contextlib.closing(Store(db)) as store:
        content = store.db.execute("select md5 from trash where original_path = ?", [trashed]).fetchone()[0]
    run("shashin-hash", "--db", db, "-q", "--prune", folder, folder, check=0)
    with contextlib.closing(Store(db)) as store:
        assert store.images_by_path([trashed]) == {} and store.thumbnail(content) is not None
        trash.empty(store)
    run("shashin-hash", "--db", db, "-q", "--prune", folder, folder, check=0)
    with contextlib.closing(Store(db)) as store:
        assert store.thumbnail(content) is None  # deleted for good: its thumbnail goes too


# In chromium


def overflow(page):
    """How many pixels wider than the window the page is."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def small_controls(page):
    """The visible buttons, search fields and summaries less than 44 px tall, and checkboxes under 24 px."""
    # Measured once the stylesheets apply: right after a form's redirect, the new page's DOM may be there first.
    page.wait_for_load_state("load")
    return page.evaluate(
        """() => Array.from(document.querySelectorAll(
              'section.content button, section.content input, section.content summary'))
            .filter(e => e.type !== 'hidden' && e.offsetParent !== null)
            .map(e => [e.outerHTML.slice(0, 80), e.getBoundingClientRect().height])
            .filter(([_, h]) => h < 43.5)
            .filter(([html, h]) => !(html.includes('checkbox') && h >= 24))"""
    )


@needs_chromium
def test_in_the_browser_after_an_acceptance_and_single_removals(server, duplicates):
    sign_in, base = server
    db, folder = duplicates
    photos = [copies(folder, n) for n in range(PHOTOS)]
    remove(db, photos[0]["whatsapp"])
    remove(db, photos[1]["exports"])
    with contextlib.closing(Store(db)) as store:
        store.save_ranks(
            [
                {
                    "path": c[kind],
                    "group_id": group_of(db, c["camera"]),
                    "rank": rank,
                    "keep_probability": p,
                    "sureness": 0.98,
                    "reasons": [],
                }
                for c in (photos[n] for n in ACCEPTED)
                for kind, rank, p in (("camera", 1, 0.98), ("whatsapp", 2, 0.01), ("exports", 3, 0.01))
            ]
        )
    with chromium() as browser:
        phone = browser.new_page(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
        errors = []
        phone.on("pageerror", lambda error: errors.append(str(error)))
        phone.goto(sign_in)
        phone.goto(base + "/-/shashin/suggestions?threshold=0.9")
        expect(phone.locator(".shashin-preview")).to_contain_text("2 groups, 4 files")
        assert overflow(phone) == 0 and small_controls(phone) == []
        phone.click("text=Move 4 files")  # the acceptance, from its page: the trash page opens
        expect(phone.locator(".trash-removal")).to_have_count(3)
        assert overflow(phone) == 0 and small_controls(phone) == []
        phone.goto(base + "/-/shashin/trash?q=WhatsApp")
        expect(phone.locator(".trash-found")).to_contain_text("3 files")
        assert overflow(phone) == 0 and small_controls(phone) == []
        assert errors == []

        desk = browser.new_context(
            viewport={"width": 1440, "height": 900}, timezone_id="America/New_York", locale="en-US"
        )
        desk.add_cookies(phone.context.cookies())  # signed in there: the sign-in link works once
        page = desk.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(base + "/-/shashin/trash")
        bulk = page.locator(".trash-removal").first
        expect(bulk).to_contain_text("4 files")
        expect(bulk).to_contain_text("from 2 groups")
        # The keeper of each accepted group, its thumbnail shown.
        for n in ACCEPTED:
            kept = bulk.locator(".trash-kept", has_text=os.path.basename(photos[n]["camera"]))
            expect(kept.locator("img")).to_have_js_property("complete", True)
            assert kept.locator("img").evaluate("img => img.naturalWidth") > 0
        # Times in the browser's zone.
        time = bulk.locator("time")
        when = datetime.datetime.fromisoformat(time.get_attribute("datetime"))
        local = when.astimezone(zoneinfo.ZoneInfo("America/New_York"))
        expect(time).to_contain_text("{}:{:%M}".format(local.hour % 12 or 12, local))
        expect(time).not_to_contain_text("UTC")

        # Search by path.
        page.fill("input[name=q]", "Exports")
        page.press("input[name=q]", "Enter")
        expect(page.locator(".trash-tile:not(.trash-kept)")).to_have_count(3)
        expect(page.locator(".trash-page")).not_to_contain_text("WA0000")
        page.goto(base + "/-/shashin/trash")

        # Tick two files of two removals: exactly those two come back.
        button = page.locator(".trash-restore-ticked")
        expect(button).to_be_disabled()
        page.locator("#entry-{}".format(entry_ids(db, photos[0]["whatsapp"])[0])).click()
        page.locator("#entry-{}".format(entry_ids(db, photos[3]["exports"])[0])).click()
        expect(button).to_have_text("Restore 2 ticked files")
        button.click()
        expect(page.locator(".trash-removal")).to_have_count(2)
        expect(page.locator(".trash-status")).to_have_text("restored 2 files to where they came from")
        assert page.evaluate("window.scrollY") > 0  # in place: the page stays where it was
        assert os.path.exists(photos[0]["whatsapp"]) and os.path.exists(photos[3]["exports"])
        gone = [photos[1]["exports"], photos[2]["whatsapp"], photos[2]["exports"], photos[3]["whatsapp"]]
        assert not any(map(os.path.exists, gone))

        # A rescan keeps the thumbnails of what is in the trash.
        run("shashin-hash", "--db", db, "-q", "--prune", folder, folder, check=0)
        page.reload()
        removed = page.locator(".trash-tile", has_text="IMG_0001.png").locator("img")
        removed.scroll_into_view_if_needed()
        expect(removed).to_have_js_property("complete", True)
        assert removed.evaluate("img => img.naturalWidth") > 0

        # Restore this removal, with a plain form (no script): the rest of the acceptance.
        plain = browser.new_context(java_script_enabled=False)
        plain.add_cookies(desk.cookies())
        page = plain.new_page()
        page.goto(base + "/-/shashin/trash")
        expect(page.locator("time").first).to_contain_text("UTC")
        page.locator(".trash-removal").first.locator(".trash-restore-removal").click()
        expect(page.locator(".trash-removal")).to_have_count(1)
        expect(page.locator(".message-info")).to_have_text("restored 3 files to where they came from")
        assert all(map(os.path.exists, gone[1:])) and not os.path.exists(gone[0])

        # Emptying is apart, and asks first: its button shows only once its disclosure is opened.
        with contextlib.closing(Store(db)) as store:
            [held] = [entry["trash_path"] for entry in store.trash_entries()]
        empty = page.locator(".shashin-empty button")
        expect(empty).to_be_hidden()
        page.click("text=Empty the trash…")
        expect(empty).to_have_text(re.compile("delete 1 file for good, frees"))
        assert os.path.exists(held)
        empty.click()
        expect(page.locator(".trash-nothing")).to_have_text("The trash is empty.")
        assert not os.path.exists(held) and os.path.exists(photos[1]["camera"])
        assert errors == []
