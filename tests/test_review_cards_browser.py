"""In headless chromium: a copy's card on a phone (390 px wide), nothing wider than the screen or the card,
every control of the card at least 44 px each way, a tap on a name ticks its photo and moves nothing; and
Datasette's own images table with short rows (thumbnail, metadata summary)."""

import os

from playwright.sync_api import expect

from browser import chromium, needs_chromium
from conftest import run

pytestmark = needs_chromium

PHONE = {"width": 390, "height": 844}
TOUCH_TARGETS = (".shashin-name", ".shashin-keep", ".shashin-all-tags summary", ".shashin-thumb a")


def test_card_at_phone_width(server, duplicates):
    sign_in, base = server
    _, photos = duplicates
    with chromium() as browser:
        page = browser.new_page(viewport=PHONE, has_touch=True)
        page.goto(sign_in)
        page.goto(base + "/-/shashin")
        cards = page.locator(".shashin-member")
        expect(cards).to_have_count(5)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        for index in range(cards.count()):
            card = cards.nth(index)
            card.scroll_into_view_if_needed()
            box = card.bounding_box()
            assert box["width"] <= PHONE["width"] - 32
            assert card.evaluate("figure => figure.scrollWidth <= figure.clientWidth")
            for selector in TOUCH_TARGETS:
                target = card.locator(selector)
                if target.count():
                    size = target.bounding_box()
                    assert size["height"] >= 44 and size["width"] >= 44, (selector, size)
        # A tap on the second photo's name ticks it, and only that: nothing leaves the disk.
        second = cards.nth(1)
        second.locator(".shashin-name").tap()
        expect(second.locator("input[name=member]")).to_be_checked()
        expect(page.locator("input[name=member]:checked")).to_have_count(1)
        assert all(os.path.exists(path) for path in photos.values())


def test_images_table_rows_stay_short(server, duplicates):
    sign_in, base = server
    db, photos = duplicates
    run("shashin-meta", "--db", db, "-q", *photos.values(), check=0)  # metadata JSON in every row
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        page.goto(sign_in)
        page.goto(base + "/shashin/images")
        rows = page.locator("table.rows-and-columns tbody tr")
        expect(rows).to_have_count(len(photos))
        expect(page.locator("td.col-md5 img").first).to_be_visible()
        assert page.locator("td.col-md5 img").first.evaluate("img => img.naturalWidth") > 0  # the thumbnail loaded
        assert "EXIF" not in page.locator("td.col-metadata").first.inner_text()  # tags closed, no JSON
        tallest = max(rows.nth(index).bounding_box()["height"] for index in range(rows.count()))
        assert tallest < 160, tallest
        assert all(os.path.exists(path) for path in photos.values())
