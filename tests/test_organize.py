"""shashin-organize as a user meets it: dated folders, names, companions, collisions, safety, the database, undo."""

import datetime
import functools
import os
import shutil
import signal
import sqlite3
import struct
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import BIN, invoke, json_lines, make_photo, md5, run
from shashin import exif, organize
from shashin.cli import organize as organize_command
from shashin.organize import applying, planning

DAY = "2021:07:14 09:30:00"


def photo(path, index=0, date=DAY, **tags):
    """A small real JPEG; with an EXIF DateTimeOriginal (and other tags) unless date is None."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(tagged_photo(index, date, tuple(sorted(tags.items()))))
    return path


@functools.cache
def tagged_photo(index, date, tags):
    """The bytes of :func:`photo`, made once a session: exiftool takes a quarter of a second to start."""
    with tempfile.TemporaryDirectory() as folder:
        path = make_photo(Path(folder) / "photo.jpg", index, 64, 48)
        set_tags([path], DateTimeOriginal=date, **dict(tags))
        return path.read_bytes()


def set_tags(paths, **tags):
    arguments = ["-{}={}".format(name, value) for name, value in tags.items() if value is not None]
    if arguments:
        subprocess.run(["exiftool", "-q", "-overwrite_original", *arguments, *map(str, paths)], check=True)


def video(path, **tags):
    """A real (empty) QuickTime movie: ftyp and a movie header, with dates written by exiftool."""

    def box(kind, data):
        return struct.pack(">I", 8 + len(data)) + kind + data

    matrix = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
    header = b"\0" * 4 + struct.pack(">IIIIIH", 0, 0, 600, 0, 0x10000, 0x100) + b"\0" * 10 + matrix
    movie = box(b"moov", box(b"mvhd", header + b"\0" * 24 + struct.pack(">I", 1)))
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_bytes(box(b"ftyp", b"qt  \0\0\0\0qt  ") + movie)
    set_tags([path], **tags)
    return Path(path)


def organize_run(db, *args, check=None, env=None):
    return run("shashin-organize", "--db", db, *args, check=check, env=env)


def tree(folder):
    """Relative paths of the files under folder."""
    folder = Path(folder)
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_copy_into_dated_folders(tmp_path, db):
    src = tmp_path / "DCIM"
    first = photo(src / "IMG_0001.JPG", 0)
    photo(src / "IMG_0002.JPG", 1, "2019:12:31 23:59:59")
    (src / "notes.txt").write_text("not a photo")
    (src / "._IMG_0001.JPG").write_bytes(b"\0\5\26\7 macOS AppleDouble")
    os.utime(first, (1_000_000_000, 1_000_000_000))
    result = organize_run(db, src, tmp_path / "Photos", check=0)
    assert json_lines(result.stdout) == [
        {"action": "skip", "src": str(src / "._IMG_0001.JPG"), "dest": None, "reason": "not a photo or video"},
        {
            "action": "copy",
            "src": str(src / "IMG_0001.JPG"),
            "dest": str(tmp_path / "Photos/2021/07/14/IMG_0001.JPG"),
            "reason": "DateTimeOriginal 2021-07-14 09:30:00",
        },
        {
            "action": "copy",
            "src": str(src / "IMG_0002.JPG"),
            "dest": str(tmp_path / "Photos/2019/12/31/IMG_0002.JPG"),
            "reason": "DateTimeOriginal 2019-12-31 23:59:59",
        },
        {"action": "skip", "src": str(src / "notes.txt"), "dest": None, "reason": "not a photo or video"},
    ]
    assert tree(src) == ["._IMG_0001.JPG", "IMG_0001.JPG", "IMG_0002.JPG", "notes.txt"]
    copy = tmp_path / "Photos/2021/07/14/IMG_0001.JPG"
    assert md5(copy) == md5(first) and copy.stat().st_mtime == 1_000_000_000
    assert "2 copied, 0 moved, 2 skipped, 0 failed" in result.stderr
    assert "shashin-organize --undo 1" in result.stderr
    again = organize_run(db, src, tmp_path / "Photos", check=0)
    assert [r["action"] for r in json_lines(again.stdout)] == ["skip"] * 4
    assert tree(tmp_path / "Photos") == ["2019/12/31/IMG_0002.JPG", "2021/07/14/IMG_0001.JPG"]


def test_dry_run_prints_the_exact_plan_and_changes_nothing(tmp_path, db):
    src = tmp_path / "in"
    photo(src / "a.jpg", 0)
    photo(src / "b" / "a.jpg", 1)  # same name, other content: numbered
    dest = tmp_path / "out"
    plan = organize_run(db, "--move", "--dry-run", src, dest, check=0)
    assert not dest.exists() and not db.exists()
    assert "0 to copy, 2 to move, 0 skipped, 0 failed" in plan.stderr
    assert tree(src) == ["a.jpg", "b/a.jpg"]
    done = organize_run(db, "--move", src, dest, check=0)
    assert json_lines(plan.stdout) == json_lines(done.stdout)
    assert tree(dest) == ["2021/07/14/a.jpg", "2021/07/14/a_1.jpg"]


def test_pattern_and_rename_fields(tmp_path, db):
    src = tmp_path / "in"
    photo(src / "DSC_0042.NEF.jpg", 0, "2020:02:29 18:05:07", Make="NIKON CORPORATION", Model="NIKON D750")
    result = organize_run(
        db,
        "--pattern",
        "{make}/{taken:%Y}",
        "--rename",
        "{taken:%Y%m%d_%H%M%S}_{model}_{name}{ext}",
        src,
        tmp_path / "out",
        check=0,
    )
    assert json_lines(result.stdout)[0]["dest"] == str(
        tmp_path / "out/NIKON CORPORATION/2020/20200229_180507_NIKON D750_DSC_0042.NEF.jpg"
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (["--rename", "{taken:%Y%m%d}"], "must contain {ext}"),
        (["--pattern", "{year}"], "unknown field {year}"),
        (["--pattern", "../{taken:%Y}"], "must stay inside DEST"),
        (["--no-db"], "--no-db works only with --dry-run"),
    ],
)
def test_bad_options_are_usage_errors(tmp_path, db, args, message):
    make_photo(tmp_path / "in/a.jpg", 0, 64, 48)
    result = invoke(organize_command.cli, "--db", db, *args, tmp_path / "in", tmp_path / "out", check=2)
    assert message in result.stderr
    assert not (tmp_path / "out").exists()


def test_help_has_examples_and_states_the_undated_default():
    result = invoke(organize_command.cli, "--help", check=0)
    assert "Examples:" in result.stdout and "--mtime-fallback" in result.stdout
    assert "[default: undated]" in result.stdout


def test_undated_files_and_mtime_fallback(tmp_path, db):
    src = tmp_path / "in"
    undated = photo(src / "scan.jpg", 0, date=None)
    os.utime(undated, (datetime.datetime(2003, 5, 6, 7, 8).timestamp(),) * 2)
    plan = json_lines(organize_run(db, "--dry-run", src, tmp_path / "out", check=0).stdout)
    assert plan[0]["dest"] == str(tmp_path / "out/undated/scan.jpg")
    assert plan[0]["reason"] == "no capture date"
    plan = json_lines(organize_run(db, "--dry-run", "--undated", "no date/yet", src, tmp_path / "out").stdout)
    assert plan[0]["dest"] == str(tmp_path / "out/no date/yet/scan.jpg")
    plan = json_lines(organize_run(db, "--dry-run", "--mtime-fallback", src, tmp_path / "out").stdout)
    assert plan[0]["dest"] == str(tmp_path / "out/2003/05/06/scan.jpg")
    assert plan[0]["reason"] == "FileModifyDate 2003-05-06 07:08:00"


def test_name_collisions_both_ways(tmp_path, db):
    """Identical content is a duplicate and stays; a different file with the same name gets a number."""
    dest = tmp_path / "out/2021/07/14"
    src = tmp_path / "in"
    same = photo(src / "one/IMG_0001.jpg", 0)
    other = photo(src / "one/IMG_0002.jpg", 1)
    twin = src / "two/IMG_0001.jpg"  # identical to one/IMG_0001.jpg: a duplicate within the run
    twin.parent.mkdir()
    shutil.copy(same, twin)
    rival = photo(src / "two/IMG_0002.jpg", 2)  # same name as one/IMG_0002.jpg, other content
    dest.mkdir(parents=True)
    shutil.copy(same, dest / "IMG_0001.jpg")  # already organized once
    photo(dest / "IMG_0002.jpg", 3)  # an unrelated file under the name
    results = json_lines(organize_run(db, "--move", src, tmp_path / "out", check=0).stdout)
    outcome = {
        (Path(r["src"]).parent.name, Path(r["src"]).name): (r["action"], r["dest"], r["reason"]) for r in results
    }
    assert outcome[("one", "IMG_0001.jpg")][0] == "skip"
    assert outcome[("one", "IMG_0001.jpg")][2] == "duplicate: same content already at dest"
    assert outcome[("two", "IMG_0001.jpg")][0] == "skip"
    assert outcome[("one", "IMG_0002.jpg")][:2] == ("move", str(dest / "IMG_0002_1.jpg"))
    assert outcome[("two", "IMG_0002.jpg")][:2] == ("move", str(dest / "IMG_0002_2.jpg"))
    assert tree(src) == ["one/IMG_0001.jpg", "two/IMG_0001.jpg"]  # duplicates are never deleted
    assert tree(dest) == ["IMG_0001.jpg", "IMG_0002.jpg", "IMG_0002_1.jpg", "IMG_0002_2.jpg"]
    assert md5(dest / "IMG_0002_2.jpg") != md5(dest / "IMG_0002_1.jpg")
    assert not other.exists() and not rival.exists()


def test_companions_travel_with_their_photo(tmp_path, db):
    src = tmp_path / "in"
    photo(src / "IMG_0001.jpg", 0)
    photo(src / "IMG_0007.JPG", 1)
    make_photo(src / "IMG_0007.NEF", 1, 64, 48, fmt="tiff")  # the RAW of a RAW+JPEG pair (TIFF-based)
    set_tags([src / "IMG_0007.NEF"], DateTimeOriginal="2021:07:15 10:00:00")
    video(src / "IMG_0007.MOV", CreateDate="2021:07:13 23:00:00")  # Live Photo movie, UTC date another day
    (src / "IMG_0007.AAE").write_text("<plist/>")
    (src / "IMG_0007.NEF.xmp").write_text("<x:xmpmeta/>")
    (src / "lonely.xmp").write_text("<x:xmpmeta/>")
    dest = tmp_path / "out"
    (dest / "2021/07/15").mkdir(parents=True)
    (dest / "2021/07/15/20210715_100000.AAE").write_text("another edit")  # forces a number on the whole unit
    results = json_lines(
        organize_run(db, "--move", "--rename", "{taken:%Y%m%d_%H%M%S}{ext}", src, dest, check=0).stdout
    )
    by_name = {Path(r["src"]).name: r for r in results}
    assert by_name["IMG_0007.NEF"]["reason"] == "DateTimeOriginal 2021-07-15 10:00:00"
    assert by_name["IMG_0007.MOV"]["reason"] == "with IMG_0007.NEF"
    assert by_name["lonely.xmp"] == {
        "action": "skip",
        "src": str(src / "lonely.xmp"),
        "dest": None,
        "reason": "sidecar without its photo",
    }
    assert tree(dest / "2021/07/15") == [
        "20210715_100000.AAE",
        "20210715_100000_1.AAE",
        "20210715_100000_1.JPG",
        "20210715_100000_1.MOV",
        "20210715_100000_1.NEF",
        "20210715_100000_1.NEF.xmp",
    ]
    assert tree(dest / "2021/07/14") == ["20210714_093000.jpg"]
    assert tree(src) == ["lonely.xmp"]


def test_a_named_file_brings_its_companions(tmp_path, db):
    src = tmp_path / "in"
    photo(src / "IMG_0001.jpg")
    (src / "IMG_0001.xmp").write_text("<x:xmpmeta/>")
    photo(src / "IMG_0002.jpg", 1)
    organize_run(db, "--move", src / "IMG_0001.jpg", tmp_path / "out", check=0)
    assert tree(tmp_path / "out") == ["2021/07/14/IMG_0001.jpg", "2021/07/14/IMG_0001.xmp"]
    assert tree(src) == ["IMG_0002.jpg"]


def test_a_file_given_twice_is_placed_once(tmp_path, db):
    src = photo(tmp_path / "in/a.jpg")
    result = organize_run(db, "--move", tmp_path / "in", src, tmp_path / "out", check=0)
    assert [r["action"] for r in json_lines(result.stdout)] == ["move", "skip"]
    assert tree(tmp_path / "out") == ["2021/07/14/a.jpg"]


def test_videos_quicktime_utc_in_local_time(tmp_path, db):
    src = tmp_path / "in"
    # An iPhone movie: CreateDate in UTC, and CreationDate with the local offset.
    video(
        src / "iphone.mov",
        **{"QuickTime:CreateDate": "2022:12:31 23:30:00", "Keys:CreationDate": "2023:01:01 00:30:00+01:00"},
    )
    video(src / "camera.mp4", **{"QuickTime:CreateDate": "2022:06:30 20:00:00"})  # UTC, no offset: this computer's zone
    # Edited in a tool that added an XMP CreateDate: QuickTime's (UTC) still ranks first.
    video(
        src / "edited.mp4", **{"QuickTime:CreateDate": "2022:06:30 20:00:00", "XMP:CreateDate": "2022:06:30 20:00:00"}
    )
    results = json_lines(organize_run(db, "--dry-run", src, tmp_path / "out", env={"TZ": "Asia/Tokyo"}).stdout)
    dests = {Path(r["src"]).name: r["dest"] for r in results}
    assert dests["iphone.mov"] == str(tmp_path / "out/2023/01/01/iphone.mov")
    assert dests["camera.mp4"] == str(tmp_path / "out/2022/07/01/camera.mp4")
    assert dests["edited.mp4"] == str(tmp_path / "out/2022/07/01/edited.mp4")


def test_move_keeps_the_database_true(tmp_path, db, open_store):
    src = tmp_path / "in"
    for index in range(3):
        photo(src / "IMG_{}.jpg".format(index), index)
    shutil.copy(src / "IMG_0.jpg", src / "copy of IMG_0.jpg")
    run("shashin-hash", "--db", db, src, check=0)
    run("shashin-meta", "--db", db, src, check=0)
    run("shashin-group", "--db", db, check=0)
    with sqlite3.connect(db) as conn:
        before = dict(conn.execute("select path, md5 || dhash || hashed_at from images").fetchall())
        grouped = conn.execute("select count(*) from group_members").fetchone()[0]
    assert grouped == 2
    organize_run(db, "--move", "--rename", "{taken:%H%M%S}_{name}{ext}", src, tmp_path / "out", check=0)
    dest = tmp_path / "out/2021/07/14"
    with sqlite3.connect(db) as conn:
        after = dict(conn.execute("select path, md5 || dhash || hashed_at from images").fetchall())
        members = conn.execute(
            "select m.path, i.md5 from group_members m join images i on i.path = m.path order by m.path"
        ).fetchall()
        metadata = conn.execute(
            "select json_extract(metadata, '$.\"File:FileName\"') from images where path = ?",
            [str(dest / "093000_IMG_1.jpg")],
        ).fetchone()[0]
    assert after == {str(dest / ("093000_" + Path(path).name)): value for path, value in before.items()}
    assert [path for path, md5_ in members] == [str(dest / "093000_IMG_0.jpg"), str(dest / "093000_copy of IMG_0.jpg")]
    store = open_store(db)
    shown = [row for rows in store.review_members(list(store.group_ids())).values() for row in rows]
    assert [(row["path"], row["has_thumbnail"]) for row in shown] == [(path, 1) for path, _ in members]
    assert metadata == "093000_IMG_1.jpg"
    rescan = run("shashin-hash", "--db", db, tmp_path / "out", check=0)
    assert "0 hashed, 4 cached" in rescan.stderr  # nothing hashed again


def test_copies_get_rows_too(tmp_path, db):
    src = tmp_path / "in"
    photo(src / "a.jpg")
    run("shashin-hash", "--db", db, src, check=0)
    run("shashin-meta", "--db", db, src, check=0)
    organize_run(db, src, tmp_path / "out", check=0)
    with sqlite3.connect(db) as conn:
        rows = conn.execute("select path, md5, taken_at from images order by path").fetchall()
    assert [row[0] for row in rows] == [str(src / "a.jpg"), str(tmp_path / "out/2021/07/14/a.jpg")]
    assert rows[0][1:] == rows[1][1:]
    assert "0 hashed, 1 cached" in run("shashin-hash", "--db", db, tmp_path / "out", check=0).stderr


def test_destination_inside_the_source(tmp_path, db):
    library = tmp_path / "Pictures"
    photo(library / "a.jpg", 0)
    photo(library / "old/b.jpg", 1, "2020:01:02 03:04:05")
    organize_run(db, "--move", library, library / "sorted", check=0)
    again = organize_run(db, "--move", library, library / "sorted", check=0)
    assert json_lines(again.stdout) == []
    assert tree(library) == ["sorted/2020/01/02/b.jpg", "sorted/2021/07/14/a.jpg"]


def test_organizing_in_place_leaves_sorted_files_alone(tmp_path, db):
    library = tmp_path / "Photos"
    photo(library / "2021/07/14/a.jpg", 0)
    photo(library / "inbox/b.jpg", 1)
    results = json_lines(organize_run(db, "--move", library, library, check=0).stdout)
    assert [(r["action"], r["reason"]) for r in results][0] == ("skip", "already in place")
    assert tree(library) == ["2021/07/14/a.jpg", "2021/07/14/b.jpg"]


@pytest.fixture
def mounts(tmp_path):
    """Mount second file systems for a test (``mount(name, *mount arguments)``), or skip where this machine cannot."""
    points = []

    def mount(name, *arguments):
        point = tmp_path / name
        point.mkdir()
        result = subprocess.run(["mount", *arguments, str(point)], capture_output=True)
        if result.returncode:
            pytest.skip("cannot mount here (needs root and CAP_SYS_ADMIN): " + result.stderr.decode())
        points.append(point)
        return point

    yield mount
    for point in reversed(points):
        subprocess.run(["umount", "-l", str(point)])


@pytest.fixture
def tmpfs(mounts):
    """A small tmpfs: ``tmpfs(name, size, options)``."""
    return lambda name, size="64m", options="": mounts(name, "-t", "tmpfs", "-o", "size=" + size + options, "tmpfs")


def test_read_only_destination(tmp_path, db, tmpfs):
    photo(tmp_path / "in/a.jpg")
    dest = tmpfs("ro", options=",ro")
    result = organize_run(db, "--move", tmp_path / "in", dest / "Photos", check=2)
    assert "cannot write to {} (read-only?)".format(dest) in result.stderr
    assert tree(tmp_path / "in") == ["a.jpg"]


def big_photos(folder, count, size):
    """Real JPEGs padded with random bytes after the image (still valid), each unique."""
    paths = []
    for index in range(count):
        path = photo(folder / "IMG_{:04d}.jpg".format(index), index)
        with open(path, "ab") as handle:
            handle.write(os.urandom(size))
        paths.append(path)
    return {md5(path): path for path in paths}


def test_cross_filesystem_move_survives_kill_9(tmp_path, db, tmpfs):
    src = tmp_path / "in"
    originals = big_photos(src, 5, 4 << 20)
    dest = tmpfs("nas", "256m") / "Photos"
    command = [str(BIN / "shashin-organize"), "--db", str(db), "--move", str(src), str(dest)]
    # Killed while the first copy is written, then again once a few files are through.
    for moment in (lambda: list(dest.rglob(organize.TEMP_PREFIX + "*")), lambda: len(list(dest.rglob("*.jpg"))) >= 2):
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while process.poll() is None and not moment():
            time.sleep(0.001)
        process.send_signal(signal.SIGKILL)
        process.wait()
        for path in dest.rglob("*.jpg"):  # nothing half-written under a final name
            assert md5(path) in originals
        assert {md5(p) for p in src.rglob("*.jpg")} | {md5(p) for p in dest.rglob("*.jpg")} == set(originals)
    result = organize_run(db, "--move", src, dest, check=0)
    assert tree(src) == []
    found = [md5(path) for path in dest.rglob("*") if path.is_file()]
    assert sorted(found) == sorted(originals)  # every file once: none lost, none duplicated, no temporary
    with sqlite3.connect(db) as conn:
        assert conn.execute("select count(*) from organize_journal where state = 'planned'").fetchone()[0] == 0
    assert "failed" not in result.stdout


def test_ctrl_c_stops_cleanly_and_a_rerun_finishes(tmp_path, db, tmpfs):
    src = tmp_path / "in"
    originals = big_photos(src, 5, 4 << 20)
    dest = tmpfs("nas", "256m") / "Photos"
    command = [str(BIN / "shashin-organize"), "--db", str(db), "--move", str(src), str(dest)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while process.poll() is None and len(list(dest.rglob("*.jpg"))) < 2:
        time.sleep(0.001)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate()
    if process.returncode == 0:
        pytest.skip("the run finished before it could be interrupted")
    assert process.returncode == 130 and "run the same command again to finish" in stderr
    assert [record["action"] for record in json_lines(stdout)] == ["move"] * len(json_lines(stdout))
    assert [p for p in dest.rglob("*") if p.name.startswith(organize.TEMP_PREFIX)] == []
    organize_run(db, "--move", src, dest, check=0)
    assert tree(src) == [] and sorted(md5(p) for p in dest.rglob("*.jpg")) == sorted(originals)


def test_undo_a_cross_filesystem_move(tmp_path, db, tmpfs):
    src = tmp_path / "in"
    originals = big_photos(src, 2, 1 << 16)
    dest = tmpfs("nas") / "Photos"
    organize_run(db, "--move", src, dest, check=0)
    assert tree(src) == [] and len(tree(dest)) == 2
    organize_run(db, "--undo", "1", check=0)
    assert {md5(path): path for path in src.rglob("*.jpg")} == originals
    assert tree(dest) == [] and not (dest / "2021").exists()


def test_no_hashing_again_after_a_move_to_coarser_file_times(tmp_path, db, mounts):
    """ext2 with 128-byte inodes keeps whole seconds, as FAT or some NAS shares keep coarse times."""
    image = tmp_path / "ext2.img"
    if shutil.which("mke2fs") is None:
        pytest.skip("mke2fs is not installed")
    subprocess.run(["truncate", "-s", "8M", str(image)], check=True)
    subprocess.run(["mke2fs", "-q", "-F", "-I", "128", str(image)], check=True, capture_output=True)
    dest = mounts("ext2", "-o", "loop", str(image)) / "Photos"
    src = tmp_path / "in"
    for index in range(2):
        os.utime(photo(src / "{}.jpg".format(index), index), ns=(1_600_000_000_123_456_789,) * 2)
    run("shashin-hash", "--db", db, src, check=0)
    organize_run(db, "--move", src, dest, check=0)
    moved = dest / "2021/07/14/0.jpg"
    assert moved.stat().st_mtime == 1_600_000_000
    assert "0 hashed, 2 cached" in run("shashin-hash", "--db", db, dest, check=0).stderr


def test_recover_finishes_a_move_killed_between_copy_and_removal(tmp_path, db, tmpfs, open_store):
    """The narrowest window: the verified copy is in place, the source not yet removed."""
    src = photo(tmp_path / "in/a.jpg")
    dest = tmpfs("nas") / "2021/07/14/a.jpg"
    dest.parent.mkdir(parents=True)
    store = open_store(db)
    stat = src.stat()
    action = organize.Action("move", str(src), str(dest), None, stat.st_size, stat.st_mtime)
    store.journal_organize(store.start_organize_run("move", None), [action])
    applying.copy_verified(str(src), applying.temp_path(action), str(dest))
    (finished,) = applying.recover(store)
    assert not finished.failed and not src.exists() and dest.exists()
    assert store.organize_entries(1, "done")[0]["md5"] == md5(dest)


def test_full_destination_disk(tmp_path, db, tmpfs):
    src = tmp_path / "in"
    originals = big_photos(src, 4, 1 << 20)
    dest = tmpfs("small", "2600k")
    result = organize_run(db, "--move", src, dest, check=1)
    results = json_lines(result.stdout)
    failed = [r for r in results if r["reason"] == "no space left on device"]
    assert failed and len(failed) < 4
    assert all(Path(r["src"]).exists() for r in failed)  # sources of failed moves untouched
    assert [p for p in dest.rglob("*") if p.name.startswith(organize.TEMP_PREFIX)] == []
    everything = [md5(p) for p in src.rglob("*.jpg")] + [md5(p) for p in dest.rglob("*.jpg")]
    assert sorted(everything) == sorted(originals)
    assert "no space left on device" in result.stderr


def test_one_run_at_a_time(tmp_path, db):
    photo(tmp_path / "in/a.jpg")
    with applying.exclusive(str(db)):
        result = organize_run(db, "--move", tmp_path / "in", tmp_path / "out", check=2)
    assert "another shashin-organize is running on this database" in result.stderr
    assert tree(tmp_path / "in") == ["a.jpg"]


def test_a_file_vanishing_mid_run(tmp_path, db, open_store):
    src = tmp_path / "in"
    for index in range(3):
        photo(src / "{}.jpg".format(index), index)
    options = organize.Options(str(tmp_path / "out"), move=True)
    store = open_store(db)
    with exif.Session() as session:
        plan = list(planning.planned([str(src)], options, store, session))
    (src / "1.jpg").unlink()
    results = list(applying.apply(plan, store, store.start_organize_run("move", options)))
    assert [(Path(a.src).name, a.failed, a.reason) for a in results] == [
        ("0.jpg", False, "DateTimeOriginal 2021-07-14 09:30:00"),
        ("1.jpg", True, "no such file or directory"),
        ("2.jpg", False, "DateTimeOriginal 2021-07-14 09:30:00"),
    ]
    assert tree(tmp_path / "out") == ["2021/07/14/0.jpg", "2021/07/14/2.jpg"]
    states = [row["state"] for row in store.db.query("select state from organize_journal order by id")]
    assert states == ["done", "failed", "done"]


def test_a_duplicate_of_a_file_already_moved_by_the_run(tmp_path, db, open_store):
    """Planning goes on while earlier batches are moved: the first copy is compared where it went."""
    src = tmp_path / "in"
    photo(src / "a/x.jpg")
    (src / "b").mkdir()
    shutil.copy2(src / "a/x.jpg", src / "b/x.jpg")
    options = organize.Options(str(tmp_path / "out"), move=True)
    store = open_store(db)
    with exif.Session() as session:
        plan = planning.planned([str(src)], options, store, session)
        results = list(applying.apply(plan, store, store.start_organize_run("move", options), batch=1))
    assert [(a.action, a.reason) for a in results][1] == ("skip", "duplicate: same content already at dest")
    assert tree(tmp_path / "out") == ["2021/07/14/x.jpg"] and tree(src) == ["b/x.jpg"]


def test_undo_a_move_and_a_copy(tmp_path, db):
    src = tmp_path / "in"
    photo(src / "a.jpg", 0)
    (src / "a.xmp").write_text("<x:xmpmeta/>")
    photo(src / "sub/b.jpg", 1, "2020:01:01 00:00:00")
    run("shashin-hash", "--db", db, src, check=0)
    with sqlite3.connect(db) as conn:
        before = conn.execute("select path, md5 from images order by path").fetchall()
    moved = organize_run(db, "--move", src, tmp_path / "out", check=0)
    assert tree(src) == []
    undone = organize_run(db, "--undo", "1", check=0)
    assert [r["action"] for r in json_lines(undone.stdout)] == ["move"] * 3
    assert tree(src) == ["a.jpg", "a.xmp", "sub/b.jpg"]
    assert not (tmp_path / "out/2021").exists() and not (tmp_path / "out/2020").exists()  # emptied folders go
    with sqlite3.connect(db) as conn:
        assert conn.execute("select path, md5 from images order by path").fetchall() == before
        assert (
            conn.execute("select count(*) from organize_journal where run = 1 and state = 'undone'").fetchone()[0] == 3
        )
    assert "journal 1" in moved.stderr
    organize_run(db, src, tmp_path / "out", check=0)  # journal 3: copies
    (tmp_path / "out/2021/07/14/a.xmp").write_text("edited since")  # a changed copy is kept
    result = organize_run(db, "--undo", "3", check=1)
    assert tree(tmp_path / "out") == ["2021/07/14/a.xmp"]
    assert tree(src) == ["a.jpg", "a.xmp", "sub/b.jpg"]
    assert "differs from the original" in result.stderr
    assert organize_run(db, "--undo", "99", check=2).stderr.strip().endswith("no journal 99 in {}".format(db))
