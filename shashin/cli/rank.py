"""shashin-rank: learn which copy of a group a person keeps, and order every group keeper first."""

import collections
import json
import os

import click

from .. import ranking
from .common import Reporter, command, db_options, required_store, verbosity_options, write_record


@command(
    "shashin-rank",
    examples="""
  shashin-rank                                  # learn from the review page's decisions, rank every group
  shashin-rank --decisions kept.jsonl           # first import decisions made with another tool
  shashin-rank --evaluate                       # model vs rule on past decisions, and the learning curve
  shashin-rank -q | jq -c 'select(.members[0].keep_probability >= 0.95)'
""",
)
@click.option(
    "--decisions",
    "decisions_file",
    type=click.File("rb"),
    help='Import decisions first: JSON lines of {"kept": [PATH...], "deleted": [PATH...]} ("-" for stdin).',
)
@click.option(
    "--evaluate",
    is_flag=True,
    help="Print grouped cross-validated accuracy of the model and of the rule, and the learning curve; rank nothing.",
)
@db_options
@verbosity_options
def cli(decisions_file, evaluate, db_path, no_db, verbose, quiet):
    """Rank the members of every group: which copy to keep, how sure, and why.

    Learns from the decisions recorded by the review page (or imported with
    --decisions): every kept and deleted copy of a decided group is one example of
    what this person prefers. Features come from the snapshot taken when the
    decision was made, so files removed since still teach.

    Until the model predicts past decisions at least as well as the rule in grouped
    cross-validation, the rule orders groups: highest resolution, then largest
    file, then has a capture date, then oldest capture date, then shortest path.
    The model is saved next to the database (shashin.db -> shashin.rank.joblib) and
    retrained only when the decisions change.

    Writes the ranks table and one JSON line per group, keeper first
    (keep_probability is null while the rule orders):

    \b
    {"group": ID, "members": [{"path", "rank", "keep_probability", "reasons"}, ...]}

    Exit status: 0 done, 1 some imported decisions failed, 2 usage or database error.
    """
    store = required_store(db_path, no_db, "shashin-rank learns from and writes to the database")
    reporter = Reporter("shashin-rank", verbose, quiet, unit="group")
    if decisions_file:
        _import(decisions_file, store, reporter)
    imports = ("imported", "already imported", "failed") if decisions_file else ()
    if evaluate:
        result = ranking.evaluate(store.keep_decisions())
        curve = result.pop("learning_curve")
        write_record(result)
        for point in curve:
            write_record(point)
        reporter.counts["decided groups"] = result["groups"]
        return reporter.finish(("decided groups",) + imports)
    ranker = _ranker(store, db_path, reporter)
    if not quiet:
        click.echo("shashin-rank: {}".format(_chosen(ranker.evaluation)), err=True)
    groups = store.ranking_groups()
    ranked = ranker.rank([members for _, members in groups])
    rows = []
    for (group_id, _), members in zip(groups, ranked):
        write_record({"group": group_id, "members": members})
        rows.extend(dict(member, group_id=group_id) for member in members)
        reporter.count("ranked")
    store.save_ranks(rows)
    return reporter.finish(("ranked",) + imports)


def _ranker(store, db_path, reporter):
    """The saved ranker if it learned from the decisions that stand now, else a freshly trained one."""
    state = store.decisions_state()
    path = ranking.model_path(db_path)
    if state[0] == 0:
        return ranking.train([])  # the rule, with nothing saved
    try:
        saved = ranking.load(path)
    except Exception as error:  # a model pickled by another scikit-learn version: retrain
        reporter.skip(path, "cannot load the saved model ({}), retraining".format(error))
        saved = None
    if saved is not None and saved.evaluation.get("decisions_state") == state:
        return saved
    ranker = ranking.train(store.keep_decisions())
    ranker.evaluation["decisions_state"] = state
    ranking.save(ranker, path)
    return ranker


def _chosen(evaluation):
    if "model_accuracy" not in evaluation:
        return "the rule orders groups ({} of the {} decided groups needed to learn)".format(
            evaluation["groups"], ranking.MIN_GROUPS
        )
    return "the {} orders groups (grouped cross-validated top-1: model {:.3f}, rule {:.3f}, {} decided groups)".format(
        evaluation["used"], evaluation["model_accuracy"], evaluation["rule_accuracy"], evaluation["groups"]
    )


def _import(stream, store, reporter):
    """Record each line's decision, with snapshots of its members' rows as they are now.

    A decision already recorded (the same files kept and deleted) is not recorded again,
    so importing a growing history again and again teaches each decision once.
    """
    name = getattr(stream, "name", "-")
    known = {frozenset((m["path"], k) for m, k in zip(members, kept)) for members, kept in store.keep_decisions()}
    for number, line in enumerate(stream, 1):
        if not line.strip():
            continue
        where = "{} line {}".format(name, number)
        try:
            entry = json.loads(line)
            if not all(isinstance(entry[side], list) for side in ("kept", "deleted")):
                raise TypeError
            sides = [[os.path.abspath(path) for path in entry[side]] for side in ("kept", "deleted")]
        except (ValueError, KeyError, TypeError):
            reporter.count("failed")
            reporter.error(where, 'not a JSON object with "kept" and "deleted" lists of paths')
            continue
        rows = store.images_by_path(sides[0] + sides[1])
        for path in sides[0] + sides[1]:
            if path not in rows:
                reporter.error(path, "not in the database (run shashin-hash and shashin-meta on it first)")
        members = [(rows[path], kept) for kept, side in zip((True, False), sides) for path in side if path in rows]
        if not any(kept for _, kept in members) or all(kept for _, kept in members):
            reporter.count("failed")
            reporter.error(where, "needs a kept and a deleted file that are in the database")
            continue
        decided = frozenset((row["path"], kept) for row, kept in members)
        if decided in known:
            reporter.count("already imported")
            continue
        known.add(decided)
        groups = collections.Counter(store.groups_of_paths(rows).values())
        group_id = groups.most_common(1)[0][0] if groups else None
        store.record_decision(group_id, "keep", members, source="import")
        reporter.count("imported")
