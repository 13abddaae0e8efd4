"""Hostile and unlucky input: files that lie about their format, decompression bombs, endless files."""

import math
import os
import shutil
import sqlite3
import struct
import subprocess
import sys
import time
import zlib

from conftest import BIN, json_lines, make_photo, run
from shashin import exif, imaging

#: Peak memory of shashin-hash and shashin-meta (and their workers and exiftool) on the zTXt bomb.
#: Measured at 75-88 MB (hash) and 76-78 MB (meta); before the bomb was refused, 1.1 GB and 16 s for hash.
BOMB_PEAK_BYTES = 400 << 20


def _chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def zTXt_bomb(path, inflated=1 << 30):
    """A small valid PNG with a zTXt comment of `inflated` zeros, compressed (1 GB: a 1 MB file)."""
    compressor = zlib.compressobj(9)
    block = bytes(1 << 20)
    comment = b"".join(compressor.compress(block) for _ in range(inflated >> 20)) + compressor.flush()
    rows = zlib.compress(b"".join(b"\0" + bytes(range(48)) * 4 for _ in range(64)))
    header = struct.pack(">IIBBBBB", 64, 64, 8, 6, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"zTXt", b"Comment\0\0" + comment)
        + _chunk(b"IDAT", rows)
        + _chunk(b"IEND", b"")
    )
    return path


_PEAK = """
import resource, subprocess, sys
code = subprocess.run(sys.argv[1:]).returncode
# The largest peak among the command and the descendants it waited for (its workers, exiftool).
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss << 10, file=sys.stderr)
sys.exit(code)
"""


def _peak_of(command, *args):
    """Run a console script; return (result, peak RSS in bytes of the largest of its processes)."""
    result = subprocess.run(
        [sys.executable, "-c", _PEAK, str(BIN / command), *map(str, args)], capture_output=True, text=True, timeout=120
    )
    *lines, peak = result.stderr.splitlines()
    result.stderr = "\n".join(lines)
    return result, int(peak)


def test_an_svg_named_jpg_beside_the_photo_it_would_copy_is_reported_not_grouped(tmp_path):
    folder = tmp_path / "Pictures"
    photo = make_photo(folder / "IMG_0001.jpg", 0, 400, 300)
    (folder / "IMG_0001 copy.jpg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="4000" '
        'height="3000"><image width="4000" height="3000" xlink:href="IMG_0001.jpg"/></svg>'
    )
    shutil.copy(make_photo(tmp_path / "real.png", 1, 64, 48), folder / "IMG_0002.jpg")
    (folder / "notes.png").write_text("a text file named .png\n")
    db = tmp_path / "shashin.db"
    result = run("shashin-hash", "--db", db, folder, check=1)
    assert [record["path"] for record in json_lines(result.stdout)] == [str(photo)]
    lines = result.stderr.splitlines()
    assert "IMG_0001 copy.jpg: its bytes are SVG, not JPEG; not scanned" in lines[0]
    assert "IMG_0002.jpg: its bytes are PNG, not JPEG; not scanned" in lines[1]
    assert "notes.png: its bytes are text, not PNG; not scanned" in lines[2]
    with sqlite3.connect(db) as conn:
        assert conn.execute("select path from images").fetchall() == [(str(photo),)]


def test_a_file_without_an_image_extension_is_hashed_by_its_magic(tmp_path):
    photo = make_photo(tmp_path / "photo.png", 2, 64, 48)
    nameless = photo.rename(tmp_path / "download")
    (record,) = json_lines(run("shashin-hash", "--no-db", nameless, check=0).stdout)
    assert record["format"] == "PNG"


def test_a_ztxt_bomb_costs_bounded_memory_and_the_run_goes_on(tmp_path):
    bomb = zTXt_bomb(tmp_path / "bomb.png")
    after = make_photo(tmp_path / "z-after.jpg", 3, 64, 48)
    assert bomb.stat().st_size < 2 << 20
    for command in ("shashin-hash", "shashin-meta"):
        started = time.monotonic()
        result, peak = _peak_of(command, "--db", tmp_path / "shashin.db", bomb, after)
        assert result.returncode == 1, result.stderr
        (line,) = [line for line in result.stderr.splitlines() if "bomb.png" in line]
        assert "zTXt metadata inflates to more than 16 MB" in line
        assert [record["path"] for record in json_lines(result.stdout)] == [str(after)]
        assert peak < BOMB_PEAK_BYTES, (command, peak)
        assert time.monotonic() - started < 30


def test_text_under_the_limit_is_read_and_long_tag_values_are_cut(tmp_path):
    photo = make_photo(tmp_path / "a.png", 0, 64, 48).read_bytes()
    comment = _chunk(b"zTXt", b"Description\0\0" + zlib.compress(b"x" * (1 << 20)))
    (tmp_path / "a.png").write_bytes(photo[:33] + comment + photo[33:])
    (record,) = json_lines(run("shashin-meta", "--db", tmp_path / "shashin.db", tmp_path / "a.png", check=0).stdout)
    assert record["metadata"]["PNG:Description"].startswith("x" * 16384 + "… (cut: 1,048,576 characters")


def test_meta_skips_dev_zero_and_a_fifo_at_once(tmp_path):
    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)
    started = time.monotonic()
    result = run("shashin-meta", "--no-db", "-v", input='{"path": "/dev/zero"}\n{"path": "%s"}\n' % fifo)
    assert time.monotonic() - started < 10
    assert "0 read, 0 cached, 2 skipped, 0 failed" in result.stderr, result.stderr
    named = run("shashin-meta", "--no-db", "-v", "/dev/zero", fifo)
    assert named.stderr.count("not a regular file") == 2
    assert time.monotonic() - started < 20


def test_a_png_over_the_decode_limit_says_why_and_the_next_decodes(tmp_path):
    def greyscale_png(path, side):
        compressor = zlib.compressobj(1)
        data = b"".join(compressor.compress(bytes(side + 1)) for _ in range(side)) + compressor.flush()
        header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
        path.write_bytes(b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", data) + _chunk(b"IEND", b""))
        return path

    # Just over the limit (59.7 MP under Debian's ImageMagick policy of 1 GiB of pixel cache): refused, saying
    # why; the same worker then decodes the next (a failed decode would have left it refusing large ones).
    imaging.configure()
    side = math.isqrt(imaging.decode_limit()) + 1
    big = greyscale_png(tmp_path / "a-big.png", side)
    small = greyscale_png(tmp_path / "b-small.png", 2000)
    result = run("shashin-hash", "--no-db", "-j", "1", big, small, check=1)
    (line,) = result.stderr.splitlines()[:1]
    assert "{0}x{0} pixels".format(side) in line and "is too large to decode (at most" in line
    assert "policy.xml" in line and "delegate" not in line
    assert [record["width"] for record in json_lines(result.stdout)] == [2000]


def test_exiftool_gets_a_time_limit_per_file_and_the_next_file_a_fresh_exiftool(tmp_path):
    photos = [str(make_photo(tmp_path / "{}.jpg".format(i), i, 64, 48)) for i in range(2)]
    # No file makes this exiftool hang, so the limit is set below the time exiftool takes to start (50 ms or more).
    started = time.monotonic()
    with exif.Session(file_timeout=0.01) as session:
        results = list(session.read(photos))
    assert [error for _, _, error in results] == ["exiftool took more than 0.01 s over it; stopped"] * 2
    assert time.monotonic() - started < 5
    with exif.Session() as session:
        assert all(tags and not error for _, tags, error in session.read(photos))
