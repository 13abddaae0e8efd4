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


def test_switching_a_rules_criterion_clears_an_argument_it_does_not_take(server, duplicates):
    """A hidden argument box kept the last criterion's argument: Save sent it and was refused."""
    sign_in, base = server
    db, _ = duplicates
    with chromium() as browser:
        page, errors = signed_in_page(browser, sign_in, base + "/-/shashin/rules")
        rule = page.locator(".shashin-rule").first
        select, argument = rule.locator("select"), rule.locator("input[name=argument]")
        select.select_option("folder")
        argument.fill("backup")
        select.select_option("not-folder")  # takes TEXT too: the folder stays
        expect(argument).to_have_value("backup")
        select.select_option("long-edge")  # takes PIXELS: the folder is no number of pixels
        expect(argument).to_be_visible()
        expect(argument).to_have_value("")
        argument.fill("1200")
        select.select_option("smallest-file")  # takes none
        expect(argument).to_be_hidden()
        expect(page.locator("#shashin-rules-preview")).to_have_text(
            "1 of 2 undecided groups would get another suggested keeper."
        )
        page.get_by_role("button", name="Save these rules").click()
        expect(page.locator("body")).to_contain_text("Keeper rules saved: smallest-file.")
        with contextlib.closing(Store(db)) as store:
            assert store.keeper_rules() == [("smallest-file", None)]
        # The page's Preview without the script's help posts the same form: its token goes into no URL.
        select.select_option("folder")
        argument.fill("backup")
        select.select_option("largest-file")
        with page.expect_request(lambda request: request.method == "POST") as posted:
            page.get_by_role("button", name="Preview").click()
        assert "preview=1" in posted.value.post_data and "criterion=largest-file&argument=&" in posted.value.post_data
        expect(page).to_have_url(base + "/-/shashin/rules")
        expect(page.locator("#shashin-rules-preview")).to_contain_text("undecided groups would get")
        expect(select).to_have_value("largest-file")
        expect(page.get_by_role("alert")).to_have_count(0)
        assert not errors
