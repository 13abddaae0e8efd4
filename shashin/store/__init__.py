"""The database: schema, migrations and every query the commands and the plugin share.

The store is the one place that knows the tables. Each module here owns a family of
tables: its sqlite-utils migration set (applied on open, so an older database is
brought up to date) and a mixin of the queries over them. :class:`Store` is all of them.
"""

from . import images
from .base import DatabaseError, connect, db_path, fs_path

MIGRATION_SETS = [images.migrations]


class Store(images.ImagesMixin):
    """shashin's SQLite database, in WAL mode so Datasette can read while a scan writes."""

    def __init__(self, path, readonly=False):
        self.path = str(path)
        self.db = connect(self.path, readonly, MIGRATION_SETS)

    def close(self):
        self.db.close()


__all__ = ["DatabaseError", "Store", "db_path", "fs_path"]
