"""What every part of the store shares: opening the database, the write lock, path and time encoding."""

import contextlib
import datetime
import os
import sqlite3
import time

import sqlite_utils


class DatabaseError(Exception):
    """The database cannot be opened or written; the message says why."""


def now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def db_path(path):
    """A filesystem path as stored: text, or bytes when the name is not valid UTF-8."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(path)
    return path


def fs_path(value):
    """The inverse of :func:`db_path`."""
    return os.fsdecode(value) if isinstance(value, bytes) else value


def in_chunks(values, size=500):
    """``(chunk, marks)`` over values: lists small enough for one SQL ``in (marks)``, and its ``?, ?, ...``."""
    values = list(values)
    for start in range(0, len(values), size):
        chunk = values[start : start + size]
        yield chunk, ", ".join("?" * len(chunk))


def connect(path, readonly, migration_sets):
    """A sqlite-utils Database in WAL mode, migrated unless read-only."""
    try:
        if readonly:
            uri = "file:{}?mode=ro".format(os.path.abspath(path).replace("?", "%3f").replace("#", "%23"))
            conn = sqlite3.connect(uri, uri=True)
        else:
            conn = sqlite3.connect(path)
        conn.execute("PRAGMA busy_timeout = 30000")
        db = sqlite_utils.Database(conn)
        if not readonly:
            _enable_wal(db)
            _migrate(db, migration_sets)
        return db
    except sqlite3.Error as error:
        raise DatabaseError("cannot use the database {}: {}".format(path, error)) from None


def _enable_wal(db, patience=30.0):
    # Switching a new file to WAL needs it to itself, and SQLite answers "locked" without waiting
    # when the commands of a pipeline (hash | meta) open it at the same moment.
    deadline = time.monotonic() + patience
    while db.journal_mode != "wal":
        try:
            db.enable_wal()
        except sqlite3.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _migrate(db, migration_sets):
    if not any(migrations.pending(db) for migrations in migration_sets):
        return
    # One process migrates at a time: the write lock is taken first, then pending is asked again.
    with write_lock(db.conn):
        for migrations in migration_sets:
            migrations.apply(db)


@contextlib.contextmanager
def write_lock(conn):
    """One transaction holding SQLite's write lock from its first statement (BEGIN IMMEDIATE).

    Checks made inside it cannot be invalidated by another writer (a second browser tab,
    the command line) before it ends. sqlite-utils' atomic() begins a deferred transaction,
    which takes the lock only at its first write.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.rollback()
        raise
    conn.commit()
