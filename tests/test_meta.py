"""shashin-meta: metadata through one exiftool process, dates in order of trust, caching."""

import datetime
import json
import os
import select
import shutil
import sqlite3
import subprocess

import exiftool
import numpy
import pytest

from conftest import BIN, json_lines, make_photo, run, scanned_archive
from shashin import exif, facts, metadata, video
from shashin.cli.hash import SAVE_EVERY
from shashin.ranking import rule


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


def test_behind_a_pipe_records_are_read_as_they_come(library):
    """A batch of records is read and written out while the command before in the pipe is still writing."""
    lines = "".join(json.dumps({"path": str(path)}) + "\n" for path in sorted(library.iterdir()))
    reading = subprocess.Popen(
        [BIN / "shashin-meta", "-q", "--no-db"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        reading.stdin.write(lines * (metadata.BATCH // 3 + 1))
        reading.stdin.flush()
        assert select.select([reading.stdout], [], [], 60)[0], "nothing written before the input ended"
        assert json.loads(reading.stdout.readline())["mime_type"] == "image/jpeg"
    finally:
        reading.kill()
        reading.wait()


def metadata_of(path):
    with exif.Session() as session:
        [(_, tags, _)] = session.read([str(path)])
    return dict(
        {"path": str(path), "size": 1, "mtime": 1.0, "metadata": tags}, **exif.derived_fields(tags), **facts.of(tags)
    )


#: The saves of hash | meta, each beside the other command's commits.
PIPE_SAVES = {
    "shashin-meta's metadata": lambda store, photo: store.save_metadata([metadata_of(photo)]),
    "shashin-hash's failures": lambda store, photo: store.save_failures([(str(photo), 1, 1.0, "damaged")]),
    "shashin-hash's video frames": lambda store, photo: store.save_video_frames(
        {"0" * 32: video.Fingerprint(numpy.zeros((2, video.VIEW_SIDE, video.VIEW_SIDE), numpy.uint8))}
    ),
}


@pytest.mark.parametrize("save", PIPE_SAVES.values(), ids=PIPE_SAVES)
def test_a_save_survives_the_other_command_of_the_pipe_committing_meanwhile(library, db, open_store, save):
    """hash | meta: one command commits while the other's save has begun; the save must not fail (a deferred
    transaction that has read cannot write after another's commit, whatever the busy timeout)."""
    store = open_store(db)
    other = sqlite3.connect(db, isolation_level=None, timeout=0)
    reads, commits = [], []

    def commit_meanwhile(statement):
        if statement.lower().startswith(("select", "pragma")):
            reads.append(statement)
        if len(reads) == 2 and not commits:  # after the save's first read
            try:
                other.execute("insert into images (path) values ('/elsewhere/IMG_0001.JPG')")
                commits.append("committed")
            except sqlite3.OperationalError:  # it waits for the save's write lock, which is right
                commits.append("waited")

    store.db.conn.set_trace_callback(commit_meanwhile)
    save(store, library / "photo0.jpg")
    store.db.conn.set_trace_callback(None)
    assert commits == ["waited"]


def test_the_pipe_keeps_the_metadata_of_every_file(tmp_path, db):
    """hash | meta over more files than either saves at once: meta saves the metadata of the records it reads,
    so hash must have saved their rows before (the outside review's first scan lost half of it)."""
    make_photo(tmp_path / "one.jpg", 0)
    write_tags(tmp_path / "one.jpg", Make="Canon", Model="EOS 80D")
    photo = (tmp_path / "one.jpg").read_bytes()
    folder = tmp_path / "Copies"
    folder.mkdir()
    count = SAVE_EVERY + 44
    for index in range(count):
        # A byte after the image's end: another md5, so each is decoded, and hash is slower than meta.
        (folder / "IMG_{:04d}.jpg".format(index)).write_bytes(photo + bytes([index % 256, index // 256]))
    pipe = "{} -j 1 --db {db} {} | {} --db {db}".format(BIN / "shashin-hash", folder, BIN / "shashin-meta", db=db)
    subprocess.run(pipe, shell=True, check=True, capture_output=True)
    with sqlite3.connect(db) as conn:
        assert conn.execute("select count(*) from images where make = 'Canon'").fetchone()[0] == count


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


FACTS = {
    "Software": "Adobe Lightroom 7.0",
    "LensModel": "EF50mm f/1.8 STM",
    "ExposureTime": "1/250",
    "FNumber": 1.8,
    "ISO": 400,
    "ExposureCompensation": -0.7,
    "DateTimeOriginal": "2019:07:14 09:30:00",
    "SubSecTimeOriginal": "123",
    "OffsetTimeOriginal": "+02:00",
    "GPSDateStamp": "2019:07:14",
    "GPSTimeStamp": "07:30:00",
    "ImageNumber": 42,
}


def stored_facts(db, path):
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        row = conn.execute("select * from images where path = ?", [str(path)]).fetchone()
    return {field: row[field] for field in facts.FIELDS}


def test_facts_ranking_reads_are_columns(library, db):
    """The tags ranking and the review page read, as columns written by shashin-meta (and in its records)."""
    photo = (library / "photo0.jpg").resolve()
    write_tags(photo, **FACTS)
    hashed = run("shashin-hash", "--db", db, library, check=0).stdout
    records = {r["path"]: r for r in json_lines(meta("--db", db, input=hashed).stdout)}
    expected = {
        "software": "Adobe Lightroom 7.0",
        "edited": 1,
        "lens": "EF50mm f/1.8 STM",
        "precise_time": 1,
        "maker_notes": 0,
        "gps_time": "2019-07-14T07:30:00+00:00",
        "exposure_time": 0.004,
        "f_number": 1.8,
        "iso": 400,
        "exposure_compensation": -0.7,
        "image_number": 42,
        "burst_id": None,
    }
    written = stored_facts(db, photo)
    assert written == dict(expected, tag_count=len(records[str(photo)]["metadata"]))
    assert {field: records[str(photo)][field] for field in facts.FIELDS} == written
    plain = stored_facts(db, (library / "photo1.jpg").resolve())
    assert plain["tag_count"] > 10 and not plain["edited"] and plain["software"] is plain["lens"] is None


def test_rows_read_before_the_columns_get_them_from_their_stored_tags(library, db):
    photo = (library / "photo0.jpg").resolve()
    write_tags(photo, **FACTS)
    meta("--db", db, library)
    before = stored_facts(db, photo)
    with sqlite3.connect(db) as conn:  # as a database of an older shashin has them
        conn.execute("update images set {}".format(", ".join(f + " = null" for f in facts.FIELDS)))
    result = meta("--db", db, library)
    assert "0 read, 0 cached, 3 updated, 0 skipped, 0 failed" in result.stderr
    assert stored_facts(db, photo) == before
    assert "0 read, 3 cached, 0 skipped, 0 failed" in meta("--db", db, library).stderr


def test_rehashing_a_changed_file_clears_its_facts(library, db):
    photo = (library / "photo0.jpg").resolve()
    meta("--db", db, library)
    write_tags(photo, Software="GIMP 2.10")
    run("shashin-hash", "--db", db, library, check=0)
    assert set(stored_facts(db, photo).values()) == {None}
    meta("--db", db, library)
    assert stored_facts(db, photo)["software"] == "GIMP 2.10"


def test_the_rule_orders_by_the_columns_as_by_the_tags(tmp_path):
    """Every kind of copy of real camera files: the rule's keys from the columns equal those from the JSON."""
    photos, rows = scanned_archive(tmp_path)
    assert all(row["tag_count"] for row in rows.values())
    json_only = {path: dict(row, **dict.fromkeys(facts.FIELDS)) for path, row in rows.items()}
    assert any(row["maker_notes"] for row in rows.values()) and any(row["edited"] for row in rows.values())
    for photo in photos:
        paths = [str(path) for path in photo["files"]]
        assert [rule.cold_start_key(rows[p]) for p in paths] == [rule.cold_start_key(json_only[p]) for p in paths]
        assert rule.cold_start_order([rows[p] for p in paths])[0]["path"] in {str(p) for p in photo["originals"]}
