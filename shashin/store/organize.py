"""Tables of shashin-organize: its runs and the journal of every file operation, and the queries
that keep the database true when files move (every table's ``path`` follows them) or are copied."""

import json
import os

from sqlite_utils import Migrations

from .base import db_path, fs_path, in_chunks, now

migrations = Migrations("shashin-organize")

#: Tags of the stored metadata (exiftool -G) that name the file.
_NAME_TAGS = ('$."SourceFile"', '$."File:FileName"', '$."File:Directory"')


@migrations()
def create_organize(db):
    db["organize_runs"].create(
        {
            "id": int,
            "action": str,
            "dest": str,
            "sources": str,
            "pattern": str,
            "rename": str,
            "undated": str,
            "mtime_fallback": int,
            "undoes": int,
            "started_at": str,
            "finished_at": str,
        },
        pk="id",
    )
    db["organize_journal"].create(
        {
            "id": int,
            "run": int,
            "action": str,
            "src": str,
            "dest": str,
            "twin": str,
            "size": int,
            "mtime": float,
            "md5": str,
            "state": str,
            "error": str,
            "undoes": int,
            "planned_at": str,
            "settled_at": str,
        },
        pk="id",
        foreign_keys=[("run", "organize_runs", "id")],
    )
    db["organize_journal"].create_index(["run"])
    db["organize_journal"].create_index(["state"])


class OrganizeMixin:
    """Queries of shashin-organize."""

    def organize_sources(self, paths):
        """What the images table knows of these paths, as ``{path: row}`` with ``tags`` parsed
        only where a QuickTime UTC date needs them."""
        found = {}
        for keys, marks in in_chunks(db_path(p) for p in paths):
            sql = (
                "select path, size, mtime, md5, taken_at, taken_at_source, make, model,"
                " metadata is not null as has_metadata,"
                " case when taken_at_source = 'CreateDate' and taken_at like '%+00:00'"
                " then metadata end as tags"
                " from images where path in ({})".format(marks)
            )
            for row in self.db.query(sql, keys):
                row["path"] = fs_path(row["path"])
                row["tags"] = json.loads(row["tags"]) if row["tags"] else None
                found[row["path"]] = row
        return found

    def start_organize_run(self, action, options, sources=(), undoes=None):
        """A new run; returns its id, the journal number a user gives to --undo."""
        return (
            self.db["organize_runs"]
            .insert(
                {
                    "action": action,
                    "dest": options.dest if options else None,
                    "sources": json.dumps(list(sources), ensure_ascii=False),
                    "pattern": options.pattern if options else None,
                    "rename": options.rename if options else None,
                    "undated": options.undated if options else None,
                    "mtime_fallback": int(options.mtime_fallback) if options else None,
                    "undoes": undoes,
                    "started_at": now(),
                }
            )
            .last_pk
        )

    def finish_organize_run(self, run):
        self.db["organize_runs"].update(run, {"finished_at": now()})

    def organize_run(self, run):
        rows = list(self.db.query("select * from organize_runs where id = ?", [run]))
        return rows[0] if rows else None

    def journal_organize(self, run, actions):
        """Write actions to the journal as planned, before any is carried out; sets ``action.journal``."""
        planned_at = now()
        with self.db.atomic():
            # Ids given here, so one executemany writes the batch (one run at a time writes the journal).
            last = self.db.execute("select coalesce(max(id), 0) from organize_journal").fetchone()[0]
            for number, action in enumerate(actions, last + 1):
                action.journal = number
            self.db.conn.executemany(
                "insert into organize_journal"
                " (id, run, action, src, dest, twin, size, mtime, md5, state, undoes, planned_at)"
                " values (?, ?, ?, ?, ?, ?, ?, ?, ?, 'planned', ?, ?)",
                [
                    (
                        action.journal,
                        run,
                        action.action,
                        db_path(action.src),
                        _key(action.dest),
                        _key(action.twin),
                        action.size,
                        action.mtime,
                        action.md5,
                        action.undoes,
                        planned_at,
                    )
                    for action in actions
                ],
            )

    def settle_organize(self, actions):
        """Record how journalled actions ended, and make the database follow the files, in one transaction.

        Moved files keep all their rows under the new path; a copy gets a copy of its
        images row; a removed copy loses its row; an undo marks the entry it reversed.
        """
        settled_at = now()
        done = [a for a in actions if not a.failed]
        with self.db.atomic():
            self.db.conn.executemany(
                "update organize_journal set state = ?, error = ?, md5 = coalesce(?, md5), settled_at = ? where id = ?",
                [
                    ("failed", a.reason, a.md5, settled_at, a.journal)
                    if a.failed
                    else ("done", None, a.md5, settled_at, a.journal)
                    for a in actions
                ],
            )
            self.db.conn.executemany(
                "update organize_journal set state = 'undone', settled_at = ? where id = ?",
                [(settled_at, a.undoes) for a in done if a.undoes is not None],
            )
            self._follow_moves([(a.src, a.dest) for a in done if a.action == "move"])
            self._copy_rows([(a.src, a.dest) for a in done if a.action == "copy"])
            # Known again at the next scan; until then a removal trusts the md5 it reads, not a stale inode.
            self.db.conn.executemany(
                "update images set real_path = null, device = null, inode = null where path = ?",
                [(db_path(a.dest),) for a in done if a.action in ("move", "copy")],
            )
            # A copy on a file system with coarser times: the row stays true, so nothing is hashed again.
            self.db.conn.executemany(
                "update images set mtime = ? where path = ? and mtime = ?",
                [
                    (a.copied_mtime, db_path(a.dest), a.mtime)
                    for a in done
                    if a.copied_mtime is not None and a.copied_mtime != a.mtime
                ],
            )
            self.db.conn.executemany(
                "delete from images where path = ?", [(db_path(a.src),) for a in done if a.action == "remove"]
            )

    def unsettled_organize(self):
        """Journal entries planned but never settled: what an interrupted run left."""
        return self._entries("state = 'planned'", [])

    def organize_entries(self, run, state):
        return self._entries("run = ? and state = ?", [run, state])

    def _entries(self, where, params):
        sql = "select * from organize_journal where {} order by id".format(where)
        rows = list(self.db.query(sql, params))
        for row in rows:
            for column in ("src", "dest", "twin"):
                row[column] = fs_path(row[column]) if row[column] is not None else None
        return rows

    def _path_tables(self):
        """Every table with a ``path`` column, whichever command made it: they all follow a moved file."""
        version = self.db.execute("pragma schema_version").fetchone()[0]
        if getattr(self, "_path_tables_seen", (None,))[0] != version:
            tables = self.db.tables
            named = [t.name for t in tables if not t.virtual_table_using and "path" in t.columns_dict]
            self._path_tables_seen = (version, named)
        return self._path_tables_seen[1]

    def _follow_moves(self, moves):
        if not moves:
            return
        pairs = [(db_path(dest), db_path(src)) for src, dest in moves]
        for table in self._path_tables():
            # "or replace": a stale row of a file once at the destination gives way.
            sql = "update or replace [{}] set path = ? where path = ?".format(table)
            self.db.conn.executemany(sql, pairs)
        self._rename_in_metadata([dest for _, dest in moves])

    def _copy_rows(self, copies):
        if not copies:
            return
        columns = [c for c in self.db["images"].columns_dict if c != "path"]
        self.db.conn.executemany(
            "insert or replace into images (path, {0}) select ?, {0} from images where path = ?".format(
                ", ".join("[{}]".format(c) for c in columns)
            ),
            [(db_path(dest), db_path(src)) for src, dest in copies],
        )
        self._rename_in_metadata([dest for _, dest in copies])

    def _rename_in_metadata(self, paths):
        """Make the name tags of stored metadata say where the file is now."""
        source, name, directory = _NAME_TAGS
        self.db.conn.executemany(
            "update images set metadata = json_replace(metadata, ?, ?, ?, ?, ?, ?)"
            " where path = ? and json_valid(metadata)",
            [
                (source, path, name, os.path.basename(path), directory, os.path.dirname(path), path)
                for path in paths
                if isinstance(db_path(path), str)
            ],
        )


def _key(path):
    return db_path(path) if path is not None else None
