"""End to end in headless chromium: review with the keyboard, accept suggestions; files checked on disk."""

import os
import re

from playwright.sync_api import expect

from browser import chromium, needs_chromium, signed_in_page
from shashin.store import Store

pytestmark = needs_chromium


def test_keyboard_review_then_accept_suggestions(server, duplicates, tmp_path):
    sign_in, base = server
    db, photos = duplicates
    with chromium() as browser:
        page, errors = signed_in_page(browser, sign_in, base + "/-/shashin", viewport={"width": 1280, "height": 1000})
        expect(page.locator(".shashin-group")).to_have_count(2)
        first = page.locator(".shashin-group").first
        expect(first.locator(".shashin-member").first).to_have_class(re.compile("shashin-keeper"))
        expect(first.locator(".shashin-member img").first).to_be_visible()
        page.screenshot(path=str(tmp_path / "review.png"), full_page=True)

        # Select both photos of the similar group and delete: the last copy is refused, nothing moves.
        page.goto(base + "/-/shashin?kind=similar")
        page.keyboard.press("x")
        page.keyboard.press("l")
        page.keyboard.press("x")
        expect(page.locator(".shashin-member.shashin-selected")).to_have_count(2)
        page.keyboard.press("d")
        expect(page.locator(".shashin-feedback")).to_contain_text("never removes the last copy")
        assert os.path.exists(photos["beach"]) and os.path.exists(photos["beach-small"])
        # Enter keeps the outlined photo and removes the other.
        page.keyboard.press("Enter")
        expect(page.locator(".shashin-feedback")).to_contain_text("Moved 1 file")
        assert os.path.exists(photos["beach"]) != os.path.exists(photos["beach-small"])

        # Accept suggestions: Enter in the threshold previews (the review keys leave it alone), then move, then undo.
        copies = [photos["photo"], photos["photo copy"], photos["backup"]]
        store = Store(db)
        group = store.groups_of_paths(copies)[photos["photo"]]
        store.save_ranks(
            [
                {"path": path, "group_id": group, "rank": rank, "keep_probability": p, "sureness": 0.98, "reasons": []}
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
