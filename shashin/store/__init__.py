"""The database: schema, migrations and every query the commands and the plugin share.

The store is the one place that knows the tables. Each module here owns a family of
tables: its sqlite-utils migration set (applied on open, so an older database is
brought up to date) and a mixin of the queries over them. :class:`Store` is all of them.
"""

import sqlite_utils

from . import decisions, groups, images, organize, preferences, ranks, review, trash, videos
from .base import DatabaseError, connect, write_lock

MIGRATION_SETS = [
    images.migrations,
    videos.migrations,
    groups.migrations,
    trash.migrations,
    decisions.migrations,
    ranks.migrations,
    organize.migrations,
    preferences.migrations,
]


class Store(
    images.ImagesMixin,
    videos.VideosMixin,
    groups.GroupsMixin,
    trash.TrashMixin,
    decisions.DecisionsMixin,
    review.ReviewMixin,
    ranks.RanksMixin,
    organize.OrganizeMixin,
    preferences.PreferencesMixin,
):
    """shashin's SQLite database, in WAL mode so Datasette can read while a scan writes."""

    def __init__(self, path, readonly=False):
        self.path = str(path)
        self.db = connect(self.path, readonly, MIGRATION_SETS)

    @classmethod
    def over(cls, conn):
        """A store over an open sqlite3 connection (Datasette's), used as it is: not migrated."""
        store = cls.__new__(cls)
        store.path, store.db = None, sqlite_utils.Database(conn)
        return store

    def write_lock(self):
        """See :func:`base.write_lock`: for checks no other writer may invalidate before they act."""
        return write_lock(self.db.conn)

    def close(self):
        self.db.close()


__all__ = ["DatabaseError", "Store"]
