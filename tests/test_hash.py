"""shashin-hash as a user meets it: records, formats, rescans, moves, bad input, exit codes."""

import os
import shutil
import signal
import sqlite3
import struct
import subprocess
import zlib
from pathlib import Path

import exiftool
import pytest
import threadpoolctl
from wand.color import Color
from wand.image import Image

from conftest import BIN, invoke, json_lines, make_photo, rewrite_keeping_size_and_mtime, run, run_unprivileged
from shashin import hashing, imaging
from shashin.cli import hash as hash_command


def hamming(a, b):
    return bin(int(a, 16) ^ int(b, 16)).count("1")


def test_record_fields_and_database(library, db):
    result = run("shashin-hash", "--db", db, library, check=0)
    records = json_lines(result.stdout)
    assert [os.path.basename(r["path"]) for r in records] == ["photo0.jpg", "photo1.jpg", "photo2.jpg"]
    first = records[0]
    assert os.path.isabs(first["path"])
    assert first["width"] == 640 and first["height"] == 480 and first["format"] == "JPEG"
    assert len(first["dhash"]) == 16 and int(first["dhash"], 16) >= 0
    assert len(first["md5"]) == 32 and first["size"] == os.path.getsize(first["path"])
    assert "3 hashed, 0 cached" in result.stderr
    with sqlite3.connect(db) as conn:
        assert conn.execute("pragma journal_mode").fetchone()[0] == "wal"
        row = conn.execute("select md5, dhash from images where path = ?", [first["path"]]).fetchone()
        assert row == (first["md5"], first["dhash"])
        (jpeg,) = conn.execute("select jpeg from thumbnails where md5 = ?", [first["md5"]]).fetchone()
    with Image(blob=jpeg) as thumbnail:
        assert max(thumbnail.size) == 256 and thumbnail.format == "JPEG"
        assert not any(key.startswith("exif:") for key in thumbnail.metadata)
    assert len(jpeg) < 100_000


@pytest.mark.parametrize(
    "size, thumbnail",
    [
        ((1600, 1200), (256, 192)),
        ((1920, 1080), (256, 144)),
        ((2000, 600), (480, 144)),
        ((400, 1400), (144, 504)),
        ((4000, 400), (768, 77)),
        ((200, 50), (200, 50)),
    ],
)
def test_a_wide_or_tall_picture_keeps_a_16_9_short_side_in_its_thumbnail(tmp_path, db, size, thumbnail):
    # A collage of a landscape photo or a screenshot of a portrait one: 256 px long, its photo would be too small
    # to verify across the change of frame. Beyond 768 px long (a panorama), no more; never larger than the picture.
    photo = make_photo(tmp_path / "wide.png", 0, *size)
    run("shashin-hash", "--db", db, "-q", photo, check=0)
    with sqlite3.connect(db) as conn:
        (jpeg,) = conn.execute("select jpeg from thumbnails").fetchone()
    with Image(blob=jpeg) as image:
        assert image.size == thumbnail


def test_output_order_is_input_order_with_several_workers(tmp_path, db):
    paths = [make_photo(tmp_path / "p{:02d}.png".format(i), i, 96, 64) for i in range(12)]
    shuffled = paths[5:] + paths[:5]
    result = run("shashin-hash", "--db", db, "-j", "2", input="\n".join(map(str, shuffled)) + "\n", check=0)
    assert [r["path"] for r in json_lines(result.stdout)] == [str(p) for p in shuffled]


def test_nul_separated_and_json_lines_input(library, db):
    find = subprocess.run(["find", str(library), "-type", "f", "-print0"], capture_output=True, check=True)
    result = run("shashin-hash", "--no-db", "-0", input=find.stdout.decode(), check=0)
    records = json_lines(result.stdout)
    assert len(records) == 3
    again = run("shashin-hash", "--no-db", input=result.stdout, check=0)
    assert json_lines(again.stdout) == records


@pytest.mark.parametrize(
    "name, fmt",
    [("a.png", "png"), ("a.gif", "gif"), ("a.tif", "tiff"), ("a.webp", "webp"), ("a.bmp", "bmp")],
)
def test_formats(tmp_path, name, fmt):
    path = make_photo(tmp_path / name, 1, 120, 80, fmt=fmt)
    (record,) = json_lines(run("shashin-hash", "--no-db", path, check=0).stdout)
    assert (record["width"], record["height"]) == (120, 80)


@pytest.mark.parametrize("fmt", ["HEIC", "AVIF"])
def test_heic_and_avif_when_imagemagick_can_write_them(tmp_path, fmt):
    path = tmp_path / ("a." + fmt.lower())
    try:
        make_photo(path, 1, 128, 96, fmt=fmt.lower())
    except Exception as error:  # the encoders are optional libheif plugins
        pytest.skip("this ImageMagick cannot write {}: {}".format(fmt, error))
    (record,) = json_lines(run("shashin-hash", "--no-db", path, check=0).stdout)
    assert (record["width"], record["height"], record["format"]) == (128, 96, fmt)


def test_cmyk_16bit_greyscale_alpha_and_multiframe(tmp_path):
    source = make_photo(tmp_path / "rgb.png", 2, 160, 120)
    with Image(filename=str(source)) as image:
        with image.clone() as cmyk:
            cmyk.transform_colorspace("cmyk")
            cmyk.save(filename=str(tmp_path / "cmyk.jpg"))
        with image.clone() as deep:
            deep.depth = 16
            deep.save(filename=str(tmp_path / "deep.tif"))
        with image.clone() as grey:
            grey.transform_colorspace("gray")
            grey.save(filename=str(tmp_path / "grey.png"))
        with image.clone() as alpha:
            alpha.alpha_channel = "set"
            alpha.save(filename=str(tmp_path / "alpha.png"))
        with Image() as frames:
            frames.sequence.append(image)
            with Image(width=160, height=120, background=Color("black")) as black:
                frames.sequence.append(black)
            frames.save(filename=str(tmp_path / "frames.gif"))
    names = ["rgb.png", "cmyk.jpg", "deep.tif", "grey.png", "alpha.png", "frames.gif"]
    result = run("shashin-hash", "--no-db", *[tmp_path / n for n in names], check=0)
    records = {os.path.basename(r["path"]): r for r in json_lines(result.stdout)}
    assert set(records) == set(names)
    for name in names:
        # Every variant shows the same picture, so hashes stay close to the RGB original's.
        assert hamming(records[name]["dhash"], records["rgb.png"]["dhash"]) <= 6, name


def test_exif_orientation(tmp_path):
    upright = make_photo(tmp_path / "upright.png", 3, 200, 120)
    rotated = tmp_path / "rotated.png"
    tagged = tmp_path / "tagged.tif"
    with Image(filename=str(upright)) as image:
        with image.clone() as turned:
            turned.rotate(90)
            turned.save(filename=str(rotated))
        with image.clone() as stored:
            # Pixels stored unrotated, with a tag telling viewers to turn them 90 degrees clockwise.
            stored.orientation = "right_top"
            stored.save(filename=str(tagged))
    records = json_lines(run("shashin-hash", "--no-db", rotated, tagged, check=0).stdout)
    by_name = {os.path.basename(r["path"]): r for r in records}
    assert (by_name["tagged.tif"]["width"], by_name["tagged.tif"]["height"]) == (120, 200)
    assert by_name["tagged.tif"]["dhash"] == by_name["rotated.png"]["dhash"]


def test_rescan_does_not_read_unchanged_files(library, db):
    run("shashin-hash", "--db", db, library, check=0)
    # Same size and mtime, different bytes: only a rescan that trusts the database stays quiet.
    rewrite_keeping_size_and_mtime(library / "photo1.jpg")
    result = run("shashin-hash", "--db", db, library, check=0)
    assert "0 hashed, 3 cached" in result.stderr
    assert len(json_lines(result.stdout)) == 3


def test_changed_file_is_hashed_again_and_its_metadata_forgotten(library, db):
    run("shashin-hash", "--db", db, library, check=0)
    make_photo(library / "photo1.jpg", 4)
    result = run("shashin-hash", "--db", db, library, check=0)
    assert "1 hashed, 2 cached" in result.stderr


def test_moved_and_copied_files_reuse_stored_hashes(library, db):
    first = {r["md5"]: r for r in json_lines(run("shashin-hash", "--db", db, library, check=0).stdout)}
    moved = library / "Sorted" / "moved.jpg"
    moved.parent.mkdir()
    shutil.move(library / "photo0.jpg", moved)
    shutil.copy(library / "photo1.jpg", library / "copy.jpg")
    result = run("shashin-hash", "--db", db, moved, library / "copy.jpg", check=0)
    assert "0 hashed, 0 cached, 2 reused" in result.stderr
    for record in json_lines(result.stdout):
        assert record["dhash"] == first[record["md5"]]["dhash"]


def test_prune_forgets_files_that_are_gone(library, db):
    run("shashin-hash", "--db", db, library, check=0)
    (library / "photo2.jpg").unlink()
    result = run("shashin-hash", "--db", db, "--prune", library, check=0)
    assert "1 pruned" in result.stderr
    with sqlite3.connect(db) as conn:
        assert conn.execute("select count(*) from images").fetchone()[0] == 2
        assert conn.execute("select count(*) from thumbnails").fetchone()[0] == 2


def _huge_png(path, side=16000):
    """A valid greyscale PNG of side x side pixels, written without decoding anything that big."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    compressor = zlib.compressobj(9)
    row = b"\0" * (side + 1)
    data = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b""))


def test_bad_inputs_get_one_line_each_and_the_run_goes_on(tmp_path, db):
    folder = tmp_path / "in"
    good = make_photo(folder / "good.jpg", 0)
    (folder / "empty.jpg").write_bytes(b"")
    (folder / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0" + os.urandom(4000))
    (folder / "truncated.jpg").write_bytes(good.read_bytes()[:3000])
    (folder / "notes.txt").write_text("not a photo")
    (folder / "fake.png").write_text("not a png either")
    _huge_png(folder / "huge.png")
    os.symlink(folder / "loop-a", folder / "loop-b")
    os.symlink(folder / "loop-b", folder / "loop-a")
    os.symlink(folder, folder / "self")
    os.mkfifo(folder / "pipe.jpg")  # opening it would wait for a writer for ever
    result = run("shashin-hash", "--db", db, "-v", folder, check=1)
    lines = result.stderr.splitlines()
    errors = {
        name: [line for line in lines if "/{}:".format(name) in line]
        for name in ["empty.jpg", "corrupt.jpg", "truncated.jpg", "fake.png", "huge.png"]
    }
    assert all(len(found) == 1 for found in errors.values()), lines
    assert "empty" in errors["empty.jpg"][0]
    assert "truncated" in errors["truncated.jpg"][0]
    assert "megapixel" in errors["huge.png"][0]
    assert any("skipped" in line and "notes.txt" in line for line in lines)
    assert any("skipped" in line and "loop-a" in line and "symbolic link" in line for line in lines)
    assert any("skipped" in line and "pipe.jpg: not a regular file" in line for line in lines)
    assert [r["path"] for r in json_lines(result.stdout)] == [str(good)]
    assert "1 hashed" in result.stderr and "5 failed" in result.stderr
    # Remembered: an unchanged bad file is not decoded again, and is counted in one line, not failed anew.
    again = run("shashin-hash", "--db", db, folder, check=0)
    assert "0 failed" in again.stderr and "1 cached" in again.stderr
    assert "5 known-bad files (unchanged since they failed" in again.stderr


def test_a_worker_killed_mid_run_does_not_stop_the_run(tmp_path, db):
    # What the kernel's out-of-memory killer does to a worker decoding a huge photo.
    process = _started(tmp_path, db, 60)
    first = process.stdout.readline()
    for pid in _children(process.pid):
        os.kill(pid, signal.SIGKILL)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert len(json_lines((first + out).decode())) == 60
    assert b"60 hashed" in err


def test_an_interrupted_scan_keeps_what_it_printed(tmp_path, db):
    process = _started(tmp_path, db, 60)
    printed = b"".join(process.stdout.readline() for _ in range(3))
    process.send_signal(signal.SIGINT)
    printed += process.communicate(timeout=120)[0]
    assert process.returncode != 0
    again = run("shashin-hash", "--db", db, tmp_path / "in", check=0)
    cached = int(again.stderr.split(" cached")[0].rsplit(" ", 1)[1])
    assert 3 <= len(json_lines(printed.decode())) <= cached


def _started(tmp_path, db, count):
    """shashin-hash -j 2 started on count 6 MP JPEGs (distinct by their bytes): a run long enough to disturb.

    Unbuffered, so that reading its first lines reads nothing more.
    """
    photo = make_photo(tmp_path / "base.jpg", 0, 3000, 2000).read_bytes()
    folder = tmp_path / "in"
    folder.mkdir()
    for index in range(count):
        (folder / "IMG_{:03d}.jpg".format(index)).write_bytes(photo + index.to_bytes(4, "big"))
    command = [str(BIN / "shashin-hash"), "-j", "2", "--db", str(db), str(folder)]
    # A shell's background job ignores SIGINT, and so does a scan it starts (a suite run with `&` did, and the
    # interrupt never reached the scan): the scan starts as from a terminal.
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0, preexec_fn=_interruptible
    )


def _interruptible():
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _children(parent):
    children = []
    for entry in os.listdir("/proc"):
        try:
            fields = (Path("/proc") / entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == parent:
            children.append(int(entry))
    return children


def test_missing_input_and_usage_errors(tmp_path, db):
    result = invoke(hash_command.cli, "--db", db, tmp_path / "nope.jpg", check=1)
    assert "nope.jpg: no such file or directory" in result.stderr
    invoke(hash_command.cli, "--jobs", "0", tmp_path, check=2)


def test_odd_file_names(tmp_path, db):
    names = ["new\nline.jpg", "br[1]acket.jpg", "-dash.jpg", "spa ce & 'quote'.jpg", "ünï.jpg"]
    paths = [make_photo(tmp_path / name, i) for i, name in enumerate(names)]
    raw = os.fsencode(str(tmp_path)) + b"/bad\xffutf8.jpg"
    shutil.copy(paths[0], raw)
    find = subprocess.run(["find", str(tmp_path), "-name", "*.jpg", "-print0"], capture_output=True, check=True)
    result = subprocess.run(
        [str(BIN / "shashin-hash"), "--db", str(db), "-0"],
        input=find.stdout,
        capture_output=True,
        check=True,
    )
    records = json_lines(result.stdout.decode("utf-8", "surrogateescape"))
    assert len(records) == 6
    found = {os.fsencode(r["path"]) for r in records}
    assert raw in found and os.fsencode(str(paths[0])) in found
    # The database keeps the undecodable name exactly (as a BLOB) for later commands.
    with sqlite3.connect(db) as conn:
        assert conn.execute("select count(*) from images where path = ?", [raw]).fetchone()[0] == 1


def test_unreadable_file(tmp_path):
    folder = tmp_path / "in"
    make_photo(folder / "ok.jpg", 0)
    make_photo(folder / "secret.jpg", 1).chmod(0)
    result = run_unprivileged(tmp_path, "shashin-hash", "--db", tmp_path / "shashin.db", folder)
    assert result.returncode == 1, result.stderr
    assert "secret.jpg: permission denied" in result.stderr
    assert len(json_lines(result.stdout)) == 1


def test_read_only_database_directory(tmp_path, library):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    result = run_unprivileged(tmp_path, "shashin-hash", "--db", locked / "shashin.db", library)
    assert result.returncode == 2
    assert "cannot use the database" in result.stderr and "--no-db" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_raw_files_are_hashed_from_their_embedded_preview(tmp_path):
    # A stand-in RAW file: TIFF-structured like most RAW formats, with an embedded JPEG and an
    # orientation tag (a JPEG's EXIF block is one). No RAW encoder exists to make a real one.
    preview = make_photo(tmp_path / "preview.jpg", 2, 160, 120)
    container = make_photo(tmp_path / "container.jpg", 0, 320, 240)
    raw = tmp_path / "IMG_0001.NEF"
    with exiftool.ExifToolHelper() as tool:
        tool.execute(
            "-overwrite_original",
            "-Orientation#=6",
            "-EXIF:ImageWidth=320",
            "-EXIF:ImageHeight=240",
            "-ThumbnailImage<={}".format(preview),
            str(container),
        )
        raw.write_bytes(tool.execute("-b", "-EXIF", str(container), raw_bytes=True))
    upright = tmp_path / "turned.png"
    with Image(filename=str(preview)) as image:
        image.rotate(90)
        image.save(filename=str(upright))
    records = json_lines(run("shashin-hash", "--no-db", raw, upright, check=0).stdout)
    assert records[0]["dhash"] == records[1]["dhash"]
    assert (records[0]["width"], records[0]["height"]) == (240, 320)
    # Read through the scan's own descriptor, the file is still told by its name: a NEF, TIFF-shaped.
    assert records[0]["format"] == "NEF"


def test_a_file_swapped_or_rewritten_while_hashed_is_not_recorded(tmp_path, monkeypatch):
    """The race an outside review found: between a file's md5 and its decode, another file is renamed over its
    path, or its bytes are rewritten in place with its size and mtime put back. Recorded, the first file's md5
    would carry the second's pixels (a copy of the first then grouped with the second, and the first's only
    copy offered for removal). The scan decodes through the descriptor it read the md5 from, and the file's
    change time (moved by the rename's unlink or by the write; no one can set it) says it changed: nothing is
    recorded for it."""
    from shashin import hashing

    digest = hashing.hashlib.file_digest
    path, other = make_photo(tmp_path / "photo.png", 1), make_photo(tmp_path / "other.png", 2)

    def swapped(handle, name):
        found = digest(handle, name)
        os.replace(other, path)
        return found

    def rewritten(handle, name):
        found = digest(handle, name)
        rewrite_keeping_size_and_mtime(path)
        return found

    for change in (rewritten, swapped):
        monkeypatch.setattr(hashing.hashlib, "file_digest", change)
        outcome = hashing.hash_file((str(path), path.stat().st_size, 0))
        assert outcome.status == "failed" and outcome.message == "changed while it was read (scan it again)"


def test_sizes_read_from_headers_are_imagemagicks(tmp_path):
    """A JPEG's and a WebP's size come from their headers, not a ping: every layout gives the size ImageMagick
    reads, a JPEG whose frame header lies past 64 segments falls back to the ping, and an EXIF rotation still
    turns the record's size."""
    source = make_photo(tmp_path / "source.png", 4, 300, 200)
    with Image(filename=str(source)) as image:
        image.save(filename=str(tmp_path / "baseline.jpg"))
        with image.clone() as progressive:
            progressive.options["interlace"] = "JPEG"
            progressive.save(filename=str(tmp_path / "progressive.jpg"))
        with image.clone() as lossless:
            lossless.options["webp:lossless"] = "true"
            lossless.save(filename=str(tmp_path / "lossless.webp"))
        image.save(filename=str(tmp_path / "lossy.webp"))
        with Image(width=300, height=200, background=Color("transparent")) as translucent:
            translucent.composite(image, left=100, top=0)  # an extended (VP8X) WebP
            translucent.save(filename=str(tmp_path / "alpha.webp"))
    shutil.copyfile(tmp_path / "baseline.jpg", tmp_path / "exif.jpg")
    with exiftool.ExifToolHelper() as tool:
        tool.execute(
            "-overwrite_original", "-Orientation#=6", "-UserComment=" + "x" * 30000, str(tmp_path / "exif.jpg")
        )
    baseline = (tmp_path / "baseline.jpg").read_bytes()
    comments = b"\xff\xfe\x00\x04ab" * 70  # 70 comment segments before the frame header
    (tmp_path / "comments.jpg").write_bytes(baseline[:2] + comments + baseline[2:])
    names = ["baseline.jpg", "progressive.jpg", "exif.jpg", "comments.jpg", "lossy.webp", "lossless.webp", "alpha.webp"]
    records = {
        os.path.basename(r["path"]): r for r in json_lines(run("shashin-hash", "--no-db", tmp_path, check=0).stdout)
    }
    for name in names:
        fmt = "WEBP" if name.endswith(".webp") else "JPEG"
        with Image.ping(filename=str(tmp_path / name)) as header:
            pinged = header.size
        assert imaging._header_size(str(tmp_path / name), fmt) == (None if name == "comments.jpg" else pinged), name
        upright = (pinged[1], pinged[0]) if name == "exif.jpg" else pinged
        assert (
            (records[name]["width"], records[name]["height"])
            == upright
            == ((200, 300) if name == "exif.jpg" else (300, 200))
        )
    assert records["exif.jpg"]["dhash"] != records["baseline.jpg"]["dhash"]
    assert records["comments.jpg"]["dhash"] == records["baseline.jpg"]["dhash"]
    assert (tmp_path / "alpha.webp").read_bytes()[12:16] == b"VP8X"


def test_hashing_workers_hold_blas_to_one_thread():
    # numpy is loaded before the workers fork, so OPENBLAS_NUM_THREADS would come too late for them.
    hashing._worker_setup(None)
    assert {pool["num_threads"] for pool in threadpoolctl.threadpool_info() if pool["user_api"] == "blas"} == {1}
