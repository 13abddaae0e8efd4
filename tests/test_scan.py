"""The one-word scan over the demo library, and Datasette reading the database while a scan writes."""

import asyncio
import os
import re
import sqlite3
import subprocess
from pathlib import Path

from datasette.app import Datasette

from conftest import BIN, make_photo, run
from shashin import demo, files
from shashin.store import Store

SCAN = Path(__file__).parent.parent / "bin" / "shashin-scan"


def test_scan_script_over_the_demo_library(tmp_path):
    library = tmp_path / "demo"
    count = demo.build(library)
    assert count >= 20 and (library / "Backup" / "Camera").is_dir()
    db = tmp_path / "shashin.db"
    env = {**os.environ, "PATH": "{}:{}".format(BIN, os.environ["PATH"]), "SHASHIN_DB": str(db)}
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
    assert result.returncode == 2 and "shashin-scan DIR" in result.stderr


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


def test_scan_script_prunes_the_folders_shashin_hash_skips():
    script = SCAN.read_text()
    pruned = set(re.findall(r"-name '([^']+)'", script))
    assert pruned == set(files.SKIPPED_FOLDERS)
