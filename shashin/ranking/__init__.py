"""Which copy of a group a person keeps: ranking every group, importing decisions, what accepting would remove.

The cold-start rule (:mod:`.rule`) is plain Python. The learned model (:mod:`.model`) needs
scikit-learn and LightGBM, so it is imported only where a ranker is trained, loaded or evaluated:
the review page and ``shashin-rank --help`` start without them.
"""

from __future__ import annotations

import functools
import gc
import json
import os
from collections.abc import Generator
from typing import TYPE_CHECKING

from ..outcomes import FAILED, SKIPPED, Outcome

if TYPE_CHECKING:
    from ..store import Store

#: Fewer decided groups than this and the cold-start rule orders every group.
MIN_GROUPS = 5
RANKED, CHOSEN, ASKED = "ranked", "chosen", "asked"
IMPORTED, ALREADY_IMPORTED, UNKNOWN_PATH = "imported", "already imported", "not in the database"


def model_path(db_path):
    """Where the model of a database lives: ``shashin.db`` -> ``shashin.rank.joblib``."""
    return os.path.splitext(db_path)[0] + ".rank.joblib"


def without_cycle_collector(function):
    """``function`` run with Python's cycle collector paused. Ranking makes millions of small objects (rows, a
    member's facts and words, reasons) and no reference cycles; the collector's passes over them, each longer
    as the ranked groups pile up, took a quarter to a third of the time to train and rank."""

    @functools.wraps(function)
    def paused(*args, **kwargs):
        if not gc.isenabled():
            return function(*args, **kwargs)
        gc.disable()
        try:
            return function(*args, **kwargs)
        finally:
            gc.enable()

    return paused


def rank_groups(store: Store) -> Generator[Outcome, None, None]:
    """Yield outcomes: the saved model skipped (it cannot be loaded), what orders the groups (``chosen``,
    in words), then each group keeper first (``ranked``, the group's JSON line as record: ``{"group",
    "sureness", "members"}``, sureness how sure the model is of the suggested keeper (see
    :meth:`.model.Ranker.rank_and_sureness`), None without a model and for a series).

    The saved ranker is used if it learned from the decisions that stand now in this database
    (:meth:`Store.decisions_key`) under the person's rules as they are now; else one is trained and saved
    next to the database. Storing the ranks is the caller's job.
    """
    ranker = yield from _ranker(store)
    yield Outcome(None, CHOSEN, message=_chosen(ranker))
    from ..captures import SERIES

    groups = store.ranking_groups()
    ranked, sureness = ranker.rank_and_sureness([members for _, _, members in groups])
    for (group_id, kind, _), members, sure in zip(groups, ranked, sureness):
        # A series is different shots: picking the best teaches nothing of which copy a person keeps, so it
        # is never among the groups to ask about.
        sure = None if kind == SERIES else sure
        yield Outcome(None, RANKED, {"group": group_id, "sureness": sure, "members": members})


def ask(store: Store, count: int) -> Generator[Outcome, None, None]:
    """Yield outcomes: the saved model skipped (as :func:`rank_groups`), then the count undecided groups
    whose keeper the model is least sure of, least sure first, never a series (``asked``, record ``{"group", "sureness",
    "members": [{"path", "keep_probability"}, ...]}``, members in the order shashin-rank ranks them,
    suggested keeper first). Before there is a model (fewer than MIN_GROUPS decided groups), groups in a
    shuffled order, ranked by the rule, probabilities None.
    """
    ranker = yield from _ranker(store)
    decided = store.decided_groups()
    from ..captures import SERIES

    groups = [
        (group_id, members)
        for group_id, kind, members in store.ranking_groups()
        if group_id not in decided and kind != SERIES and len(members) > 1
    ]
    asked = [groups[index] for index in ranker.least_sure_first([members for _, members in groups])[:count]]
    ranked, sureness = ranker.rank_and_sureness([members for _, members in asked], explain=False)
    for (group_id, _), members, sure in zip(asked, ranked, sureness):
        yield Outcome(
            None,
            ASKED,
            {
                "group": group_id,
                "sureness": sure,
                "members": [{"path": m["path"], "keep_probability": m["keep_probability"]} for m in members],
            },
        )


def positions_of(store: Store):
    """What the learner starts from: the person's keeper rules, or the built-in rule when they set none."""
    from . import preferences, rule

    return preferences.load(store) or rule.rule_positions


def _ranker(store):
    from . import model

    positions = positions_of(store)
    # A model learned under other rules has another key: the rules' order is one of its features.
    key = store.decisions_key()
    path = model_path(store.path)
    if key is None:
        return model.train([], positions)  # the rule, with nothing saved
    # A model saved by another version of the learner is trained again.
    key += " {} {} {}".format(model.VERSION, getattr(positions, "rules", ""), store.rules_after_decision())
    try:
        saved = model.load(path, positions)
    except Exception as error:  # a model pickled by another scikit-learn or LightGBM version: retrain
        yield Outcome(path, SKIPPED, message="cannot load the saved model ({}), retraining".format(error))
        saved = None
    if saved is not None and saved.evaluation.get("decisions_key") == key:
        return saved
    standing = _standing(store, positions)
    ranker = model.train(standing, positions)
    ranker.evaluation.update(decisions_key=key, superseded=store.keep_decision_count() - len(standing))
    try:
        model.save(ranker, path)
    except OSError as error:
        message = "cannot save the model ({}); it is trained again next run".format(error.strerror or error)
        yield Outcome(path, FAILED, message=message)
    return ranker


def _standing(store, positions):
    """The decisions the learner learns from: the person's keeper rules outrank the decisions made before them."""
    return store.keep_decisions(getattr(positions, "agrees", None))


def _chosen(ranker):
    evaluation = ranker.evaluation
    superseded = evaluation.get("superseded")
    # Decisions the person's keeper rules replaced: said, or "3 of the 5 decided groups" would hide them.
    replaced = "; {} made before the keeper rules and against them".format(superseded) if superseded else ""
    if "model_accuracy" not in evaluation:
        return "the rule orders groups ({} of the {} decided groups needed to learn{})".format(
            evaluation["groups"], MIN_GROUPS, replaced
        )
    what = {"model": "model", "rule": "rule"}.get(evaluation["used"]) or "learned order ({})".format(
        ", then ".join(ranker.learned_order())
    )
    return (
        "the {} orders groups (grouped cross-validated top-1: model {:.3f}, learned order {:.3f}, rule {:.3f},"
        " {} decided groups{})".format(
            what,
            evaluation["model_accuracy"],
            evaluation["order_accuracy"],
            evaluation["rule_accuracy"],
            evaluation["groups"],
            replaced,
        )
    )


def evaluate(store):
    """The model against the rule on the decisions in the database, and the learning curve
    (:func:`.model.evaluate`)."""
    from . import model

    positions = positions_of(store)
    return model.evaluate(_standing(store, positions), positions)


def import_decisions(store, stream):
    """Record each JSON line's decision, with snapshots of its members' rows as they are now; yield an
    outcome per line (and per path not in the database).

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
            sides = [list(dict.fromkeys(os.path.abspath(path) for path in entry[side])) for side in ("kept", "deleted")]
        except (ValueError, KeyError, TypeError):
            yield Outcome(where, FAILED, message='not a JSON object with "kept" and "deleted" lists of paths')
            continue
        both = set(sides[0]) & set(sides[1])
        if both:
            yield Outcome(where, FAILED, message="kept and deleted at once: {}".format(", ".join(sorted(both))))
            continue
        rows = store.images_by_path(sides[0] + sides[1])
        for path in sides[0] + sides[1]:
            if path not in rows:
                message = "not in the database (run shashin-hash and shashin-meta on it first)"
                yield Outcome(path, UNKNOWN_PATH, message=message)
        members = [(rows[path], kept) for kept, side in zip((True, False), sides) for path in side if path in rows]
        if not any(kept for _, kept in members) or all(kept for _, kept in members):
            yield Outcome(where, FAILED, message="needs a kept and a deleted file that are in the database")
            continue
        decided = frozenset((row["path"], kept) for row, kept in members)
        if decided in known:
            yield Outcome(where, ALREADY_IMPORTED)
            continue
        grouped = store.groups_of_paths(rows)
        groups = sorted(set(grouped.values()))
        # Files grouped apart, or a grouped file beside one in no group, are not copies of one photo (a history
        # from before any grouping, none of its files grouped yet, still teaches).
        if len(groups) > 1 or (groups and len(grouped) < len(rows)):
            apart = ", ".join(map(str, groups)) + (" and none" if len(grouped) < len(rows) else "")
            yield Outcome(where, FAILED, message="its files are in different groups ({}): not copies".format(apart))
            continue
        known.add(decided)
        group_id = groups[0] if groups else None
        store.record_decision(group_id, "keep", members, source="import")
        yield Outcome(where, IMPORTED)


def acceptance_preview(suggestions):
    """How much accepting suggestions would remove: ``{"groups", "files", "bytes"}``.

    ``suggestions`` as :meth:`Store.confident_suggestions` gives them; the keeper of
    every group stays, so no group loses its last copy.
    """
    removals = [member for suggestion in suggestions for member in suggestion["remove"]]
    return {
        "groups": len(suggestions),
        "files": len(removals),
        "bytes": sum(member["size"] or 0 for member in removals),
    }
