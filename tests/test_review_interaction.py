"""The review page's selection, actions in place and undo, as a person uses them in headless chromium;
every check of what happened looks at the files on disk and the database."""

import contextlib
import os
import re
import shutil
import sqlite3

import pytest
from playwright.sync_api import expect

from browser import chromium, needs_chromium, root_server, signed_in_page
from conftest import make_photo, reset_from, run

pytestmark = needs_chromium

#: Copies of the first photo in the first group; the other groups are pairs.
BIG_GROUP = 10
PAIRS = 4
SIGN_IN_HINT = "sign in with the link printed by"


@pytest.fixture(scope="module")
def library_template(tmp_path_factory):
    """A library of one group of ten byte-identical copies and four pairs (a photo and a smaller copy),
    hashed and grouped once."""
    root = tmp_path_factory.mktemp("review-library")
    pictures = root / "Pictures"
    first = make_photo(pictures / "big" / "copy0.jpg", 0)
    for number in range(1, BIG_GROUP):
        target = pictures / "big" / "copy{}.jpg".format(number)
        shutil.copy2(first, target)
    for pair in range(1, PAIRS + 1):
        width, height = 640 - pair * 40, 480 - pair * 30
        make_photo(pictures / "pair{}".format(pair) / "a.jpg", pair, width, height)
        make_photo(pictures / "pair{}".format(pair) / "b.jpg", pair, width // 2, height // 2)
    run("shashin-hash", "--db", root / "shashin.db", "-q", pictures, check=0)
    run("shashin-group", "--db", root / "shashin.db", "-q", check=0)
    with contextlib.closing(sqlite3.connect(root / "shashin.db")) as conn:
        conn.execute("pragma wal_checkpoint(truncate)")
    pristine = tmp_path_factory.mktemp("review-library-pristine")
    shutil.copytree(root, pristine, dirs_exist_ok=True)
    return root, pristine


@pytest.fixture
def library(library_template):
    """``(db, {folder name: [paths]})``, as made, with an empty trash."""
    root, pristine = library_template
    reset_from(pristine, root)
    pictures = root / "Pictures"
    return root / "shashin.db", {
        folder.name: sorted(str(path) for path in folder.iterdir()) for folder in pictures.iterdir()
    }


#: What sticks out of the window (photo rows scroll inside themselves).
OVERFLOWING = """Array.from(document.querySelectorAll('body *'))
  .filter(e => e.getBoundingClientRect().right > innerWidth && !e.closest('.shashin-members'))
  .map(e => e.tagName + '.' + e.className)"""


def query(db, sql):
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return conn.execute(sql).fetchall()


def file_of(card):
    """The path a member card shows."""
    return os.path.join(
        card.locator(".shashin-folder").inner_text().strip(), card.locator(".shashin-name").inner_text().strip()
    )


def test_one_selection_for_mouse_and_keyboard(library):
    db, folders = library
    everything = [path for paths in folders.values() for path in paths]
    with root_server(db) as (sign_in, base), chromium() as browser:
        page, errors = signed_in_page(browser, sign_in, base + "/-/shashin", viewport={"width": 900, "height": 700})
        groups = page.locator(".shashin-group")
        expect(groups).to_have_count(1 + PAIRS)
        expect(groups.nth(2).locator(".shashin-position")).to_have_text("3 of 5")

        # d on arrival: nothing is ticked, so nothing moves, and the page says what to do.
        page.keyboard.press("d")
        expect(page.locator(".shashin-feedback")).to_contain_text("Nothing ticked")
        assert all(map(os.path.exists, everything))

        # h/l in the ten-photo group: the outlined card is always inside the window.
        big = groups.first
        expect(big.locator(".shashin-member")).to_have_count(BIG_GROUP)
        for _ in range(BIG_GROUP - 1):
            page.keyboard.press("l")
        last = big.locator(".shashin-member").nth(BIG_GROUP - 1)
        expect(last).to_have_class(_has("shashin-focused"))
        expect(last).to_be_in_viewport(ratio=0.9)

        # Enter on the focused "Not duplicates" button of group 2 is that button's: nothing is removed.
        second = groups.nth(1)
        second.locator(".shashin-notdup").focus()
        page.keyboard.press("Enter")
        expect(groups.nth(1)).to_have_class(_has("shashin-done"))
        assert all(map(os.path.exists, everything))
        assert query(db, "select count(*) from trash") == [(0,)]
        assert query(db, "select action from decisions") == [("not_duplicates",)]
        assert query(db, "select count(*) from not_duplicates") == [(1,)]

        # u undoes that "not duplicates" (not some earlier removal): the pair and the decision go.
        page.locator("body").focus()
        page.keyboard.press("u")
        expect(page.locator(".shashin-feedback")).to_contain_text("Undone")
        expect(groups.nth(1)).not_to_have_class(_has("shashin-done"))
        assert query(db, "select count(*) from not_duplicates") == [(0,)]
        assert query(db, "select count(*) from decisions where undone_at is null") == [(0,)]

        # The keyboard is in group 1; ticking a photo of group 3 with the mouse makes group 3 current.
        page.keyboard.press("k")
        third = groups.nth(2)
        card = third.locator(".shashin-member").nth(1)
        target = file_of(card)
        card.locator("input[name=member]").click()
        expect(third).to_have_class(_has("shashin-focused"))
        page.keyboard.press("d")
        expect(third.locator(".shashin-feedback")).to_contain_text("Moved 1 file")
        assert not os.path.exists(target)
        assert [path for path in everything if not os.path.exists(path)] == [target]
        # Both pairs' groups stay on the page; the emptied one says what was kept, in place, without a reload.
        expect(groups).to_have_count(1 + PAIRS)
        expect(groups.nth(2)).to_have_class(_has("shashin-done"))
        page.locator(".shashin-feedback .shashin-undo").click()
        expect(page.locator(".shashin-feedback")).to_contain_text("Undone: 1 file")
        assert all(map(os.path.exists, everything))
        expect(groups.nth(2).locator(".shashin-member")).to_have_count(2)
        assert errors == []


def test_partial_delete_keeps_the_group_and_undo_goes_back_in_order(library):
    db, folders = library
    big = folders["big"]
    with root_server(db) as (sign_in, base), chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(sign_in)
        page.goto(base + "/-/shashin")
        group = page.locator(".shashin-group").first
        # Tick two of ten and delete: eight copies stay, and so does the group, after a reload too.
        page.keyboard.press("l")
        page.keyboard.press("x")
        page.keyboard.press("l")
        page.keyboard.press("x")
        page.keyboard.press("d")
        expect(group.locator(".shashin-feedback")).to_contain_text("Moved 2 files")
        expect(group.locator(".shashin-member")).to_have_count(BIG_GROUP - 2)
        assert sum(map(os.path.exists, big)) == BIG_GROUP - 2
        page.reload()
        expect(page.locator(".shashin-group").first.locator(".shashin-member")).to_have_count(BIG_GROUP - 2)
        expect(page.locator(".shashin-summary")).to_contain_text("5 groups to review")

        # Keep the outlined photo: the rest go, the group is done; then undo twice, newest first.
        page.keyboard.press("Enter")
        expect(group).to_have_class(_has("shashin-done"))
        expect(page.locator(".shashin-summary")).to_contain_text("4 groups to review")
        assert sum(map(os.path.exists, big)) == 1
        page.keyboard.press("u")
        expect(page.locator(".shashin-feedback")).to_contain_text("Undone: 7 files")
        expect(page.locator(".shashin-summary")).to_contain_text("5 groups to review")
        assert sum(map(os.path.exists, big)) == BIG_GROUP - 2
        page.keyboard.press("u")
        expect(page.locator(".shashin-feedback")).to_contain_text("Undone: 2 files")
        assert all(map(os.path.exists, big))
        expect(group.locator(".shashin-member")).to_have_count(BIG_GROUP)
        page.keyboard.press("u")
        expect(page.locator(".shashin-feedback")).to_contain_text("Nothing to undo")
        assert query(db, "select count(*) from decisions where undone_at is null") == [(0,)]

        # Signed out meanwhile: the 403 is a sentence saying how to sign in, not an error page.
        page.context.clear_cookies()
        page.keyboard.press("x")
        page.keyboard.press("d")
        expect(page.locator(".shashin-feedback")).to_contain_text(SIGN_IN_HINT)
        assert "<" not in page.locator(".shashin-feedback").inner_text()
        assert all(map(os.path.exists, big))


def test_phone_width_plain_forms_and_the_empty_database(library, tmp_path):
    db, folders = library
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 390, "height": 844}, has_touch=True)
        with root_server(db) as (sign_in, base):
            page.goto(sign_in)
            # One click from where the sign-in link lands.
            page.locator("a.shashin-home").click()
            expect(page.locator(".shashin-group")).to_have_count(1 + PAIRS)
            page.wait_for_load_state("load")
            assert page.evaluate("document.documentElement.scrollWidth") <= 390, page.evaluate(OVERFLOWING)
            for button in page.locator(".shashin-group button:visible").all():
                assert button.bounding_box()["height"] >= 44, button.inner_text()
            checkbox = page.locator(".shashin-member label.shashin-name").first.bounding_box()
            assert checkbox["height"] >= 44
            # "Delete selected" is not beside "Not duplicates".
            delete = page.locator(".shashin-group").first.locator(".shashin-delete").bounding_box()
            apart = page.locator(".shashin-group").first.locator(".shashin-notdup").bounding_box()
            assert delete["x"] - (apart["x"] + apart["width"]) >= 40 or delete["y"] >= apart["y"] + apart["height"]
            # A tap makes a group current.
            page.locator(".shashin-group").nth(3).locator(".shashin-thumb").first.tap()
            expect(page.locator(".shashin-group").nth(3)).to_have_class(_has("shashin-focused"))
            assert all(os.path.exists(path) for paths in folders.values() for path in paths)
            assert query(db, "select count(*) from trash") == [(0,)]
            # Without scripts the buttons are plain forms: the action, then the page again with its sentence.
            without_scripts = browser.new_context(java_script_enabled=False)
            without_scripts.add_cookies(page.context.cookies())  # the sign-in link works once
            plain = without_scripts.new_page()
            plain.goto(base + "/-/shashin")
            pair = plain.locator(".shashin-group").nth(1)
            card = pair.locator(".shashin-member").nth(1)
            target = file_of(card)
            card.locator("input[name=member]").check()
            pair.locator(".shashin-delete").click()
            expect(plain.locator(".message-info")).to_contain_text("Moved 1 file")
            assert not os.path.exists(target)
        with root_server(empty) as (sign_in, base):
            page.goto(sign_in)
            page.goto(base + "/-/shashin")
            expect(page.locator(".shashin-state")).to_contain_text("shashin-scan ~/Pictures --db " + str(empty))
            assert page.evaluate("document.documentElement.scrollWidth") <= 390, page.evaluate(OVERFLOWING)
        # Looking at a database that is not shashin's makes no table in it.
        assert query(empty, "select count(*) from sqlite_master") == [(0,)]


def _has(name):
    """Matches a class attribute holding this class."""
    return re.compile(r"(^|\s){}(\s|$)".format(name))
