"""The cold-start rule: which copy of a group to keep before there are decisions to learn from.

Plain Python, no scikit-learn: the review page orders groups by it while nothing is ranked.
A member is a row of the ``images`` table or a decision snapshot of one (see
:mod:`shashin.ranking.model`).
"""

import datetime


def capture_timestamp(member):
    """Seconds since the epoch of the capture date, or None (a file's mtime is not a capture date)."""
    taken_at = member.get("taken_at")
    if not taken_at or member.get("taken_at_source") in (None, "FileModifyDate"):
        return None
    try:
        moment = datetime.datetime.fromisoformat(taken_at)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.timestamp()


def pixels(member):
    return (member.get("width") or 0) * (member.get("height") or 0)


def cold_start_key(member):
    taken = capture_timestamp(member)
    return (
        -pixels(member),
        -(member.get("size") or 0),
        taken is None,
        taken or 0.0,
        len(member["path"]),
        member["path"],
    )


def cold_start_order(members):
    """Members keeper first by the rule used before there are decisions to learn from.

    Highest resolution, then largest file, then has a capture date, then oldest
    capture date, then shortest path (then the path itself, so the order is total).
    """
    return sorted(members, key=cold_start_key)


_RULE_REASONS = (
    ("higher resolution", "lower resolution"),
    ("larger file", "smaller file"),
    ("has capture date", "no capture date"),
    ("older capture date", "later capture date"),
    ("shorter path", "longer path"),
)


def rule_reason(member, other):
    """The criterion of the rule that puts member before (or after) other, as a list of one or none."""
    for (better, worse), mine, theirs in zip(_RULE_REASONS, cold_start_key(member), cold_start_key(other)):
        if mine != theirs:
            return [better if mine < theirs else worse]
    return []


def rule_positions(members):
    """Each member's place in the cold-start order, 0 for the keeper."""
    positions = [0] * len(members)
    for place, index in enumerate(sorted(range(len(members)), key=lambda i: cold_start_key(members[i]))):
        positions[index] = place
    return positions
