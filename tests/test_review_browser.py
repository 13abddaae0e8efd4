"""End to end in headless chromium: review with the keyboard, see the trash, undo; files checked on disk."""

import os
import re
import socket
import subprocess
import time

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright

from conftest import BIN
from shashin.store import Store

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server(duplicates):
    """A real `datasette shashin.db --root` on a free loopback port; yields its sign-in link."""
    db, _ = duplicates
    port = free_port()
    process = subprocess.Popen(
        [str(BIN / "datasette"), "serve", str(db), "--host", "127.0.0.1", "--port", str(port), "--root"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        sign_in = None
        deadline = time.monotonic() + 30
        while sign_in is None and time.monotonic() < deadline:
            line = process.stdout.readline()
            found = re.search(r"http://\S+/-/auth-token\?token=\w+", line)
            sign_in = found.group(0) if found else None
        assert sign_in, "datasette did not print a sign-in link"
        while time.monotonic() < deadline:
            try:
                httpx.get("http://127.0.0.1:{}/-/versions.json".format(port), timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield sign_in, "http://127.0.0.1:{}".format(port)
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_undo_button_after_a_delete(server, duplicates):
    sign_in, base = server
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
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
        browser.close()


def test_delete_with_keyboard_see_trash_undo(server, duplicates, tmp_path):
    sign_in, base = server
    db, photos = duplicates
    by_name = {}
    for path in (photos["photo"], photos["photo copy"], photos["backup"]):
        by_name.setdefault(os.path.basename(path), []).append(path)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
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
        expect(page.locator("table.shashin-trash tbody tr")).to_have_count(1)
        expect(page.locator("table.shashin-trash")).to_contain_text(name)
        expect(page.locator(".shashin-empty button")).to_contain_text("frees")
        page.screenshot(path=str(tmp_path / "trash.png"), full_page=True)

        # Undo from the review page with the keyboard: the file is back where it was.
        page.goto(base + "/-/shashin")
        page.keyboard.press("u")
        expect(page.locator("#shashin-status")).to_contain_text("restored")
        expect(page.locator(".shashin-group")).to_have_count(2)
        assert os.path.exists(target)
        page.goto(base + "/-/shashin/trash")
        expect(page.locator("table.shashin-trash tbody tr")).to_have_count(0)

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
        expect(page.locator(".shashin-batches li").first).to_contain_text("2 files")
        page.screenshot(path=str(tmp_path / "accepted.png"), full_page=True)
        assert os.path.exists(photos["photo"]) and not any(map(os.path.exists, copies[1:]))
        page.locator(".shashin-undo").first.click()
        expect(page.locator(".shashin-batches li")).to_have_count(1)
        assert all(map(os.path.exists, copies))
        assert errors == []
        browser.close()
