"""End to end in headless chromium: review with the keyboard, see the trash, undo; files checked on disk."""

import os
import re

from playwright.sync_api import expect

from browser import chromium, needs_chromium
from shashin.store import Store

pytestmark = needs_chromium


def test_the_undo_button_after_a_delete(server, duplicates):
    sign_in, base = server
    with chromium() as browser:
        page = browser.new_page()
        page.goto(sign_in)
        page.goto(base + "/-/shashin")
        page.keyboard.press("l")
        focused = page.locator(".shashin-group").first.locator(".shashin-member.shashin-focused")
        target = os.path.join(
            focused.locator(".shashin-folder").inner_text().strip(),
            focused.locator(".shashin-name").inner_text().strip(),
        )
        page.keyboard.press("d")
        expect(page.locator("#shashin-status")).to_contain_text("moved to")
        assert not os.path.exists(target)
        page.locator("#shashin-status button").click()
        expect(page.locator("#shashin-status")).to_contain_text("restored")
        assert os.path.exists(target)


def test_delete_with_keyboard_see_trash_undo(server, duplicates, tmp_path):
    sign_in, base = server
    db, photos = duplicates
    by_name = {}
    for path in (photos["photo"], photos["photo copy"], photos["backup"]):
        by_name.setdefault(os.path.basename(path), []).append(path)
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(sign_in)
        page.goto(base + "/-/shashin")
        expect(page.locator(".shashin-group")).to_have_count(2)
        first = page.locator(".shashin-group").first
        expect(first.locator(".shashin-member").first).to_have_class(re.compile("shashin-keeper"))
        expect(first.locator(".shashin-member img").first).to_be_visible()
        page.screenshot(path=str(tmp_path / "review.png"), full_page=True)

        # Focus the second photo of the first group and delete it with the keyboard.
        page.keyboard.press("l")
        focused = first.locator(".shashin-member.shashin-focused")
        name = focused.locator(".shashin-name").inner_text().strip()
        folder = focused.locator(".shashin-folder").inner_text().strip()
        target = os.path.join(folder, name)
        assert os.path.exists(target)
        page.keyboard.press("d")
        expect(page.locator("#shashin-status")).to_contain_text("moved to")
        expect(page.locator(".shashin-group")).to_have_count(1)
        page.screenshot(path=str(tmp_path / "deleted.png"), full_page=True)
        assert not os.path.exists(target)
        kept = [path for path in (photos["photo"], photos["photo copy"], photos["backup"]) if path != target]
        assert all(os.path.exists(path) for path in kept)

        # It is in the trash page.
        page.goto(base + "/-/shashin/trash")
        expect(page.locator(".trash-tile:not(.trash-kept)")).to_have_count(1)
        expect(page.locator(".trash-removal")).to_contain_text(name)
        expect(page.locator(".shashin-empty button")).to_contain_text("frees")
        page.screenshot(path=str(tmp_path / "trash.png"), full_page=True)

        # Undo from the review page with the keyboard: the file is back where it was.
        page.goto(base + "/-/shashin")
        page.keyboard.press("u")
        expect(page.locator("#shashin-status")).to_contain_text("restored")
        expect(page.locator(".shashin-group")).to_have_count(2)
        assert os.path.exists(target)
        page.goto(base + "/-/shashin/trash")
        expect(page.locator(".trash-tile")).to_have_count(0)

        # Select both photos of the similar group and delete: the last copy is refused, nothing moves.
        page.goto(base + "/-/shashin?kind=similar")
        page.keyboard.press("x")
        page.keyboard.press("l")
        page.keyboard.press("x")
        expect(page.locator(".shashin-member.shashin-selected")).to_have_count(2)
        page.keyboard.press("d")
        expect(page.locator("#shashin-status")).to_contain_text("never removes the last copy")
        assert os.path.exists(photos["beach"]) and os.path.exists(photos["beach-small"])
        # Enter keeps the focused photo and removes the other.
        page.keyboard.press("Enter")
        expect(page.locator("#shashin-status")).to_contain_text("moved to")
        assert os.path.exists(photos["beach"]) != os.path.exists(photos["beach-small"])

        # Accept suggestions: Enter in the threshold previews (the review keys leave it alone), then move, then undo.
        copies = [photos["photo"], photos["photo copy"], photos["backup"]]
        store = Store(db)
        group = store.groups_of_paths(copies)[photos["photo"]]
        store.save_ranks(
            [
                {"path": path, "group_id": group, "rank": rank, "keep_probability": p, "reasons": []}
                for path, rank, p in zip(copies, (1, 2, 3), (0.98, 0.01, 0.01))
            ]
        )
        store.close()
        page.goto(base + "/-/shashin")
        page.screenshot(path=str(tmp_path / "accept.png"))
        page.fill("input[name=threshold]", "0.9")
        page.press("input[name=threshold]", "Enter")
        expect(page.locator(".shashin-preview")).to_contain_text("1 group, 2 files")
        page.screenshot(path=str(tmp_path / "suggestions.png"), full_page=True)
        assert all(map(os.path.exists, copies))
        page.click("text=Move 2 files")
        expect(page.locator(".trash-removal").first).to_contain_text("2 files")
        page.screenshot(path=str(tmp_path / "accepted.png"), full_page=True)
        assert os.path.exists(photos["photo"]) and not any(map(os.path.exists, copies[1:]))
        page.locator(".trash-restore-removal").first.click()
        expect(page.locator(".trash-removal")).to_have_count(1)
        assert all(map(os.path.exists, copies))
        assert errors == []
