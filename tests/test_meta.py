"""shashin-meta: metadata through one exiftool process, dates in order of trust, caching."""

import datetime
import json
import os
import shutil
import sqlite3

import exiftool
import pytest

from conftest import json_lines, make_photo, run
from shashin import exif


def write_tags(path, **tags):
    with exiftool.ExifToolHelper() as tool:
        tool.set_tags([str(path)], tags, params=["-overwrite_original"])


def meta(*args, input=None, check=0):
    return run("shashin-meta", *args, input=input, check=check)


def test_pipeline_adds_metadata_and_dates(library, db):
    write_tags(
        library / "photo0.jpg",
        DateTimeOriginal="2019:07:14 09:30:00",
        OffsetTimeOriginal="+02:00",
        Make="Apple",
        Model="iPhone 12",
    )
    hashed = run("shashin-hash", "--db", db, library, check=0).stdout
    result = meta("--db", db, input=hashed)
    records = json_lines(result.stdout)
    assert [r["path"] for r in records] == [r["path"] for r in json_lines(hashed)]
    first = records[0]
    assert first["md5"] and first["dhash"]  # hash fields pass through
    assert first["taken_at"] == "2019-07-14T09:30:00+02:00"
    # exiftool's composite of DateTimeOriginal, SubSecTimeOriginal and OffsetTimeOriginal
    assert first["taken_at_source"] == "SubSecDateTimeOriginal"
    assert (first["make"], first["model"], first["mime_type"]) == ("Apple", "iPhone 12", "image/jpeg")
    assert first["metadata"]["EXIF:Model"] == "iPhone 12"
    assert records[1]["taken_at_source"] == "FileModifyDate"
    assert "3 read, 0 cached" in result.stderr
    with sqlite3.connect(db) as conn:
        row = conn.execute("select taken_at, metadata, md5 from images where path = ?", [first["path"]]).fetchone()
    assert row[0] == first["taken_at"] and json.loads(row[1])["EXIF:Make"] == "Apple" and row[2] == first["md5"]


def test_unchanged_files_are_not_read_again(library, db):
    meta("--db", db, library)
    result = meta("--db", db, library)
    assert "0 read, 3 cached" in result.stderr
    os.utime(library / "photo1.jpg", (1, 1))
    assert "1 read, 2 cached" in meta("--db", db, library).stderr


def test_hashing_a_changed_file_makes_its_metadata_stale(library, db):
    run("shashin-hash", "--db", db, library, check=0)
    meta("--db", db, library)
    make_photo(library / "photo2.jpg", 5)
    run("shashin-hash", "--db", db, library, check=0)
    assert "1 read, 2 cached" in meta("--db", db, library).stderr


@pytest.mark.parametrize(
    "tags, expected, source",
    [
        (
            {"DateTimeOriginal": "2020:01:02 03:04:05", "SubSecTimeOriginal": "250", "OffsetTimeOriginal": "-05:00"},
            "2020-01-02T03:04:05.250-05:00",
            "SubSecDateTimeOriginal",
        ),
        (
            {"DateTimeOriginal": "0000:00:00 00:00:00", "CreateDate": "2018:05:06 07:08:09"},
            "2018-05-06T07:08:09",
            "CreateDate",
        ),
        ({"DateTimeOriginal": "2017:02:30 10:00:00"}, None, "FileModifyDate"),
    ],
)
def test_date_priority(tmp_path, tags, expected, source):
    photo = make_photo(tmp_path / "a.jpg", 0)
    write_tags(photo, **tags)
    (record,) = json_lines(meta("--no-db", photo).stdout)
    assert record["taken_at_source"] == source
    if expected:
        assert record["taken_at"] == expected
    else:
        assert record["taken_at"].startswith(str(datetime.date.today().year))


def test_quicktime_dates_are_utc_unless_apple_recorded_local_time():
    tags = {
        "QuickTime:CreateDate": "2021:03:04 05:06:07",
        "XMP:CreateDate": "2021:03:04 05:06:07",
        "File:FileModifyDate": "2022:01:01 00:00:00+01:00",
    }
    assert exif.derived_fields(tags)["taken_at"] == "2021-03-04T05:06:07+00:00"
    tags["QuickTime:CreationDate"] = "2021:03:04 07:06:07+02:00"
    fields = exif.derived_fields(tags)
    assert (fields["taken_at"], fields["taken_at_source"]) == ("2021-03-04T07:06:07+02:00", "CreationDate")


def test_exiftool_error_on_one_file_and_odd_names(tmp_path, db):
    good = make_photo(tmp_path / "new\nline.jpg", 0)
    raw = os.fsencode(str(tmp_path)) + b"/bad\xffname.jpg"
    shutil.copy(good, raw)
    (tmp_path / "empty.jpg").write_bytes(b"")
    result = meta("--db", db, tmp_path, check=1)
    records = json_lines(result.stdout)
    assert {os.fsencode(r["path"]) for r in records} == {os.fsencode(str(good)), raw}
    assert all(r["metadata"]["File:FileName"] == os.path.basename(r["path"]) for r in records)
    (error,) = [line for line in result.stderr.splitlines() if "empty.jpg" in line]
    assert "empty" in error.lower()


def test_session_survives_exiftool_dying(tmp_path):
    photos = [str(make_photo(tmp_path / "{}.jpg".format(i), i, 64, 48)) for i in range(3)]
    with exif.Session() as session:
        assert all(tags for _, tags, _ in session.read(photos[:1]))
        session._tool._process.kill()
        results = list(session.read(photos))
    assert [path for path, tags, error in results if tags and not error] == photos
