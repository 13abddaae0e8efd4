"""shashin's database inside Datasette: finding it, reading through Datasette's read connections,
writing through its single write connection, on Datasette 0.65 and 1.0 alike."""

import contextlib
import inspect
import os
import sqlite3
import sys
import weakref

from datasette.database import Database
from datasette.utils.asgi import NotFound

from shashin import trash
from shashin.store import MIGRATION_SETS, DatabaseError, Store

from .settings import config

#: Datasette 1.0 runs each write function inside its own BEGIN IMMEDIATE unless told not to
#: (``transaction=False``); 0.65 has no such parameter and runs it as it is. shashin's writes
#: open their own transactions, several per call where it matters (trash.remove commits each
#: journal row before its move), so they must run outside Datasette's.
_OWN_TRANSACTIONS = (
    {"transaction": False} if "transaction" in inspect.signature(Database.execute_write_fn).parameters else {}
)


class WriteFailed(Exception):
    """The database could not be written (disk full, locked too long); files stay as journaled."""


#: Per Datasette instance: the databases it served when shashin's was looked for, and the name of the one
#: found (None: none). Datasette has no hook for a database added or removed, so the served databases are the
#: key: another set looks again. A file that becomes shashin's while served beside the one found is seen when
#: the databases served change (or Datasette restarts).
_found: "weakref.WeakKeyDictionary[object, tuple]" = weakref.WeakKeyDictionary()


def shashin_database(datasette):
    """The Datasette database holding shashin's tables: the one the setting ``database`` names, else the
    first file a shashin command made, else the first file with no ``images`` table (an empty one: the
    review page says what to scan into it).

    Another program's database served first, even with an ``images`` table, is never taken for it.
    """
    name = config(datasette).get("database")
    if name:
        if name not in datasette.databases:
            raise NotFound("the shashin setting names database {!r}, which this Datasette does not serve".format(name))
        return datasette.get_database(name)
    served = tuple((database.name, database.path) for database in datasette.databases.values())
    if datasette not in _found or _found[datasette][0] != served:
        _found[datasette] = (served, _find(datasette.databases.values()))
    found = _found[datasette][1]
    if found is None:
        raise NotFound("no shashin database: start datasette with one, like `datasette shashin.db`")
    return datasette.get_database(found)


def _find(databases):
    """The name of the database a shashin command made, else of the first with no ``images`` table, or None."""
    files = [
        (database.name, _made_by(database.path))
        for database in databases
        if database.is_mutable and not database.is_memory and os.path.exists(database.path or "")
    ]
    for wanted in ("shashin", "nobody"):
        for name, maker in files:
            if maker == wanted:
                return name
    return None


def _made_by(path):
    """Who made a database file: "shashin" (a command, or this plugin: its migrations are recorded),
    "nobody" (no ``images`` table: a new file to scan into), else "another program" (or it is unreadable)."""
    try:
        with contextlib.closing(Store(path, readonly=True)) as store:
            if any(migrations.applied(store.db) for migrations in MIGRATION_SETS):
                return "shashin"
            return "another program" if store.db["images"].exists() else "nobody"
    except (DatabaseError, sqlite3.Error):
        return "another program"


async def migrate(datasette):
    """Create the plugin's tables in shashin's database made before they existed; settle interrupted moves.

    Only that database: another one served beside it, even with an ``images`` table, is never written.
    """
    try:
        database = shashin_database(datasette)
    except NotFound:
        return
    if await database.table_exists("images"):
        try:
            await _execute_write(database, _prepare)
        except sqlite3.Error as error:
            # Datasette still serves the data; the review page will say what fails.
            print("shashin review: cannot prepare {}: {}".format(database.name, error), file=sys.stderr)


def _prepare(conn):
    store = Store.over(conn)
    for migrations in MIGRATION_SETS:
        migrations.apply(store.db)
    trash.finish_unfinished(store)


async def read(datasette, fn):
    """``fn(store)`` on one of Datasette's read connections."""
    return await shashin_database(datasette).execute_fn(lambda conn: fn(Store.over(conn)))


async def write(datasette, fn):
    """``fn(store)`` on Datasette's write connection; a database error is :class:`WriteFailed`."""
    try:
        return await _execute_write(shashin_database(datasette), lambda conn: fn(Store.over(conn)))
    except sqlite3.Error as error:
        raise WriteFailed(
            "the database could not be written ({}): nothing moved that is not journaled".format(error)
        ) from None


def _execute_write(database, fn):
    return database.execute_write_fn(fn, block=True, **_OWN_TRANSACTIONS)
