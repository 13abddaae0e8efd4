"""The trash journal: every file shashin moved out of the way, and where it is now.

A row is written before its file moves (``trashed_at`` still empty: the move is under
way), completed after, and closed by a restore (``restored_at``) or by emptying the
trash (``emptied_at``). A row with neither is *in the trash*: its file is gone from
the original path as far as groups and the review page are concerned.
"""

import contextlib

from sqlite_utils import Migrations

from .base import db_path, fs_path, in_chunks, now

migrations = Migrations("shashin-trash")

_ACTIVE = "restored_at is null and emptied_at is null"
#: A row whose file is in the trash now: moved, and neither restored nor deleted since.
IN_TRASH = "trashed_at is not null and " + _ACTIVE


def not_in_trash(path_column):
    """SQL condition: the file at ``path_column`` has no open trash row (it is not moved, nor moving, away)."""
    return "not exists (select 1 from trash where trash.original_path = {} and {})".format(path_column, _ACTIVE)


@migrations()
def create_trash(db):
    db["trash"].create(
        {
            "id": int,
            "original_path": str,
            "trash_path": str,
            "md5": str,
            "size": int,
            "mtime": float,
            "group_id": int,
            "batch": str,
            "trashed_at": str,
            "restored_at": str,
            "emptied_at": str,
        },
        pk="id",
    )
    db["trash"].create_index(["original_path"])
    db["trash"].create_index(["batch"])


@migrations()
def index_trash_batch_groups(db):
    # An acceptance of suggestions is one batch over many groups; a restore asks what is left of one.
    db["trash"].create_index(["batch", "group_id"])


@migrations()
def add_trash_identity(db):
    # The moved file's device and inode: emptying and restoring touch only that file. pending
    # ("emptying", "restoring") is committed before the unlink or the rename back: a crash in
    # between is settled at the next start.
    db["trash"].add_column("real_path", str)
    db["trash"].add_column("device", int)
    db["trash"].add_column("inode", int)
    db["trash"].add_column("pending", str)


@migrations()
def index_rows_in_trash(db):
    # The trash page walks the rows in the trash newest first until it has a page of removals,
    # counts them, and searches their paths with a like '%...%' that no b-tree can seek: this
    # partial index, in id order, holds every column those read, for the rows in the trash only,
    # so they read neither the table nor the rows of files restored or deleted long ago.
    db.execute(
        "create index trash_in_trash on trash (id, batch, group_id, size, trashed_at, original_path) where " + IN_TRASH
    )


class TrashMixin:
    """Queries over the trash journal."""

    def journal_trash(self, entry):
        """Write the row of a file about to move; returns its id."""
        row = dict(entry, original_path=db_path(entry["original_path"]), trash_path=db_path(entry["trash_path"]))
        if entry.get("real_path"):
            row["real_path"] = db_path(entry["real_path"])
        return self.db["trash"].insert(row).last_pk

    def complete_trash(self, entry_id, device=None, inode=None):
        """The move is done; with device and inode, the file that moved was another than the one journaled."""
        self.db.execute(
            "update trash set trashed_at = ?, device = coalesce(?, device), inode = coalesce(?, inode) where id = ?",
            [now(), device, inode, entry_id],
        )

    def trash_move_open(self, entry_id):
        """Whether a journaled move is still to be made (not settled or called off meanwhile)."""
        sql = "select 1 from trash where id = ? and trashed_at is null"
        return self.db.execute(sql, [entry_id]).fetchone() is not None

    def forget_trash(self, entry_id):
        """Drop the row of a move that did not happen."""
        self.db.execute("delete from trash where id = ? and trashed_at is null", [entry_id])

    def mark_restored(self, entry_id):
        self.db.execute("update trash set restored_at = ?, pending = null where id = ?", [now(), entry_id])

    def mark_pending(self, entry_id, pending):
        """Say what is about to be done to a file in the trash ("emptying", "restoring"), before doing it."""
        self.db.execute("update trash set pending = ? where id = ?", [pending, entry_id])

    def cancel_pending(self, entry_id):
        self.db.execute("update trash set pending = null where id = ?", [entry_id])

    def mark_emptied(self, entry_id):
        self.db.execute("update trash set emptied_at = ?, pending = null where id = ?", [now(), entry_id])

    def unfinished_pending(self):
        """Rows of files a crash caught being emptied or restored: done, or not."""
        sql = "select * from trash where pending is not null and " + _ACTIVE
        return [_decoded(row) for row in self.db.query(sql)]

    def trash_entries(self, ids=None, limit=None, offset=0):
        """Rows of files in the trash, newest first; all of them, or those with these ids."""
        sql = "select * from trash where trashed_at is not null and " + _ACTIVE
        params = []
        if ids is not None:
            sql += " and id in ({})".format(", ".join("?" * len(ids)))
            params += list(ids)
        sql += " order by id desc"
        if limit is not None:
            sql += " limit ? offset ?"
            params += [limit, offset]
        return [_decoded(row) for row in self.db.query(sql, params)]

    def unfinished_trash(self):
        """Rows of moves that were journaled but never completed (a crash between the two)."""
        return [_decoded(row) for row in self.db.query("select * from trash where trashed_at is null and " + _ACTIVE)]

    def trash_batch(self, batch, group_id=None):
        """Ids of the files of one removal that are still in the trash (of one group of it, if given)."""
        sql = "select id from trash where batch = ? and trashed_at is not null and " + _ACTIVE
        params = [batch]
        if group_id is not None:
            sql += " and group_id = ?"
            params.append(group_id)
        return [entry_id for (entry_id,) in self.db.execute(sql, params).fetchall()]

    def emptied_of_batch(self, batch):
        """How many files of one removal were deleted for good by emptying the trash."""
        sql = "select count(*) from trash where batch = ? and emptied_at is not null"
        return self.db.execute(sql, [batch]).fetchone()[0]

    def trash_removals(self, search=None, batch=None, limit=None, offset=0):
        """Removals (batches) with files in the trash, the latest removed first, or the one given; with
        search, only files whose original path holds it count. Each: batch, files, bytes, groups,
        group_id (the first), trashed_at (when the removal began)."""
        where, params = _in_trash_where(search)
        batches = [batch] if batch is not None else self._latest_batches(where, params, limit, offset)
        found = {}
        for chunk, marks in in_chunks(batches):
            sql = (
                "select batch, count(*) as files, coalesce(sum(size), 0) as bytes,"
                " count(distinct group_id) as groups, min(group_id) as group_id, min(trashed_at) as trashed_at"
                " from trash where batch in ({}) and {} group by batch".format(marks, where)
            )
            found.update((row["batch"], row) for row in self.db.query(sql, chunk + params))
        return [found[batch] for batch in batches if batch in found]

    def _latest_batches(self, where, params, limit, offset):
        """Batches in the order of their latest row, newest first: rows are read from the newest
        until offset + limit batches were seen (a page of removals, not the whole trash, is read)."""
        seen = {}
        with contextlib.closing(
            self.db.execute("select batch from trash where {} order by id desc".format(where), params)
        ) as rows:
            for (batch,) in rows:
                seen[batch] = None
                if limit is not None and len(seen) >= offset + limit:
                    break
        return list(seen)[offset:]

    def trash_removal_count(self, search=None):
        """How many removals have files in the trash (whose original path holds search, with one).

        Reads every row in the trash: the trash page asks only when a page is past the end.
        """
        where, params = _in_trash_where(search)
        return self.db.execute("select count(distinct batch) from trash where " + where, params).fetchone()[0]

    def trash_removal_files(self, batches):
        """``{batch: files of it in the trash}``, whatever a search shows of them."""
        found = {}
        for chunk, marks in in_chunks(batches):
            sql = "select batch, count(*) from trash where batch in ({}) and {} group by batch".format(marks, IN_TRASH)
            found.update(self.db.execute(sql, chunk).fetchall())
        return found

    def trash_removal_groups(self, batch, search=None, limit=None, offset=0):
        """The groups of one removal with files in the trash, in the order they were removed:
        group_id, files, bytes (of the files whose original path holds search, with one)."""
        where, params = _in_trash_where(search, batch)
        sql = (
            "select group_id, count(*) as files, coalesce(sum(size), 0) as bytes from trash"
            " where {} group by group_id order by min(id)".format(where)
        )
        if limit is not None:
            sql += " limit ? offset ?"
            params += [limit, offset]
        return list(self.db.query(sql, params))

    def trash_removal_entries(self, batch, group_ids, search=None):
        """``{group_id: [rows]}``: the files of these groups of one removal in the trash, in the order they moved."""
        where, params = _in_trash_where(search, batch)
        found = {group_id: [] for group_id in group_ids}
        for chunk, marks in in_chunks(group_ids):
            sql = "select * from trash where {} and group_id in ({}) order by id".format(where, marks)
            for row in self.db.query(sql, params + chunk):
                found[row["group_id"]].append(_decoded(row))
        return found

    def removal_keepers(self, batch, group_ids):
        """``{group_id: [(path, md5, size)]}``: the copies one removal kept in place, group by group
        (size as it was then)."""
        found = {group_id: [] for group_id in group_ids}
        for chunk, marks in in_chunks(group_ids):
            sql = (
                "select d.group_id, m.path, m.md5, json_extract(m.snapshot, '$.size')"
                " from decisions d join decision_members m on m.decision_id = d.id"
                " where d.batch = ? and d.group_id in ({}) and m.kept = 1 order by m.path".format(marks)
            )
            for group_id, path, md5, size in self.db.execute(sql, [batch] + chunk).fetchall():
                found[group_id].append((fs_path(path), md5, size))
        return found

    def last_trash_batch(self):
        """The batch of the most recent removal with files still in the trash, or None."""
        sql = "select batch from trash where trashed_at is not null and {} order by id desc limit 1"
        row = self.db.execute(sql.format(_ACTIVE)).fetchone()
        return row[0] if row else None

    def trash_totals(self, search=None):
        """``(files, bytes)`` in the trash; with search, of the files whose original path holds it."""
        where, params = _in_trash_where(search)
        sql = "select count(*), coalesce(sum(size), 0) from trash where " + where
        return tuple(self.db.execute(sql, params).fetchone())


def _in_trash_where(search=None, batch=None):
    """``(condition, params)`` of the rows in the trash: of one removal if given, whose original path
    holds search if given."""
    where, params = IN_TRASH, []
    if batch is not None:
        where, params = where + " and batch = ?", params + [batch]
    if search:
        escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where, params = where + " and original_path like ? escape '\\'", params + ["%" + escaped + "%"]
    return where, params


def _decoded(row):
    for column in ("original_path", "trash_path", "real_path"):
        row[column] = fs_path(row[column])
    return row
