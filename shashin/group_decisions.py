"""The decisions the review page records besides single removals: "not duplicates", accepted suggestions."""

import itertools

from . import trash
from .store.decisions import SUGGESTION


def record_not_duplicates(store, group_id):
    """Record that a group's members are different photos; grouping will keep them apart.

    Returns ``(members, decision id)``; the id is None when fewer than two members are in place.
    """
    with store.write_lock():
        members = store.review_members([group_id])[group_id]
        if len(members) < 2:
            return len(members), None
        store.add_not_duplicates([member["md5"] for member in members])
        rows = store.images_by_path([member["path"] for member in members])
        decision = store.record_decision(group_id, "not_duplicates", [(rows.get(m["path"], m), True) for m in members])
    return len(members), decision


def undo_not_duplicates(store, decision_id):
    """Undo a "not duplicates": the decision is marked undone, and the pairs it held apart that nothing else holds
    apart (another standing decision, the command line) are grouped again. Returns the group's id, or
    None when that decision does not stand."""
    with store.write_lock():
        found = store.not_duplicates_decision(decision_id)
        if found is None:
            return None
        group_id, md5s = found
        pairs = set(itertools.combinations(sorted(set(md5s)), 2))
        store.forget_not_duplicates(pairs - store.not_duplicates_pairs_elsewhere(decision_id, md5s))
        store.undo_decision(decision_id)
    return group_id


def accept_suggestions(store, suggestions):
    """Keep every suggested keeper and move the rest of its group to the trash, all in one batch.

    ``suggestions`` as :meth:`Store.confident_suggestions` gives them. Each group goes
    through :func:`trash.remove` on its own: a group it refuses (its other copies changed
    or gone) is a failed outcome and the others go on. Decisions are recorded with source
    ``suggestion``, which ranking does not learn from. Returns
    ``(batch, groups accepted, [Result])``; :func:`trash.restore_batch` undoes them all.
    """
    batch, accepted, outcomes = trash.new_batch(), 0, []
    for suggestion in suggestions:
        paths = [member["path"] for member in suggestion["remove"]]
        try:
            _, removed = trash.remove(store, suggestion["group"], paths, SUGGESTION, batch)
        except trash.Refused as refused:
            message = "group {}: {}".format(suggestion["group"], refused)
            outcomes.append(trash.Result(suggestion["keep"], False, message))
            continue
        accepted += any(outcome.ok for outcome in removed)
        outcomes += removed
    return batch, accepted, outcomes
