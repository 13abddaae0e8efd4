"""The keeper rules a person set (``shashin-rank --prefer``, the review page's rules page)."""

from sqlite_utils import Migrations

from .. import facts
from .base import fs_path, in_chunks
from .trash import not_in_trash

migrations = Migrations("shashin-preferences")


@migrations()
def create_keeper_rules(db):
    db["keeper_rules"].create({"position": int, "criterion": str, "argument": str}, pk="position")


@migrations()
def add_after_decision(db):
    # The latest decision when the rules were saved: those up to it were made before them.
    db["keeper_rules"].add_column("after_decision", int)


class PreferencesMixin:
    """Queries over keeper_rules."""

    def keeper_rules(self):
        """The person's rules in order, as ``(criterion, argument or None)``; empty when none are set."""
        if not self.db["keeper_rules"].exists():
            return []
        return self.db.execute("select criterion, argument from keeper_rules order by position").fetchall()

    def rules_after_decision(self):
        """The id of the latest decision when the keeper rules were saved (None: none was made, or no rules)."""
        if not self.db["keeper_rules"].exists():
            return None
        row = self.db.execute("select after_decision from keeper_rules limit 1").fetchone()
        return row[0] if row else None

    def save_keeper_rules(self, rules):
        """Replace the rules with ``(criterion, argument or None)`` pairs, in order, and drop the ranks, which
        the old rules ordered (a model's too: it learned from them, and bulk accept would act on its keepers)."""
        decided = self.db["decisions"].exists()
        latest = self.db.execute("select max(id) from decisions").fetchone()[0] if decided else None
        with self.db.atomic():
            self.db.execute("delete from keeper_rules")
            self.db["keeper_rules"].insert_all(
                {"position": position, "criterion": criterion, "argument": argument, "after_decision": latest}
                for position, (criterion, argument) in enumerate(rules, 1)
            )
            self.save_ranks([])

    def keeper_sample(self, limit):
        """``(groups, {group_id: [row]})``: how many undecided groups there are, and the members still in
        place of up to limit of them, spread evenly over all. A row has what ranking reads (the metadata
        JSON only where the facts columns are empty) and its rank when shashin-rank ranked it."""
        if not self.db["group_members"].exists():
            return 0, {}
        decided = self.decided_groups() if self.db["decisions"].exists() else set()
        ids = [i for (i,) in self.db.execute("select id from groups order by id")]
        ids = [i for i in ids if i not in decided]
        chosen = ids[:: -(-len(ids) // limit)] if ids else []
        ranked = self.db["ranks"].exists()
        sql = (
            "select m.group_id, i.path, i.size, i.mtime, i.width, i.height, i.format, i.taken_at,"
            " i.taken_at_source, i.make, i.model, {facts},"
            " case when i.tag_count is null then i.metadata end as metadata{rank}"
            " from group_members m join images i on i.path = m.path{join}"
            " where m.group_id in ({marks}) and {in_place} order by m.group_id, m.path"
        )
        found = {}
        for chunk, marks in in_chunks(chosen):
            query = sql.format(
                facts=", ".join("i." + field for field in facts.FIELDS),
                rank=", r.rank" if ranked else "",
                join=" left join ranks r on r.path = m.path and r.group_id = m.group_id" if ranked else "",
                marks=marks,
                in_place=not_in_trash("m.path"),
            )
            for row in self.db.query(query, chunk):
                row["path"] = fs_path(row["path"])
                found.setdefault(row.pop("group_id"), []).append(row)
        return len(ids), found
