"""The ranks table (which copy of each group to keep, how sure, and why) and what ranking reads."""

import hashlib
import json
import uuid

from sqlite_utils import Migrations

from .base import db_path, fs_path, in_chunks
from .decisions import SUGGESTION
from .trash import not_in_trash

migrations = Migrations("shashin-ranks")
#: The decisions ranking learns from: people's keeps that stand, not accepted suggestions.
_STANDING_KEEP = "decisions.action = 'keep' and decisions.undone_at is null and decisions.source is not ?"


@migrations()
def create_ranks(db):
    db["ranks"].create(
        {"path": str, "group_id": int, "rank": int, "keep_probability": float, "reasons": str},
        pk="path",
    )
    db["ranks"].create_index(["group_id", "rank"])


@migrations()
def create_database_identity(db):
    # A database rebuilt at the same path gets another identity, so no model of the old one is taken for its own.
    db["database_identity"].insert({"id": uuid.uuid4().hex})


@migrations()
def add_sureness(db):
    # How sure the model is of each group, even where the rule orders: the review page's "least sure first".
    db["ranks"].add_column("sureness", float)


class RanksMixin:
    """Queries over ranks, and the reads of groups and decisions that ranking learns from."""

    def ranking_groups(self):
        """``(group_id, kind, [images row, ...])`` for every group, members in path order, trashed ones left out.
        A row's metadata JSON is read only when shashin-meta has not written its scan-time columns (ranking
        reads those): at 100,000 groups the JSON is most of what would be read."""
        if not self.db["group_members"].exists():
            return []
        columns = ", ".join("images.[{}]".format(name) for name in self.db["images"].columns_dict if name != "metadata")
        sql = (
            "select group_members.group_id as group_id, groups.kind as group_kind, " + columns + ","
            " case when images.tag_count is null then images.metadata end as metadata from group_members"
            " join groups on groups.id = group_members.group_id"
            " join images on images.path = group_members.path"
            " where " + not_in_trash("group_members.path") + " order by group_members.group_id, group_members.path"
        )
        groups = {}
        for row in self.db.query(sql):
            row["path"] = fs_path(row["path"])
            groups.setdefault((row.pop("group_id"), row.pop("group_kind")), []).append(row)
        return [(group_id, kind, members) for (group_id, kind), members in groups.items()]

    def groups_of_paths(self, paths):
        """``{path: group_id}`` for the paths that are members of a group."""
        if not self.db["group_members"].exists():
            return {}
        found = {}
        for chunk, marks in in_chunks(db_path(path) for path in paths):
            sql = "select path, group_id from group_members where path in ({})".format(marks)
            for path, group_id in self.db.execute(sql, chunk).fetchall():
                found[fs_path(path)] = group_id
        return found

    def keep_decisions(self, agrees=None):
        """Decisions people made that stand, oldest first, as ``(members, kept)``: member snapshots and booleans.

        Accepted suggestions are left out: learning from them would only make the model surer of itself.
        ``agrees(members, kept)``, the keeper rules': a decision made before they were saved stands only if
        they agree with it (the person's rules replaced what they did before).
        """
        decisions = {}
        for decision_id, kept, snapshot in self._keep_decision_rows():
            members, flags = decisions.setdefault(decision_id, ([], []))
            members.append(json.loads(snapshot))
            flags.append(bool(kept))
        before = self.rules_after_decision() if agrees else None
        return [
            (members, kept)
            for decision_id, (members, kept) in decisions.items()
            if before is None or decision_id > before or agrees(members, kept)
        ]

    def decisions_key(self):
        """A digest of this database's identity and of what :meth:`keep_decisions` gives, or None if no
        decision stands: a model learned from other decisions, or in another database, has another key."""
        (identity,) = self.db.execute("select id from database_identity").fetchone()
        digest = hashlib.sha256(identity.encode())
        decisions = []
        for decision_id, kept, snapshot in self._keep_decision_rows():
            if not decisions or decisions[-1] != decision_id:
                decisions.append(decision_id)
            digest.update(json.dumps([len(decisions), kept, snapshot]).encode())
        return digest.hexdigest() if decisions else None

    def keep_decision_count(self):
        """How many decisions :meth:`keep_decisions` gives when no keeper rules outrank any."""
        if not self.db["decisions"].exists():
            return 0
        return self.db.execute("select count(*) from decisions where " + _STANDING_KEEP, [SUGGESTION]).fetchone()[0]

    def _keep_decision_rows(self):
        """``(decision id, kept, snapshot JSON)`` of every member of the decisions that stand, in order."""
        if not self.db["decisions"].exists():
            return []
        sql = (
            "select decisions.id, decision_members.kept, decision_members.snapshot"
            " from decisions join decision_members on decision_members.decision_id = decisions.id"
            " where " + _STANDING_KEEP + " order by decisions.id, decision_members.rowid"
        )
        return self.db.execute(sql, [SUGGESTION]).fetchall()

    def save_ranks(self, rows):
        """Replace all ranks with rows of path, group_id, rank, keep_probability, reasons (a list) and sureness
        (the group's: the trees' keep probability of its suggested keeper, None without a model); a
        keep_probability or sureness left out is null."""
        # One prepared insert, not sqlite-utils' insert_all, which checked every value of every row for JSON: 290,000
        # ranks (100,000 groups) in 2.4 s, not 3.8.
        with self.db.atomic():
            self.db.execute("delete from ranks")
            self.db.conn.executemany(
                "insert into ranks (path, group_id, rank, keep_probability, reasons, sureness)"
                " values (?, ?, ?, ?, ?, ?)",
                (
                    (
                        db_path(row["path"]),
                        row["group_id"],
                        row["rank"],
                        row.get("keep_probability"),
                        json.dumps(row["reasons"]),
                        row.get("sureness"),
                    )
                    for row in rows
                ),
            )

    def ranked_by_model(self):
        """Whether the ranks come from a trained model (they have keep probabilities), not the rule."""
        if not self.db["ranks"].exists():
            return False
        # One run writes all ranks, with probabilities for every member or for none: one row tells.
        row = self.db.execute("select keep_probability is not null from ranks limit 1").fetchone()
        return bool(row and row[0])

    def confident_suggestions(self, threshold):
        """Undecided groups whose keeper's keep probability is at least threshold, and so is the group's
        sureness (under the learned orders, the weight of those that choose the keeper: the trees may be sure
        where the orders are split), with what else to remove; never a series (different shots of which a
        person picks the best, not copies).

        Each is ``{"group": id, "keep": path, "keep_probability": p, "remove": [{"path", "md5",
        "size", "mtime"}, ...]}``, the sizes and mtimes as scanned (the trash checks them again).
        """
        sql = (
            "select keeper.group_id, keeper.path, keeper.keep_probability,"
            " other.path, images.md5, images.size, images.mtime"
            " from ranks as keeper join ranks as other"
            " on other.group_id = keeper.group_id and other.rank > 1"
            # Ranks older than the grouping name groups that are gone: not suggested.
            " join group_members on group_members.path = other.path and group_members.group_id = other.group_id"
            " join images on images.path = other.path"
            " join groups on groups.id = keeper.group_id and groups.kind != 'series'"
            " where keeper.rank = 1 and keeper.keep_probability >= ? and keeper.sureness >= ?"
        )
        if self.db["decisions"].exists():
            sql += (
                " and keeper.group_id not in"
                " (select group_id from decisions where undone_at is null and group_id is not null)"
            )
        suggestions = {}
        for group_id, keep, probability, path, md5, size, mtime in self.db.execute(
            sql + " order by keeper.group_id, other.rank", [threshold, threshold]
        ).fetchall():
            suggestion = suggestions.setdefault(
                group_id, {"group": group_id, "keep": fs_path(keep), "keep_probability": probability, "remove": []}
            )
            suggestion["remove"].append({"path": fs_path(path), "md5": md5, "size": size, "mtime": mtime})
        return list(suggestions.values())
