"""The keeper rules a person set (``shashin-rank --prefer``, the review page's rules page)."""

from sqlite_utils import Migrations

migrations = Migrations("shashin-preferences")


@migrations()
def create_keeper_rules(db):
    db["keeper_rules"].create({"position": int, "criterion": str, "argument": str}, pk="position")


class PreferencesMixin:
    """Queries over keeper_rules."""

    def keeper_rules(self):
        """The person's rules in order, as ``(criterion, argument or None)``; empty when none are set."""
        if not self.db["keeper_rules"].exists():
            return []
        return self.db.execute("select criterion, argument from keeper_rules order by position").fetchall()

    def save_keeper_rules(self, rules):
        """Replace the rules with ``(criterion, argument or None)`` pairs, in order."""
        with self.db.atomic():
            self.db.execute("delete from keeper_rules")
            self.db["keeper_rules"].insert_all(
                {"position": position, "criterion": criterion, "argument": argument}
                for position, (criterion, argument) in enumerate(rules, 1)
            )
