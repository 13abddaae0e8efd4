"""The one-word scan over the demo library, and Datasette reading the database while a scan writes."""

import asyncio
import os
import sqlite3
import subprocess

from datasette.app import Datasette

from conftest import BIN, make_photo, run
from shashin import demo
from shashin.store import Store

SCAN = BIN / "shashin-scan"


def test_scan_script_over_the_demo_library(tmp_path):
    library = tmp_path / "demo"
    count = demo.build(library)
    assert count >= 20 and (library / "Backup" / "Camera").is_dir()
    db = tmp_path / "shashin.db"
    env = {**os.environ, "SHASHIN_DB": str(db)}
    result = subprocess.run([str(SCAN), str(library)], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "shashin-hash: {} hashed".format(count) in result.stderr
    with sqlite3.connect(db) as conn:
        assert conn.execute("select count(*) from images where metadata is not null").fetchone()[0] == count
        assert conn.execute("select count(*) from images where taken_at_source = 'DateTimeOriginal'").fetchone()[0]
    again = subprocess.run([str(SCAN), str(library)], env=env, capture_output=True, text=True)
    assert "0 hashed, {} cached".format(count) in again.stderr and "0 read, {} cached".format(count) in again.stderr


def test_scan_script_usage():
    result = subprocess.run([str(SCAN)], capture_output=True, text=True)
    assert result.returncode == 2 and "shashin-scan [OPTIONS] DIR..." in result.stderr


def test_scan_a_folder_with_a_space_into_the_db_given(tmp_path):
    folder = tmp_path / "Old Laptop"
    make_photo(folder / "a.jpg", 0)
    (folder / "notes.jpg").write_text("not a photo")
    db = tmp_path / "elsewhere.db"
    first = run("shashin-scan", "--db", db, folder, check=1)
    assert "shashin-hash: 1 hashed, 0 cached, 0 reused, 0 skipped, 1 failed" in first.stderr
    again = run("shashin-scan", "--db", db, folder, check=0)
    assert "shashin-hash: 1 known-bad files (unchanged since they failed; -v lists them)" in again.stderr
    with sqlite3.connect(db) as conn:
        assert conn.execute("select path from images where md5 is not null").fetchall() == [(str(folder / "a.jpg"),)]


def test_datasette_reads_while_a_scan_writes(tmp_path):
    db = tmp_path / "shashin.db"
    make_photo(tmp_path / "a.jpg", 0)
    run("shashin-hash", "--db", db, tmp_path / "a.jpg", check=0)
    writer = Store(db)
    writer.db.begin()
    writer.db.execute("insert into images (path, size, mtime) values ('/half/written.jpg', 1, 1)")
    try:
        datasette = Datasette([str(db)])
        response = asyncio.run(datasette.client.get("/shashin/images.json?_shape=array"))
        assert response.status_code == 200
        assert [row["path"] for row in response.json()] == [str(tmp_path / "a.jpg")]
    finally:
        writer.db.rollback()
        writer.close()
