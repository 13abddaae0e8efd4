"""A video group in headless chromium: its cards (poster and facts), a clip played on demand from the md5 route,
a seek the server answers with a byte range, and the compare view playing the copies side by side."""

import random
import re

import pytest

from browser import chromium, needs_chromium, root_server, signed_in_page
from conftest import md5, run
from shashin import demo_videos, trash

pytestmark = needs_chromium

#: Small and short, as test_video's clips. The original is filmed grainy and nearly lossless (over a megabyte):
#: a clip chromium reads whole in its first request would answer a seek from memory, never asking the server.
CLIP = {"width": 192, "height": 108, "seconds": 6.0, "fps": 12}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """An original clip with a resized and a trimmed copy, hashed and grouped, behind a real Datasette:
    ``(sign_in, base, paths)``, the original first."""
    folder = tmp_path_factory.mktemp("videos")
    take = demo_videos.random_take(random.Random(3), demo_videos.PHOTOS[0])
    original = demo_videos.clip(folder / "Camera" / "VID_0001.mp4", take, grain=12.0, crf=0, **CLIP)
    rng = random.Random(1)
    paths = [original]
    for kind in ("resize", "trim_end"):
        paths.append(folder / kind / "VID_0001.mp4")
        paths[-1].parent.mkdir()
        demo_videos.make_copy(kind, original, paths[-1], rng)
    db = folder / "shashin.db"
    run("shashin-hash", "--db", db, "-q", *paths, check=0)
    run("shashin-group", "--db", db, "-q", check=0)
    with root_server(db) as (sign_in, base):
        yield sign_in, base, paths


def video_responses(page):
    """``[(url, Range header sent, status, Content-Range)]`` of the md5 route's answers, as they come."""
    seen: list = []

    def record(response):
        if "/-/shashin/video/" in response.url:
            sent = response.request.all_headers().get("range")
            seen.append((response.url, sent, response.status, response.headers.get("content-range")))

    page.on("response", record)
    return seen


def test_a_video_card_plays_on_demand_and_a_seek_is_a_range_request(served):
    sign_in, base, paths = served
    original = paths[0]
    with chromium() as browser:
        page, errors = signed_in_page(browser, sign_in, base + "/-/shashin", viewport={"width": 1280, "height": 900})
        seen = video_responses(page)
        players = page.locator("video.shashin-video")
        assert players.count() == 3
        card = page.locator("figure.shashin-member", has=page.locator('video[src*="{}"]'.format(md5(original))))
        facts = card.locator("dl.shashin-facts").inner_text()
        for fact in ("192 × 108", "0:06.0", "h264", "12 fps", "kbit/s", trash.human_size(original.stat().st_size)):
            assert fact in facts
        page.wait_for_load_state("networkidle")
        # Each card's poster is loaded by its <video>; no clip is read before it is asked to play.
        loaded = page.evaluate(
            "performance.getEntriesByType('resource')"
            ".map(entry => [entry.name, entry.initiatorType, entry.responseStatus])"
        )
        posters = {name.rsplit("/", 1)[1] for name, by, status in loaded if by == "video" and status == 200}
        assert posters == {md5(path) + ".jpg" for path in paths}
        assert seen == [] and not any("/-/shashin/video/" in name for name, _, _ in loaded)

        player = card.locator("video").element_handle()
        assert page.evaluate("video => video.play().then(() => 'playing', error => String(error))", player) == "playing"
        page.wait_for_function("video => video.readyState >= 3 && video.currentTime > 0", arg=player)
        assert page.evaluate("video => video.duration", player) == pytest.approx(6.0, abs=0.1)
        first = seen[0]
        assert md5(original) in first[0] and first[1] == "bytes=0-" and first[2] == 206

        page.evaluate("video => { video.pause(); video.currentTime = 5.4; }", player)
        page.wait_for_function("video => !video.seeking && video.readyState >= 2", arg=player)
        assert page.evaluate("video => video.currentTime", player) == pytest.approx(5.4, abs=0.01)
        size = original.stat().st_size
        later = [int(re.match(r"bytes=(\d+)-", sent).group(1)) for _, sent, _, _ in seen[1:]]
        assert any(start > size // 2 for start in later), seen
        for _, sent, status, content_range in seen:
            start = int(re.match(r"bytes=(\d+)-", sent).group(1))
            assert status == 206 and content_range == "bytes {}-{}/{}".format(start, size - 1, size)
        assert errors == []


def test_the_compare_view_plays_the_copies_side_by_side(served):
    sign_in, base, paths = served
    with chromium() as browser:
        page, errors = signed_in_page(browser, sign_in, base + "/-/shashin", viewport={"width": 1400, "height": 900})
        group = re.search(r"group-(\d+)", page.locator(".shashin-group").first.get_attribute("id")).group(1)
        page.goto(base + "/-/shashin/compare/" + group)
        players = page.locator(".shashin-video-panes video")
        assert players.count() == 3
        page.get_by_role("button", name="Play together").click()
        for index in range(3):
            page.wait_for_function(
                "video => !video.paused && video.readyState >= 3 && video.currentTime > 0",
                arg=players.nth(index).element_handle(),
            )
        durations = [players.nth(index).evaluate("video => video.duration") for index in range(3)]
        assert durations[0] == durations[1] == pytest.approx(6.0, abs=0.1) and durations[2] < durations[0]
        first, second = (players.nth(index).bounding_box() for index in range(2))
        assert first["y"] == second["y"] and first["x"] + first["width"] <= second["x"]
        assert errors == []
