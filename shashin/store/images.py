"""Tables of scanned files: images, thumbnails and failures."""

import json
import os

from sqlite_utils import Migrations

from .. import facts
from ..records import META_FIELDS, RECORD_FIELDS
from .base import db_path, fs_path, in_chunks, now
from .trash import IN_TRASH

migrations = Migrations("shashin-images")

#: The images columns shashin-hash writes: a hashed file's metadata columns are emptied, stale until shashin-meta.
_HASHED_COLUMNS = (*RECORD_FIELDS, *facts.FIELDS, "hashed_at")
_UPSERT_HASHED = "insert into images ({}) values ({}) on conflict (path) do update set {}".format(
    ", ".join(_HASHED_COLUMNS),
    ", ".join(":" + column for column in _HASHED_COLUMNS),
    ", ".join("{0} = excluded.{0}".format(column) for column in _HASHED_COLUMNS if column != "path"),
)


@migrations()
def create_images(db):
    db["images"].create(
        {
            "path": str,
            "size": int,
            "mtime": float,
            "md5": str,
            "dhash": str,
            "width": int,
            "height": int,
            "format": str,
            "hashed_at": str,
            "metadata": str,
            "taken_at": str,
            "taken_at_source": str,
            "mime_type": str,
            "make": str,
            "model": str,
        },
        pk="path",
    )
    db["images"].create_index(["md5"])
    db["images"].create_index(["dhash"])
    db["thumbnails"].create({"md5": str, "jpeg": bytes}, pk="md5")
    db["failures"].create(
        {"path": str, "size": int, "mtime": float, "error": str, "failed_at": str},
        pk="path",
    )


@migrations()
def add_images_identity(db):
    # A file is its device and inode, not its path: two paths to one file are never two copies.
    db["images"].add_column("real_path", str)
    db["images"].add_column("device", int)
    db["images"].add_column("inode", int)
    db["images"].create_index(["device", "inode"])


@migrations()
def add_ranking_facts(db):
    # What ranking and the review page read of the tags, beside their JSON: parsing every row's JSON took
    # 42 s at 100,000 groups. Rows read before get them from their stored JSON at the next shashin-meta.
    for field, kind in facts.FIELDS.items():
        db["images"].add_column(field, kind)


class ImagesMixin:
    """Queries over images, thumbnails and failures."""

    # images

    def images_by_path(self, paths):
        """Rows of the given paths, as ``{path: row}``."""
        found = {}
        for keys, marks in in_chunks(db_path(p) for p in paths):
            for row in self.db.query("select * from images where path in ({})".format(marks), keys):
                row["path"], row["real_path"] = fs_path(row["path"]), fs_path(row["real_path"])
                found[row["path"]] = row
        return found

    def content(self, md5):
        """Hash fields of stored content with this md5 and a thumbnail, or None."""
        rows = self.db.query(
            "select dhash, width, height, format from images"
            " where md5 = ? and dhash is not null"
            " and exists (select 1 from thumbnails where thumbnails.md5 = images.md5)"
            " limit 1",
            [md5],
        )
        return next(rows, None)

    def save_hashed(self, records, thumbnails):
        """Store hashed records (their metadata, if any, is now stale) and new thumbnails."""
        hashed_at = now()
        rows = []
        for record in records:
            row = {field: record.get(field) for field in _HASHED_COLUMNS}
            row["path"] = db_path(row["path"])
            row["real_path"] = db_path(row["real_path"]) if row["real_path"] else None
            row["hashed_at"] = hashed_at
            rows.append(row)
        # One prepared upsert, not sqlite-utils' upsert_all: that checked every value of every row for JSON
        # and ran two statements a row, half the parent process's time in a scan of small photos.
        with self.db.atomic():
            self.db.conn.executemany(_UPSERT_HASHED, rows)
            self.db.conn.executemany("insert or ignore into thumbnails (md5, jpeg) values (?, ?)", thumbnails.items())
            self._forget_failures([row["path"] for row in rows])

    def save_identities(self, records):
        """Store which file each record's path leads to (real path, device, inode), nothing else."""
        with self.db.atomic():
            self.db.conn.executemany(
                "update images set real_path = ?, device = ?, inode = ? where path = ?",
                [(db_path(r["real_path"]), r["device"], r["inode"], db_path(r["path"])) for r in records],
            )

    def save_metadata(self, records):
        """Store the metadata fields of records and their :mod:`shashin.facts`, creating rows for paths not
        hashed yet.

        Size and mtime of an existing row are left alone: they say what was hashed.
        """
        rows = []
        for record in records:
            row = {field: record.get(field) for field in (*META_FIELDS, *facts.FIELDS)}
            row["path"] = db_path(record["path"])
            # ASCII JSON: a tag can hold a file name that is not UTF-8 (see records.py).
            row["metadata"] = json.dumps(row["metadata"])
            rows.append(row)
        # The write lock first: sqlite-utils reads the schema before it writes, and shashin-hash committing in
        # between (hash | meta) would make the write fail at once ("database is locked": the read is stale).
        with self.write_lock():
            self.db["images"].insert_all(
                ({"path": db_path(r["path"]), "size": r["size"], "mtime": r["mtime"]} for r in records),
                pk="path",
                ignore=True,
            )
            self.db["images"].upsert_all(rows, pk="path")

    def prune(self, directories):
        """Delete rows of files under these directories that no longer exist, and the thumbnails of
        contents no file has any more; a file in the trash keeps its thumbnail for the trash page."""
        gone = []
        for directory in directories:
            prefix = os.path.join(os.path.abspath(directory), "")
            for (path,) in self.db.execute(
                "select path from images where substr(path, 1, ?) = ?", [len(prefix), prefix]
            ).fetchall():
                if not os.path.lexists(fs_path(path)):
                    gone.append(path)
        with self.db.atomic():
            for keys, marks in in_chunks(gone):
                self.db.execute("delete from images where path in ({})".format(marks), keys)
            self.db.execute(
                "delete from thumbnails where md5 not in (select md5 from images where md5 is not null)"
                " and md5 not in (select md5 from trash where md5 is not null and {})".format(IN_TRASH)
            )
        return len(gone)

    # failures

    def failures_by_path(self, paths):
        found = {}
        for keys, marks in in_chunks(db_path(p) for p in paths):
            for row in self.db.query("select * from failures where path in ({})".format(marks), keys):
                found[fs_path(row["path"])] = row
        return found

    def save_failures(self, failures):
        """Remember files that could not be read, as ``(path, size, mtime, error)``."""
        failed_at = now()
        with self.write_lock():  # see save_metadata: shashin-meta writes beside it
            self.db["failures"].upsert_all(
                (
                    {"path": db_path(p), "size": s, "mtime": m, "error": e, "failed_at": failed_at}
                    for p, s, m, e in failures
                ),
                pk="path",
            )

    def _forget_failures(self, keys):
        for chunk, marks in in_chunks(keys):
            self.db.execute("delete from failures where path in ({})".format(marks), chunk)
