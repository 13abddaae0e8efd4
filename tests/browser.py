"""A real Datasette server and Debian's headless chromium, for the review plugin's browser tests."""

import contextlib
import os
import re
import socket
import subprocess
import time

import httpx
import pytest
from playwright.sync_api import sync_playwright

from conftest import BIN

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

#: Marks a test module that drives the browser.
needs_chromium = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Debian's chromium")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server(duplicates):
    """A real `datasette shashin.db --root` over the duplicates library; yields its sign-in link and base URL."""
    with root_server(duplicates[0]) as served:
        yield served


@contextlib.contextmanager
def root_server(db):
    """A real `datasette DB --root` on a free loopback port: ``(sign_in_link, base_url)`` while it runs."""
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


@contextlib.contextmanager
def chromium():
    """Debian's chromium, headless, launched the way this machine allows."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def signed_in_page(browser, sign_in, url, **context):
    """A new page signed in through the ``--root`` link, then at url: ``(page, errors)``, errors collecting
    the page's uncaught script errors. ``context``: Playwright's (viewport, has_touch...)."""
    page = browser.new_context(**context).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(sign_in)
    page.goto(url)
    return page, errors
