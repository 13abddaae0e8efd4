"""The keeper rules page: the rules shown, previewed (how many suggested keepers change) and saved."""

import contextlib
import re

import pytest

from review_client import Visitor, datasette
from shashin.ranking import preferences
from shashin.store import Store

pytestmark = pytest.mark.asyncio


def saved_rules(db):
    with contextlib.closing(Store(db)) as store:
        return store.keeper_rules()


async def next_page(visitor, response):
    """The rules page after a plain form's redirect, with the message it carries."""
    visitor.cookies["ds_messages"] = response.cookies["ds_messages"]
    return (await visitor.get("/-/shashin/rules")).text


def form(*rules):
    """The rules page's form fields for ``(criterion, argument)`` pairs, a blank last row as the page has."""
    pairs = list(rules) + [("", "")]
    return {"criterion": [c for c, _ in pairs], "argument": [a for _, a in pairs]}


async def test_the_page_shows_the_rules_and_what_each_takes(duplicates):
    db, _ = duplicates
    page = await Visitor(await datasette(db), {"id": "root"}).get("/-/shashin/rules")
    assert page.status_code == 200
    assert "Now: the built-in rule alone." in page.text and "Save these rules" in page.text
    for name in preferences.CRITERIA:
        assert '<option value="{}"'.format(name) in page.text
    assert 'data-argument="PIXELS"' in page.text and page.text.count('<li class="shashin-rule">') == 1
    assert 'href="/-/shashin/rules">Which copy to keep: keeper rules</a>' in page.text  # in Datasette's menu


async def test_the_preview_counts_the_suggested_keepers_that_change(duplicates):
    """An exact group of three (photo.jpg, photo copy.jpg, backup/photo.jpg) and a similar pair (beach.jpg,
    the half-size beach-small.jpg): the built-in rule keeps photo.jpg (shortest path) and beach.jpg."""
    db, _ = duplicates
    visitor = Visitor(await datasette(db))
    for query, changed in (
        ("criterion=smallest-file&argument=", 1),  # beach-small.jpg; the exact copies tie, then the rule
        ("criterion=folder&argument=backup", 1),  # backup/photo.jpg
        ("criterion=folder&argument=backup&criterion=fewest-pixels&argument=", 2),
        ("criterion=largest-file&argument=", 0),
        ("criterion=&argument=", 0),
    ):
        answer = (await visitor.get("/-/shashin/rules/preview?" + query)).json()
        assert answer["ok"] and (answer["changed"], answer["groups"], answer["compared"]) == (changed, 2, 2), query
        assert answer["text"] == "{} of 2 undecided groups would get another suggested keeper.".format(changed)
    bad = await visitor.get("/-/shashin/rules/preview?criterion=long-edge&argument=big")
    assert bad.status_code == 400 and bad.json()["problem"].startswith("long-edge needs a whole number of pixels")


async def test_without_script_the_preview_is_a_page(duplicates):
    """Preview posts the form (its CSRF token goes into no URL) and saves nothing; anyone who may look may."""
    db, _ = duplicates
    visitor = Visitor(await datasette(db))
    preview = await visitor.post("/-/shashin/rules", dict(form(("folder", "backup")), preview="1"))
    assert preview.status_code == 200 and saved_rules(db) == []
    page = preview.text
    assert "1 of 2 undecided groups would get another suggested keeper." in page
    assert re.search(r'<option value="folder" data-argument="TEXT" selected>', page)
    assert 'name="argument" value="backup"' in page and page.count('<li class="shashin-rule">') == 3
    assert '<button type="submit" name="preview" value="1" formnovalidate>Preview</button>' in page
    bad = (await visitor.post("/-/shashin/rules", dict(form(("bigest-file", "")), preview="1"))).text
    assert "unknown keeper rule &#39;bigest-file&#39;" in bad
    # Without preview, the same form is a save, which this visitor may not make.
    assert (await visitor.post("/-/shashin/rules", form(("folder", "backup")))).status_code == 403
    # A preview from another site's page is refused as every form is.
    assert (await visitor.post("/-/shashin/rules", dict(form(), preview="1"), cross_site=True)).status_code == 403


async def test_saving_stores_the_rules_in_order_and_clearing_removes_them(duplicates):
    db, _ = duplicates
    root = Visitor(await datasette(db), {"id": "root"})
    saved = await root.post(
        "/-/shashin/rules", form(("not-folder", "backup"), ("name", "*copy*"), ("smallest-file", ""))
    )
    assert saved.status_code == 302 and saved.headers["location"] == "/-/shashin/rules"
    assert saved_rules(db) == [("not-folder", "backup"), ("name", "*copy*"), ("smallest-file", None)]
    page = await next_page(root, saved)
    assert "Keeper rules saved: not-folder:backup, name:*copy*, smallest-file." in page
    assert "Now: <strong>not-folder:backup, name:*copy*, smallest-file</strong>, then the built-in rule." in page
    assert page.count('<li class="shashin-rule">') == 4  # the three rules and a blank row to add one
    cleared = await root.post("/-/shashin/rules", {})
    assert cleared.status_code == 302 and saved_rules(db) == []
    assert "Keeper rules cleared" in await next_page(root, cleared)


async def test_a_bad_rule_is_not_saved(duplicates):
    db, _ = duplicates
    root = Visitor(await datasette(db), {"id": "root"})
    await root.post("/-/shashin/rules", form(("most-pixels", "")))
    refused = await root.post("/-/shashin/rules", form(("folder", "")))
    assert refused.status_code == 302 and saved_rules(db) == [("most-pixels", None)]
    assert "folder needs TEXT: folder:DCIM" in await next_page(root, refused)


async def test_only_those_who_may_change_save_and_never_from_another_site(duplicates):
    db, _ = duplicates
    ds = await datasette(db)
    fields = form(("largest-file", ""))
    page = (await Visitor(ds).get("/-/shashin/rules")).text
    assert "Save these rules" not in page and "Now: the built-in rule alone." in page
    assert (await Visitor(ds).post("/-/shashin/rules", fields)).status_code == 403
    assert (await Visitor(ds, {"id": "alice"}).post("/-/shashin/rules", fields)).status_code == 403
    root = Visitor(ds, {"id": "root"})
    assert (await root.post("/-/shashin/rules", fields, cross_site=True)).status_code == 403
    assert (await root.post("/-/shashin/rules", fields, headers={"host": "evil.example"})).status_code == 403
    assert saved_rules(db) == []


async def test_the_review_and_compare_pages_suggest_the_keeper_the_rules_pick(duplicates):
    """Before shashin-rank runs, the pages order each group by the person's rules, not the built-in rule."""
    db, _ = duplicates
    with contextlib.closing(Store(db)) as store:
        preferences.save(store, preferences.parse("smallest-file"))
        (group,) = [g for (g,) in store.db.execute("select group_id from group_members group by 1 having count(*) = 2")]
    visitor = Visitor(await datasette(db), {"id": "root"})
    for page in ("/-/shashin", "/-/shashin/compare/{}".format(group)):
        text = (await visitor.get(page)).text
        assert text.index("beach-small.jpg") < text.index("beach.jpg"), page
