"""Tables of the grouping: groups, group_members, the not_duplicates ignore list and fingerprints."""

import itertools

import numpy
from sqlite_utils import Migrations

from .. import facts
from .base import db_path, fs_path, in_chunks, now

migrations = Migrations("shashin-groups")


@migrations()
def create_groups(db):
    # AUTOINCREMENT: an id once used is never given to another group, so a link to a
    # group that has gone does not silently show a different one.
    db.execute(
        "create table groups (id integer primary key autoincrement, kind text, member_count integer,"
        " max_distance integer, created_at text)"
    )
    db["group_members"].create(
        {"group_id": int, "path": str, "md5": str, "distance": int},
        pk="path",
        foreign_keys=[("group_id", "groups", "id")],
    )
    db["group_members"].create_index(["group_id"])
    db["group_members"].create_index(["md5"])
    db["not_duplicates"].create({"md5_a": str, "md5_b": str, "source": str, "created_at": str}, pk=("md5_a", "md5_b"))
    db["fingerprints"].create({"md5": str, "view": bytes, "hashes": bytes, "spread": float}, pk="md5")


@migrations()
def add_identical_to(db):
    # Inside a look-alike group, which members are byte-identical to another (the first with their md5).
    db["group_members"].add_column("identical_to", str)


@migrations()
def derive_fingerprints_again(db):
    # Fingerprints now hash the thumbnail's regions too (copies that change the frame): derived afresh.
    db.execute("delete from fingerprints")


@migrations()
def derive_spreads_again(db):
    # The spread is now the smaller of the view's and its content box's (a star field stays near-uniform).
    db.execute("delete from fingerprints")


@migrations()
def derive_soft_region_hashes(db):
    # Regions are now soft hashes at many more places (off-centre cuts, aspect frames along their whole slide),
    # beside a soft hash of the whole: derived afresh from the stored thumbnails (no rescan).
    db.execute("delete from fingerprints")


@migrations()
def derive_content_boxes_again(db):
    # The content box is now the block whose own cuts leave the largest area (a collage's photo): the box's
    # region hash and the spread of the view's box move with it.
    db.execute("delete from fingerprints")


@migrations()
def derive_second_content_box(db):
    # The two largest blocks are hashed now, not the largest alone (a collage's photo beside a larger tile).
    db.execute("delete from fingerprints")


class GroupsMixin:
    """Queries over groups, the ignore list and the fingerprints grouping derives from thumbnails."""

    # what grouping reads

    def hashed_files(self):
        """``(path, size, mtime, md5, dhash)`` of every hashed file."""
        for path, size, mtime, md5, dhash in self.db.execute(
            "select path, size, mtime, md5, dhash from images where md5 is not null"
        ):
            yield fs_path(path), size, mtime, md5, dhash

    def capture_rows(self, md5s):
        """``{md5: images row}``, one row of each of these contents that names its camera (make and model): what
        tells one capture from another (the capture time, the facts columns; the metadata JSON only where those
        are empty)."""
        columns = ("md5", "make", "model", "taken_at", *facts.FIELDS)
        sql = (
            "select {}, case when tag_count is null then metadata end from images"
            " where md5 in ({{}}) and make is not null and model is not null order by tag_count is null"
        ).format(", ".join(columns))
        names = (*columns, "metadata")
        found = {}
        for chunk, marks in in_chunks(sorted(set(md5s))):
            for row in self.db.execute(sql.format(marks), chunk):
                if row[0] not in found:
                    found[row[0]] = dict(zip(names, row))
        return found

    def thumbnails_to_fingerprint(self, md5s, batch=500):
        """``(count, batches)``: how many of these contents have a thumbnail but no fingerprint yet,
        and their ``(md5, jpeg)`` in lists of up to ``batch``."""
        wanted = set(md5s)
        missing = [
            md5
            for (md5,) in self.db.execute("select md5 from thumbnails where md5 not in (select md5 from fingerprints)")
            if md5 in wanted
        ]
        batches = (
            self.db.execute("select md5, jpeg from thumbnails where md5 in ({})".format(marks), keys).fetchall()
            for keys, marks in in_chunks(missing, batch)
        )
        return len(missing), batches

    def save_fingerprints(self, rows):
        """Store ``(md5, view, hashes, spread)``: view as uint8 pixels, hashes as uint64."""
        with self.db.atomic():
            self.db["fingerprints"].upsert_all(
                (
                    {
                        "md5": md5,
                        "view": numpy.ascontiguousarray(view, numpy.uint8).tobytes(),
                        "hashes": numpy.asarray(hashes, ">u8").tobytes(),
                        "spread": float(spread),
                    }
                    for md5, view, hashes, spread in rows
                ),
                pk="md5",
            )

    def fingerprints(self):
        """``({md5: hashes}, {md5: spread})`` of every fingerprint."""
        prints, spreads = {}, {}
        for md5, hashes, spread in self.db.execute("select md5, hashes, spread from fingerprints"):
            prints[md5] = numpy.frombuffer(hashes, ">u8").astype(numpy.uint64)
            spreads[md5] = spread
        return prints, spreads

    def fingerprints_of(self, md5s):
        """``{md5: hashes}`` of these contents, those that have a fingerprint."""
        prints = {}
        for chunk, marks in in_chunks(sorted(set(md5s))):
            sql = "select md5, hashes from fingerprints where md5 in ({})".format(marks)
            for md5, hashes in self.db.execute(sql, chunk):
                prints[md5] = numpy.frombuffer(hashes, ">u8").astype(numpy.uint64)
        return prints

    def view(self, md5):
        """The 64x64 uint8 view of one content."""
        (blob,) = self.db.execute("select view from fingerprints where md5 = ?", [md5]).fetchone()
        return numpy.frombuffer(blob, numpy.uint8).reshape(64, 64)

    # the grouping

    def replace_groups(self, groups):
        """Replace the whole grouping in one transaction; return each group's id, in order.

        A group whose set of paths is the same as a stored group's keeps that id.
        Fingerprints of contents no longer in ``images`` are dropped at the same time.
        """
        old = {}
        for group_id, path in self.db.execute("select group_id, path from group_members"):
            old.setdefault(group_id, set()).add(fs_path(path))
        old_ids = {frozenset(paths): group_id for group_id, paths in old.items()}
        created = {
            group_id: created_at for group_id, created_at in self.db.execute("select id, created_at from groups")
        }
        stamp = now()
        ids = []
        with self.db.atomic():
            self.db.execute("delete from group_members")
            self.db.execute("delete from groups")
            for group in groups:
                group_id = old_ids.get(frozenset(path for path, _, _ in group.members))
                values = [group.kind, len(group.members), group.max_distance, created.get(group_id, stamp)]
                if group_id is None:
                    group_id = self.db.execute(
                        "insert into groups (kind, member_count, max_distance, created_at) values (?, ?, ?, ?)",
                        values,
                    ).lastrowid
                else:
                    self.db.execute(
                        "insert into groups (id, kind, member_count, max_distance, created_at) values (?, ?, ?, ?, ?)",
                        [group_id] + values,
                    )
                self.db.conn.executemany(
                    "insert into group_members (group_id, path, md5, distance, identical_to) values (?, ?, ?, ?, ?)",
                    [
                        (group_id, db_path(path), md5, distance, None if first is None else db_path(first))
                        for (path, md5, distance), first in zip(group.members, group.identical_to)
                    ],
                )
                ids.append(group_id)
            self.db.execute("delete from fingerprints where md5 not in (select md5 from images where md5 is not null)")
        return ids

    def group_ids(self):
        """``{group id: [paths]}`` of the stored grouping."""
        found = {}
        for group_id, path in self.db.execute("select group_id, path from group_members order by path"):
            found.setdefault(group_id, []).append(fs_path(path))
        return found

    # the ignore list

    def add_not_duplicates(self, md5s, source="ui"):
        """Record that these contents are not duplicates of each other (every pair of them)."""
        pairs = sorted({tuple(sorted(pair)) for pair in itertools.combinations(set(md5s), 2)})
        stamp = now()
        with self.db.atomic():
            self.db["not_duplicates"].insert_all(
                ({"md5_a": a, "md5_b": b, "source": source, "created_at": stamp} for a, b in pairs),
                pk=("md5_a", "md5_b"),
                ignore=True,
            )
        return len(pairs)

    def forget_not_duplicates(self, pairs, source="ui"):
        """Take these ``(md5_a, md5_b)`` pairs, md5_a < md5_b, off the ignore list (those of this source)."""
        self.db.conn.executemany(
            "delete from not_duplicates where md5_a = ? and md5_b = ? and source = ?",
            [(a, b, source) for a, b in pairs],
        )

    def not_duplicates(self):
        """Every ignored ``(md5_a, md5_b)`` pair, md5_a < md5_b."""
        return set(self.db.execute("select md5_a, md5_b from not_duplicates").fetchall())
