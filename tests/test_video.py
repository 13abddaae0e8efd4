"""Videos through the pipeline: real clips filmed with PyAV (FFmpeg) over the sample photos, and their copies."""

import asyncio
import dataclasses
import os
import random
import re
import shutil

import numpy
import pytest

from conftest import json_lines, make_photo, md5, rewrite_keeping_size_and_mtime, run
from datasette_shashin import videos
from review_client import Visitor, datasette, key
from shashin import demo_videos, formats, trash, video, video_groups
from shashin.store import Store

#: Small and short: the suite stays quick, and a clip still has a few seconds to line up.
CLIP = {"width": 192, "height": 108, "seconds": 6.0, "fps": 12}


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    """Two originals over different photos, each with a copy of every kind and another take of it."""
    folder = tmp_path_factory.mktemp("clips")
    return folder, demo_videos.library(folder, 2, seed=3, **CLIP)


@pytest.fixture(scope="module")
def scanned(clips, tmp_path_factory):
    """The clips hashed into a database, and the records."""
    folder, made = clips
    db = tmp_path_factory.mktemp("db") / "shashin.db"
    records = json_lines(run("shashin-hash", "--db", db, "-q", folder, check=0).stdout)
    return db, {record["path"]: record for record in records}


def test_a_video_record_has_its_facts_and_fingerprint(clips, scanned):
    _, made = clips
    _, records = scanned
    record = records[str(made[0]["original"])]
    assert (record["width"], record["height"], record["format"]) == (192, 108, "MP4")
    assert record["duration"] == pytest.approx(6.0, abs=0.1)
    assert (record["frame_rate"], record["video_codec"], record["rotation"]) == (12.0, "h264", 0)
    assert record["bitrate"] > 0 and record["dhash"] is None
    assert len(record["frame_hashes"]) == 6 and all(len(value) == 16 for value in record["frame_hashes"])


def test_a_rotation_flag_turns_the_size_and_the_frames(clips, scanned):
    _, made = clips
    _, records = scanned
    original, rotated = records[str(made[0]["original"])], records[str(made[0]["copies"]["rotated"])]
    if rotated["rotation"] in (90, 270):
        assert (rotated["width"], rotated["height"]) == (108, 192)
    assert rotated["rotation"] != 0 and rotated["frame_hashes"] != original["frame_hashes"]


def test_the_poster_is_the_thumbnail_and_the_fingerprint_is_stored(clips, scanned, open_store):
    _, made = clips
    db, records = scanned
    store = open_store(db)
    content = records[str(made[1]["original"])]["md5"]
    assert store.thumbnail(content)[:3] == b"\xff\xd8\xff"
    (fingerprint,) = store.video_fingerprints([content]).values()
    assert fingerprint.hex() == records[str(made[1]["original"])]["frame_hashes"]


def test_bad_videos_get_one_line_each_and_the_run_goes_on(clips, tmp_path):
    _, made = clips
    folder = tmp_path / "bad"
    folder.mkdir()
    original = made[0]["original"].read_bytes()
    (folder / "empty.mp4").write_bytes(b"")
    (folder / "cut.mp4").write_bytes(original[: len(original) // 3])
    (folder / "notes.mov").write_text("not a video\n")
    (folder / "noise.mkv").write_bytes(b"\x1a\x45\xdf\xa3" + os.urandom(5000))
    demo_videos.audio_only(folder / "voice.mp4")
    (folder / "header.mov").write_bytes(_cut_inside_header(original, tmp_path / "try.mov"))
    shutil.copy(made[0]["original"], folder / "good.mp4")
    result = run("shashin-hash", "--no-db", folder, check=1)
    assert [record["path"] for record in json_lines(result.stdout)] == [str(folder / "good.mp4")]
    lines = result.stderr.splitlines()
    names = ("empty", "cut", "notes", "noise", "voice", "header")
    said = {name: next(line for line in lines if name in line) for name in names}
    assert "empty file (0 bytes)" in said["empty"]
    assert "not a video" in said["notes"]
    assert "audio only" in said["voice"]
    assert "FFmpeg" in said["cut"] or "truncated" in said["cut"]
    assert "FFmpeg" in said["noise"] or "no picture" in said["noise"]
    assert "cut inside its header" in said["header"]
    assert "6 failed" in lines[-1]


def _cut_inside_header(data, scratch):
    """The first cut of a clip inside its index (moov, written last) that leaves FFmpeg a video track with no
    codec context: an interrupted copy."""
    import av

    moov = data.rfind(b"moov") - 4
    for end in range(moov + 16, len(data)):
        scratch.write_bytes(data[:end])
        try:
            with av.open(str(scratch), format="mov", options={"enable_drefs": "0"}) as media:
                if any(stream.codec_context is None for stream in media.streams.video):
                    return data[:end]
        except av.FFmpegError:
            continue
    raise AssertionError("no cut leaves a track without its codec")


def _gap_clip(path, seconds):
    """A tiny clip whose last two keyframes are stamped ``seconds`` after its first: a timestamp jump."""
    import av

    pixels = demo_videos.photo_pixels(demo_videos.PHOTOS[0])
    with av.open(str(path), "w", format="matroska") as output:
        stream = output.add_stream("libx264", rate=1)
        stream.width, stream.height, stream.pix_fmt = 160, 96, "yuv420p"
        for pts in (0, 1, seconds - 1, seconds):
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24").reformat(160, 96, format="yuv420p")
            frame.pts, frame.pict_type = pts, av.video.frame.PictureType.I
            for packet in stream.encode(frame):
                output.mux(packet)
        for packet in stream.encode(None):
            output.mux(packet)


def test_a_timestamp_jump_is_refused_before_its_fingerprint_is_made(tmp_path):
    """A few kilobytes whose keyframes are a month apart would ask for a view per second of the gap."""
    _gap_clip(tmp_path / "jump.mkv", 30 * 24 * 3600)
    with pytest.raises(video.VideoError, match="longer than the 24 hours"):
        video.analyse(str(tmp_path / "jump.mkv"), "MKV")


def test_lining_up_long_videos_works_in_blocks_with_the_same_result(monkeypatch):
    """Two recordings are compared a block of seconds at a time (bounded memory): any block gives what one
    block over everything gives, at every offset and turn."""
    rng = numpy.random.default_rng(5)
    scene = rng.integers(0, 255, (60, 16, 16)).astype(numpy.uint8)

    def noisy(views):
        return numpy.clip(views + rng.normal(0, 6, views.shape), 0, 255).astype(numpy.uint8)

    a, b = noisy(scene), numpy.rot90(noisy(scene[12:50]), 1, axes=(1, 2))
    b[:3] = 0  # black seconds are not informative
    frames_a, frames_b = (video_groups.Frames(video.Fingerprint(views)) for views in (a, b))
    whole = video_groups.line_up(frames_a, frames_b)
    assert (whole.offset, whole.turn, whole.matched) == (12, 1, 1.0) and whole.shared == 35
    for block in (1, 7, 100):
        monkeypatch.setattr(video_groups, "BLOCK_PAIRS", block)
        blocked = video_groups.line_up(frames_a, frames_b)
        assert blocked.motion == pytest.approx(whole.motion, abs=1e-6)  # float32 products summed in another order
        assert dataclasses.replace(blocked, motion=whole.motion) == whole


def test_a_video_cut_short_after_its_header_is_truncated(clips, tmp_path):
    """A clip written for streaming has its index first: cut, it still opens, but its frames stop early."""
    _, made = clips
    streaming = tmp_path / "streaming.mp4"
    demo_videos.clip(streaming, demo_videos.random_take(random.Random(1)), faststart=True, **CLIP)
    data = streaming.read_bytes()
    (tmp_path / "cut.mp4").write_bytes(data[: len(data) // 2])
    with pytest.raises(video.VideoError, match="truncated"):
        video.analyse(str(tmp_path / "cut.mp4"), "MP4")


def test_a_rescan_opens_no_unchanged_video(clips, tmp_path):
    _, made = clips
    folder = tmp_path / "videos"
    folder.mkdir()
    for number, entry in enumerate(made):
        shutil.copy(entry["original"], folder / "clip{}.mp4".format(number))
    db = tmp_path / "shashin.db"
    first = json_lines(run("shashin-hash", "--db", db, folder, check=0).stdout)
    # Same size and mtime, other bytes: only a rescan that trusts the database never notices.
    rewrite_keeping_size_and_mtime(folder / "clip0.mp4")
    again = run("shashin-hash", "--db", db, folder, check=0)
    assert "0 hashed, 2 cached" in again.stderr
    assert json_lines(again.stdout) == [dict(record) for record in first]


def test_a_moved_video_is_not_decoded_again(clips, tmp_path):
    _, made = clips
    db = tmp_path / "shashin.db"
    shutil.copy(made[0]["original"], tmp_path / "a.mp4")
    (first,) = json_lines(run("shashin-hash", "--db", db, tmp_path / "a.mp4", check=0).stdout)
    shutil.move(tmp_path / "a.mp4", tmp_path / "b.mp4")
    result = run("shashin-hash", "--db", db, tmp_path / "b.mp4", check=0)
    assert "0 hashed, 0 cached, 1 reused" in result.stderr
    (moved,) = json_lines(result.stdout)
    assert moved["frame_hashes"] == first["frame_hashes"] and moved["duration"] == first["duration"]


def test_the_fingerprint_lines_up_copies_and_not_other_takes(clips):
    _, made = clips
    for entry in made:
        original = video_groups.Frames(video.analyse(str(entry["original"]), "MP4").fingerprint)
        for kind, path in entry["copies"].items():
            copy = video_groups.Frames(video.analyse(str(path), "MP4").fingerprint)
            assert video_groups.similar(original, copy) is not None, kind
        take = video_groups.Frames(video.analyse(str(entry["take"]), "MP4").fingerprint)
        assert video_groups.similar(original, take) is None


def test_two_recordings_from_a_fixed_camera_are_not_copies(tmp_path):
    """Same background every second, a figure walking its own way: the frames agree, what moves does not."""
    first, second = (
        demo_videos.tripod(tmp_path / "{}.mp4".format(seed), "coffee.png", seed, **CLIP) for seed in (1, 2)
    )
    copy = tmp_path / "copy.mp4"
    demo_videos.make_copy("whatsapp", first, copy, random.Random(1))
    frames = [video_groups.Frames(video.analyse(str(path), "MP4").fingerprint) for path in (first, second, copy)]
    assert video_groups.line_up(frames[0], frames[1]).matched >= video_groups.MIN_MATCHED
    assert video_groups.similar(frames[0], frames[1]) is None
    assert video_groups.similar(frames[0], frames[2]) is not None


def test_the_copies_of_a_still_scene_are_copies(tmp_path):
    """Nothing moves in the original: a messenger copy's compression noise is no motion to agree on."""
    middle = (0.5, 0.5, 0.6)
    original = demo_videos.clip(
        tmp_path / "still.mp4", demo_videos.Take("coffee.png", middle, middle), grain=3.0, **CLIP
    )
    rng, decoded = random.Random(2), demo_videos.decode(original)
    frames = video_groups.Frames(video.analyse(str(original), "MP4").fingerprint)
    for kind in demo_videos.COPY_KINDS:
        copy = tmp_path / "{}.mp4".format(kind)
        demo_videos.make_copy(kind, original, copy, rng, decoded)
        assert video_groups.similar(frames, video_groups.Frames(video.analyse(str(copy), "MP4").fingerprint)), kind


def test_a_store_without_videos_table_is_migrated(tmp_path):
    store = Store(tmp_path / "new.db")
    try:
        assert store.db["video_frames"].exists()
        assert "duration" in store.db["images"].columns_dict
    finally:
        store.close()


def grouped(db):
    result = run("shashin-group", "--db", db, check=0)
    return result, json_lines(result.stdout)


def test_copies_of_a_video_group_together_and_other_takes_stay_apart(clips, scanned):
    _, made = clips
    db, _ = scanned
    _, groups = grouped(db)
    for entry in made:
        wanted = {str(entry["original"]), *(str(path) for path in entry["copies"].values())}
        (group,) = [group for group in groups if str(entry["original"]) in group["paths"]]
        assert set(group["paths"]) == wanted and group["kind"] == "similar"
        assert str(entry["take"]) not in {path for group in groups for path in group["paths"]}


def test_byte_identical_videos_are_exact_and_photos_never_join_videos(clips, tmp_path, open_store):
    _, made = clips
    folder = tmp_path / "mixed"
    folder.mkdir()
    shutil.copy(made[0]["original"], folder / "a.mp4")
    shutil.copy(made[0]["original"], folder / "b.mp4")
    db = tmp_path / "shashin.db"
    run("shashin-hash", "--db", db, folder, check=0)
    # The poster frame saved as a photo looks exactly like the video: still no copy of it.
    (folder / "poster.jpg").write_bytes(open_store(db).thumbnail(md5(folder / "a.mp4")))
    shutil.copy(folder / "poster.jpg", folder / "poster copy.jpg")
    run("shashin-hash", "--db", db, folder, check=0)
    _, groups = grouped(db)
    kinds = sorted((group["kind"], sorted(os.path.basename(path) for path in group["paths"])) for group in groups)
    assert kinds == [("exact", ["a.mp4", "b.mp4"]), ("exact", ["poster copy.jpg", "poster.jpg"])]


def test_a_live_photo_movie_is_its_photo_companion(clips, tmp_path):
    _, made = clips
    folder = tmp_path / "roll"
    folder.mkdir()
    demo_videos.clip(
        folder / "IMG_0001.MOV", demo_videos.random_take(random.Random(4)), seconds=3.0, width=96, height=64
    )
    shutil.copy(folder / "IMG_0001.MOV", folder / "IMG_0002.MOV")
    make_photo(folder / "IMG_0001.JPG")
    db = tmp_path / "shashin.db"
    run("shashin-hash", "--db", db, folder, check=0)
    result, groups = grouped(db)
    assert not any(str(folder / "IMG_0001.MOV") in group["paths"] for group in groups)
    assert "1 companion" in result.stderr


def test_videos_said_not_duplicates_stay_apart(clips, tmp_path):
    _, made = clips
    db = tmp_path / "shashin.db"
    original, resized = made[1]["original"], made[1]["copies"]["resize"]
    run("shashin-hash", "--db", db, original, resized, check=0)
    assert len(grouped(db)[1]) == 1
    run("shashin-group", "--db", db, "--not-duplicates", original, resized, check=0)
    assert grouped(db)[1] == []


def test_a_video_copy_goes_to_the_trash_and_back_as_a_photo_does(clips, tmp_path):
    """The same removal path as photos: the copy moves into the trash with a journal entry, the last copy of
    the clip is refused, and restoring puts the same bytes back where they were."""
    _, made = clips
    library = tmp_path / "library"
    library.mkdir()
    original = shutil.copy(made[0]["original"], library / "a.mp4")
    copy = shutil.copy(made[0]["copies"]["whatsapp"], library / "b.mp4")
    db = tmp_path / "shashin.db"
    run("shashin-hash", "--db", db, "-q", library, check=0)
    assert len(grouped(db)[1]) == 1
    store = Store(db)
    group = store.groups_of_paths([str(copy)])[str(copy)]
    content = md5(copy)
    trash.remove(store, group, [str(copy)])
    assert not os.path.exists(copy) and os.path.exists(original)
    with pytest.raises(trash.Refused):
        trash.remove(store, group, [str(original)])
    [entry] = store.trash_entries()
    [result] = trash.restore(store, [entry["id"]])
    assert result.ok and md5(copy) == content


@pytest.fixture(scope="module")
def reviewed(clips, tmp_path_factory):
    """The first original with three copies, hashed and grouped: ``(db, paths)``."""
    _, made = clips
    paths = [made[0]["original"], *(made[0]["copies"][kind] for kind in ("resize", "whatsapp", "trim_end"))]
    db = tmp_path_factory.mktemp("review") / "shashin.db"
    run("shashin-hash", "--db", db, "-q", *paths, check=0)
    run("shashin-group", "--db", db, "-q", check=0)
    return db, paths


@pytest.mark.asyncio
async def test_the_review_page_shows_a_video_card_that_plays_on_demand(reviewed):
    db, paths = reviewed
    html = (await Visitor(await datasette(db)).get("/-/shashin")).text
    assert html.count('<video class="shashin-video" controls preload="none"') == 4
    assert "/-/shashin/video/{}?copy={}".format(md5(paths[0]), key(paths[0])) in html
    for fact in ("Duration", "0:06.0", "Codec", "h264", "Bit rate", "kbit/s", "192 × 108"):
        assert fact in html
    # Videos are not photos, nor a Live Photo's movie beside themselves.
    assert "4 videos ·" in html and "4 photos" not in html and "Live Photo" not in html


@pytest.mark.asyncio
async def test_a_video_is_served_in_the_ranges_asked(reviewed):
    db, paths = reviewed
    visitor, data = Visitor(await datasette(db)), paths[1].read_bytes()
    url = "/-/shashin/video/{}?copy={}".format(md5(paths[1]), key(paths[1]))
    whole = await visitor.get(url)
    assert whole.status_code == 200 and whole.content == data and whole.headers["content-type"] == "video/mp4"
    assert whole.headers["accept-ranges"] == "bytes"
    part = await visitor.get(url, headers={"range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == data[100:200]
    assert part.headers["content-range"] == "bytes 100-199/{}".format(len(data))
    tail = await visitor.get(url, headers={"range": "bytes=-50"})
    assert tail.status_code == 206 and tail.content == data[-50:]
    rest = await visitor.get(url, headers={"range": "bytes={}-".format(len(data) - 10)})
    assert rest.content == data[-10:]
    beyond = await visitor.get(url, headers={"range": "bytes={}-".format(len(data))})
    assert beyond.status_code == 416 and beyond.headers["content-range"] == "bytes */{}".format(len(data))
    # More digits than Python turns into an int: not a range this serves, the whole file.
    huge = await visitor.get(url, headers={"range": "bytes={}-".format("9" * 5000)})
    assert huge.status_code == 200 and huge.content == data


@pytest.mark.asyncio
async def test_a_request_dropped_by_its_client_stops_reading_the_file(reviewed, monkeypatch):
    """A browser seeking drops its range request: the rest of the file is not read for no one."""
    db, paths = reviewed
    monkeypatch.setattr(videos, "CHUNK", 1000)
    ds = await datasette(db)
    path = "/-/shashin/video/" + md5(paths[0])
    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", b"localhost"), (b"range", b"bytes=0-")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8001),
    }
    sent, dropped = [], asyncio.Event()

    async def receive():
        if not sent:
            return {"type": "http.request", "body": b"", "more_body": False}
        await dropped.wait()
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)
        if len(sent) == 3:  # the start and two chunks, then the client is gone
            dropped.set()
        await asyncio.sleep(0)

    await ds.app()(scope, receive, send)
    assert sent[0]["status"] == 206 and paths[0].stat().st_size > 50 * 1000
    assert len(sent) <= 6


@pytest.mark.asyncio
async def test_a_video_changed_since_the_scan_is_not_served(reviewed, tmp_path):
    db, paths = reviewed
    visitor = Visitor(await datasette(db))
    copy = tmp_path / "changed.mp4"
    shutil.copy(paths[2], copy)
    run("shashin-hash", "--db", db, "-q", copy, check=0)
    copy.write_bytes(copy.read_bytes()[:-1] + b"\0")
    response = await visitor.get("/-/shashin/video/{}?copy={}".format(md5(paths[2]), key(copy)))
    assert response.status_code == 404


@pytest.mark.asyncio
async def test_a_video_rewritten_in_place_with_its_size_and_mtime_put_back_is_not_served(reviewed, tmp_path):
    """Its change time, which no one can set, is after the scan: its md5 is read again, and differs."""
    db, paths = reviewed
    visitor = Visitor(await datasette(db))
    kept, rewritten = tmp_path / "kept.mp4", tmp_path / "rewritten.mp4"
    for path in (kept, rewritten):
        shutil.copy(paths[3], path)
    run("shashin-hash", "--db", db, "-q", kept, rewritten, check=0)
    status = rewritten.stat()
    with open(rewritten, "r+b") as handle:
        handle.write(b"OTHER BYTES HERE")
    os.utime(rewritten, ns=(status.st_atime_ns, status.st_mtime_ns))
    kept.chmod(0o600)  # a newer change time, same bytes: still served
    url = "/-/shashin/video/{}?copy={}"
    assert (await visitor.get(url.format(md5(paths[3]), key(rewritten)))).status_code == 404
    assert (await visitor.get(url.format(md5(paths[3]), key(kept)))).content == paths[3].read_bytes()


@pytest.mark.asyncio
async def test_the_image_route_refuses_a_video_without_reading_it(reviewed):
    db, paths = reviewed
    response = await Visitor(await datasette(db)).get("/-/shashin/image/" + md5(paths[0]))
    assert response.status_code == 415 and "is a video, not a photo" in response.text


@pytest.mark.asyncio
async def test_the_compare_view_plays_the_copies_side_by_side(reviewed):
    db, paths = reviewed
    visitor = Visitor(await datasette(db))
    page = (await visitor.get("/-/shashin")).text
    group = re.search(r'id="group-(\d+)"', page).group(1)
    html = (await visitor.get("/-/shashin/compare/" + group)).text
    assert html.count("<video controls") == 4 and "Play together" in html


def test_the_rule_keeps_the_camera_clip(clips, scanned):
    """Before any decision, a video group's suggested keeper is the camera's clip: not a trimmed copy (shorter),
    a resized or messenger one (fewer pixels), nor a re-encode (smaller file)."""
    _, made = clips
    db, _ = scanned
    grouped(db)
    ranked = json_lines(run("shashin-rank", "--db", db, "-q", check=0).stdout)
    for entry in made:
        (group,) = [group for group in ranked if str(entry["original"]) in {m["path"] for m in group["members"]}]
        assert group["members"][0]["path"] == str(entry["original"])


def test_every_video_format_named_has_a_demuxer():
    """formats.VIDEO_FORMATS (what keeper rules accept, no PyAV there) and video.DEMUXERS name the same formats."""
    assert set(formats.VIDEO_FORMATS) == set(video.DEMUXERS)
