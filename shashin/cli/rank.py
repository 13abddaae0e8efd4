"""shashin-rank: learn which copy of a group a person keeps, and order every group keeper first."""

import click

from .. import ranking
from ..outcomes import FAILED, SKIPPED
from ..ranking import preferences
from .common import NEEDS, SetupError, Tool, write_record


class Rank(Tool):
    """Rank the members of every group: which copy to keep, how sure, and why.

    Learns from the decisions recorded by the review page (or imported with
    --decisions): every kept and deleted copy of a decided group is one example of
    what this person prefers. Features come from the snapshot taken when the
    decision was made, so files removed since still teach. The model compares two
    copies at a time by the signs of their differences (larger or smaller file,
    more pixels, earlier capture, format, folder and name words, the camera's
    evidence, edited, the rule's order) and each one's long edge, with
    gradient-boosted trees (LightGBM). Beside them, the orders of criteria that
    explain the decisions ("the copy in Camera/, else the largest") are weighed
    by how well they do and how plainly a person would say them; grouped
    cross-validation picks the trees or the weighed orders.

    Until the model predicts past decisions at least as well as the rule in grouped
    cross-validation, the rule orders groups, looking for the camera's original:
    most of the camera's evidence (make and model, sub-second or offset capture
    time, maker notes, a camera's format, name and folder, a capture date the name
    and GPS agree with), then not edited, then highest resolution, then has a
    capture date, then oldest capture date, then largest file, then shortest path.
    The model is saved next to the database (shashin.db -> shashin.rank.joblib) and
    retrained only when the decisions change.

    Your own keeper rules (--prefer, or the review page's /-/shashin/rules) replace
    the built-in rule: criteria in order, the first that tells two copies apart
    decides, ties fall to the next, and finally the built-in rule. They are stored
    in the database, shown on stderr at every run, and what the model starts from;
    every decision still teaches.

    Writes the ranks table and one JSON line per group, keeper first
    (keep_probability is null while the rule orders; sureness is how sure the
    model is of the suggested keeper: the weight of the learned orders that put
    it first, else the trees' keep probability of it, also while the rule
    orders; null before there is a model and for a series):

    \b
    {"group": ID, "sureness": P, "members": [{"path", "rank", "keep_probability", "reasons"}, ...]}

    --ask N prints instead the N undecided groups (never a series) whose keeper
    the model is least sure of, least sure first: the decisions that would teach
    it most (before 5 decided groups, groups in a shuffled order):

    \b
    {"group": ID, "sureness": P, "members": [{"path", "keep_probability"}, ...]}

    Exit status: 0 done, 1 some imported decisions failed or the model could not be saved, 2 usage or database
    error.
    """

    name = "shashin-rank"
    examples = """
  shashin-rank                                  # learn from the review page's decisions, rank every group
  shashin-rank --decisions kept.jsonl           # first import decisions made with another tool
  shashin-rank --evaluate                       # model vs rule on past decisions, and the learning curve
  shashin-rank --ask 10                         # the 10 groups a decision on would teach most
  shashin-rank --prefer 'folder:DCIM, largest-file, not-edited'   # your keeper rules, then rank
  shashin-rank --prefer 'long-edge:1200, smallest-file'           # the smallest copy still 1200 px
  shashin-rank --prefer default                 # back to the built-in rule
  shashin-rank -q | jq -c 'select(.members[0].keep_probability >= 0.95)'
"""
    params = [
        click.Option(
            ["--decisions", "decisions_file"],
            type=click.File("rb"),
            help='Import decisions first: JSON lines of {"kept": [PATH...], "deleted": [PATH...]} ("-" for stdin).',
        ),
        click.Option(
            ["--evaluate"],
            is_flag=True,
            help="Print grouped cross-validated accuracy of the model and of the rule, and the learning curve;"
            " rank nothing.",
        ),
        click.Option(
            ["--ask"],
            type=click.IntRange(min=1),
            metavar="N",
            help="Print the N undecided groups whose keeper the model is least sure of, least sure first;"
            " rank nothing.",
        ),
        click.Option(
            ["--prefer", "rules"],
            metavar="RULES",
            help="Set your keeper rules, comma-separated, the first decides: "
            + ", ".join(preferences.usage(negated=False))
            + " (a yes/no rule also as not-RULE: not-edited; * and ? in a PATTERN). 'default' or '' clears them.",
        ),
    ]
    database = NEEDS
    creates_database = False
    unit = "group"

    def main(self, decisions_file, evaluate, ask, rules):
        store, reporter = self.store, self.reporter
        if rules is not None:
            try:
                preferences.save(store, preferences.parse(rules))
            except preferences.RuleError as error:
                raise SetupError("--prefer: {}".format(error)) from None
        imports = ()
        if decisions_file:
            imports = (ranking.IMPORTED, ranking.ALREADY_IMPORTED, FAILED)
            for outcome in ranking.import_decisions(store, decisions_file):
                if outcome.status != ranking.UNKNOWN_PATH:
                    reporter.count(outcome.status)
                if outcome.message:
                    reporter.error(outcome.path, outcome.message)
        if not reporter.quiet:
            reporter.say("keeper rules: {}".format(preferences.load(store) or "none, the built-in rule decides"))
        if evaluate:
            result = ranking.evaluate(store)
            curve = result.pop("learning_curve")
            write_record(result)
            for point in curve:
                write_record(point)
            reporter.counts["decided groups"] = result["groups"]
            self.summary = ("decided groups",) + imports
            return
        if ask:
            for outcome in ranking.ask(store, ask):
                if not self._said(outcome):
                    write_record(outcome.record)
                    reporter.count(outcome.status)
            self.summary = (ranking.ASKED,) + imports
            return
        self._rank_all()
        self.summary = (ranking.RANKED,) + imports

    @ranking.without_cycle_collector
    def _rank_all(self):
        """Rank every group: print each one's record, store the ranks. The collector is paused over the whole
        of it, the reading of the rows and the writing of the records too (see ranking.without_cycle_collector)."""
        store, reporter = self.store, self.reporter
        ranks = []
        for outcome in ranking.rank_groups(store):
            if self._said(outcome):
                continue
            if outcome.status == ranking.CHOSEN:
                if not reporter.quiet:
                    reporter.say(outcome.message)
            else:
                group = outcome.record
                write_record(group)
                ranks.extend(
                    dict(member, group_id=group["group"], sureness=group["sureness"]) for member in group["members"]
                )
                reporter.count(outcome.status)
        store.save_ranks(ranks)

    def _said(self, outcome):
        """Whether the outcome is one to say on stderr (the saved model skipped, or not saved), said."""
        if outcome.status == SKIPPED:
            self.reporter.skip(outcome.path, outcome.message)
        elif outcome.status == FAILED:
            self.reporter.error(outcome.path, outcome.message)
        else:
            return False
        return True


cli = Rank.command()
