"""Decisions people made about groups, with a snapshot of every member at that moment.

Ranking learns from these rows; the snapshot keeps the features of a file that was
deleted since. A decision whose removals were all undone gets ``undone_at``.
"""

import itertools
import json

from sqlite_utils import Migrations

from .base import db_path, fs_path, in_chunks, now

migrations = Migrations("shashin-decisions")

#: The source of decisions made by accepting shashin-rank's suggestions in bulk. Ranking
#: does not learn from them: they are its own guesses, not a person's choices.
SUGGESTION = "suggestion"


@migrations()
def create_decisions(db):
    db["decisions"].create(
        {
            "id": int,
            "group_id": int,
            "decided_at": str,
            "action": str,
            "source": str,
            "batch": str,
            "undone_at": str,
        },
        pk="id",
    )
    db["decisions"].create_index(["group_id"])
    db["decision_members"].create(
        {"decision_id": int, "path": str, "md5": str, "kept": int, "snapshot": str},
        pk=("decision_id", "path"),
        foreign_keys=[("decision_id", "decisions", "id")],
    )


class DecisionsMixin:
    """Queries over decisions and decision_members."""

    def record_decision(self, group_id, action, members, source="ui", batch=None):
        """Store a decision: action is 'keep', 'pick' or 'not_duplicates'; members are ``(images row, kept)``."""
        decision_id = (
            self.db["decisions"]
            .insert({"group_id": group_id, "decided_at": now(), "action": action, "source": source, "batch": batch})
            .last_pk
        )
        self.db["decision_members"].insert_all(
            {
                "decision_id": decision_id,
                "path": db_path(row["path"]),
                "md5": row["md5"],
                "kept": int(kept),
                "snapshot": json.dumps(_snapshot(row)),
            }
            for row, kept in members
        )
        return decision_id

    def keep_in_decision(self, batch, group_id, paths):
        """Members of a removal's decision that did not move after all: kept. A decision with none removed goes."""
        decisions = "select id from decisions where batch = ? and group_id = ?"
        self.db.conn.executemany(
            "update decision_members set kept = 1 where path = ? and decision_id in ({})".format(decisions),
            [(db_path(path), batch, group_id) for path in paths],
        )
        removed_none = (
            "id in ({}) and not exists (select 1 from decision_members"
            " where decision_id = decisions.id and kept = 0)".format(decisions)
        )
        self.db.execute(
            "delete from decision_members where decision_id in (select id from decisions where {})".format(
                removed_none
            ),
            [batch, group_id],
        )
        self.db.execute("delete from decisions where " + removed_none, [batch, group_id])

    def undo_decisions(self, batch, group_id=None):
        """Mark the decisions of a removal (of one group of it, if given) whose files are all back as undone."""
        sql = "update decisions set undone_at = ? where batch = ? and undone_at is null"
        params = [now(), batch]
        if group_id is not None:
            sql += " and group_id = ?"
            params.append(group_id)
        self.db.execute(sql, params)

    def decided_groups(self):
        """Ids of groups with a decision that stands."""
        sql = "select distinct group_id from decisions where undone_at is null"
        return {group_id for (group_id,) in self.db.execute(sql).fetchall()}

    def verdicts(self, group_ids):
        """``{group id: action}`` of those of these groups with a standing decision that moved nothing:
        "not duplicates", or a choice imported from elsewhere (``keep``)."""
        found = {}
        for chunk, marks in in_chunks(group_ids):
            sql = (
                "select group_id, action from decisions where batch is null and undone_at is null"
                " and group_id in ({}) order by id".format(marks)
            )
            found.update(self.db.execute(sql, chunk).fetchall())
        return found

    def not_duplicates_decision(self, decision_id):
        """``(group id, [md5])`` of a "not duplicates" decision that stands, or None."""
        sql = "select group_id from decisions where id = ? and action = 'not_duplicates' and undone_at is null"
        row = self.db.execute(sql, [decision_id]).fetchone()
        if row is None:
            return None
        md5s = "select md5 from decision_members where decision_id = ? and md5 is not null"
        return row[0], [md5 for (md5,) in self.db.execute(md5s, [decision_id])]

    def not_duplicates_pairs_elsewhere(self, decision_id, md5s):
        """The pairs of these contents that another standing "not duplicates" decision also holds apart."""
        sql = """
            select m.decision_id, m.md5 from decision_members m join decisions d on d.id = m.decision_id
            where d.action = 'not_duplicates' and d.undone_at is null and d.id != ? and m.md5 in ({})
        """
        others = {}
        for chunk, marks in in_chunks(sorted(set(md5s))):
            for other, md5 in self.db.execute(sql.format(marks), [decision_id] + chunk):
                others.setdefault(other, set()).add(md5)
        return {pair for held in others.values() for pair in itertools.combinations(sorted(held), 2)}

    def undo_decision(self, decision_id):
        """Mark one decision undone. Kept, not deleted: its id is never given to a later decision, so an
        undo sent twice (a retry, a second tab) finds it undone instead of undoing another group's."""
        self.db.execute("update decisions set undone_at = ? where id = ?", [now(), decision_id])

    def decisions(self, group_id=None):
        """Decisions, newest first, each with its members and their snapshots parsed."""
        sql = "select * from decisions" + (" where group_id = ?" if group_id is not None else "")
        found = list(self.db.query(sql + " order by id desc", [] if group_id is None else [group_id]))
        for decision in found:
            decision["members"] = [
                dict(member, path=fs_path(member["path"]), snapshot=json.loads(member["snapshot"]))
                for member in self.db.query(
                    "select * from decision_members where decision_id = ? order by rowid", [decision["id"]]
                )
            ]
        return found


def _snapshot(row):
    snapshot = dict(row, path=fs_path(row["path"]))
    if isinstance(snapshot.get("metadata"), str):
        snapshot["metadata"] = json.loads(snapshot["metadata"])
    return snapshot
