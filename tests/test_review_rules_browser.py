"""The keeper rules page in headless chromium at a phone's width: edit the list, watch the preview, save."""

import contextlib

from playwright.sync_api import expect

from browser import chromium, needs_chromium, signed_in_page
from shashin.store import Store

pytestmark = needs_chromium


def test_edit_preview_and_save_the_rules_at_390_px(server, duplicates):
    sign_in, base = server
    db, _ = duplicates
    with chromium() as browser:
        page, errors = signed_in_page(
            browser, sign_in, base + "/-/shashin/rules", viewport={"width": 390, "height": 844}
        )
        rules = page.locator(".shashin-rule")
        preview = page.locator("#shashin-rules-preview")
        expect(rules).to_have_count(1)
        expect(rules.first.locator("input[name=argument]")).to_be_hidden()

        rules.first.locator("select").select_option("smallest-file")
        expect(preview).to_have_text("1 of 2 undecided groups would get another suggested keeper.")
        page.get_by_role("button", name="Add a rule").click()
        expect(rules).to_have_count(2)
        rules.nth(1).locator("select").select_option("folder")
        argument = rules.nth(1).locator("input[name=argument]")
        expect(argument).to_be_visible()
        argument.fill("backup")
        expect(preview).to_have_text("2 of 2 undecided groups would get another suggested keeper.")
        rules.nth(1).get_by_role("button", name="up rule 2").click()
        expect(rules.first.locator("select")).to_have_value("folder")
        rules.nth(1).get_by_role("button", name="remove rule 2").click()
        expect(rules).to_have_count(1)
        expect(preview).to_have_text("1 of 2 undecided groups would get another suggested keeper.")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390

        page.get_by_role("button", name="Save these rules").click()
        expect(page.locator("body")).to_contain_text("Keeper rules saved: folder:backup.")
        with contextlib.closing(Store(db)) as store:
            assert store.keeper_rules() == [("folder", "backup")]
        assert not errors
