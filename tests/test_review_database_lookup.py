"""Which served database is shashin's is looked for once per set of databases served, not at every request."""

import contextlib
import sqlite3

import pytest
from datasette.app import Datasette
from datasette.database import Database

from conftest import record_calls
from datasette_shashin import database
from review_client import Visitor
from shashin.store import Store

pytestmark = pytest.mark.asyncio


async def test_the_answer_is_kept_until_the_databases_served_change(tmp_path, monkeypatch):
    other = tmp_path / "other.db"
    with contextlib.closing(sqlite3.connect(other)) as conn:
        conn.execute("create table images (path text primary key, size int)")
    scanned = tmp_path / "scanned.db"
    Store(scanned).close()
    opened = record_calls(monkeypatch, database, "_made_by")
    ds = Datasette([str(other)])
    await ds.invoke_startup()
    visitor = Visitor(ds)
    for _ in range(3):
        response = await visitor.get("/-/shashin/trash")
        assert response.status_code == 404 and "no shashin database" in response.text
    assert opened == [str(other)]

    ds.add_database(Database(ds, path=str(scanned), is_mutable=True), name="scanned")
    for _ in range(3):
        assert "No photos scanned yet" in (await visitor.get("/-/shashin")).text
    assert opened == [str(other), str(other), str(scanned)]

    ds.remove_database("scanned")
    assert (await visitor.get("/-/shashin")).status_code == 404
    assert len(opened) == 4
