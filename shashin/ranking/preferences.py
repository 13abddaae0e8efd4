"""Keeper rules a person sets: an ordered list of criteria deciding which copy of a group to keep.

Like dupeGuru's re-prioritize dialog: the first criterion that tells two copies apart decides,
ties fall to the next, and finally the built-in rule (:func:`.rule.cold_start_key`) decides.
Written for the command line as ``folder:DCIM, largest-file, not-edited`` (see :data:`CRITERIA`);
stored in the database as ``(criterion, argument)`` pairs (:meth:`Store.keeper_rules`).

:func:`load` gives the person's rules as a ``positions(members)`` callable, what the learner
starts from in place of :func:`.rule.rule_positions`. Plain Python, no scikit-learn: the
review page imports it.
"""

from __future__ import annotations

import fnmatch
import os
import unicodedata
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

from ..formats import CODERS, FORMAT_NAMES, is_raw
from . import MIN_GROUPS, rule

if TYPE_CHECKING:
    from ..store import Store

#: What clears the rules on the command line (as does an empty text).
DEFAULT = "default"
#: Groups the preview of new rules compares at most: past that, a sample spread over all groups, so that
#: the review page answers as the person edits.
PREVIEW_GROUPS = 2000
#: Format names a person may type for ImageMagick's.
_FORMAT_ALIASES = {"JPG": "JPEG", "TIF": "TIFF", "HEIF": "HEIC"}


class RuleError(ValueError):
    """Keeper rules that cannot be understood; the message says which criterion and why, in one line."""


class Criterion(NamedTuple):
    """One kind of criterion: what its argument is (None: it takes none), how a person reads it, and
    ``key(member, argument)``, smaller for the copy to keep."""

    argument: str | None
    label: str
    key: Callable[[dict, object], object]
    #: Words for the member that wins, and for the one that loses, by this criterion.
    words: tuple[str, str]


def _folder_matches(member, text):
    return _comparable(text) in _comparable(os.path.dirname(member["path"]))


def _name_matches(member, pattern):
    return fnmatch.fnmatchcase(_comparable(os.path.basename(member["path"])), _comparable(pattern))


def _comparable(text):
    # One form of each accented letter: macOS writes names decomposed (NFD), a person types them composed.
    return unicodedata.normalize("NFC", text).lower()


def _format(member):
    return (member.get("format") or "").upper()


def _format_name(typed):
    """The format a person typed, as records name it (JPG is JPEG)."""
    return _FORMAT_ALIASES.get(typed.upper(), typed.upper())


def _format_matches(member, file_format):
    own = _format(member)
    return own == file_format or (file_format == "RAW" and is_raw(own))


def _long_edge(member):
    return max(member.get("width") or 0, member.get("height") or 0)


def _camera_exif(member, _):
    return bool(member.get("make") and member.get("model"))


def _capture(member, later):
    taken = rule.capture_timestamp(member)
    return (taken is None, (-taken if later else taken) if taken is not None else 0.0)


#: The criteria a person may list, by the name typed. Each yes/no criterion has a ``not-`` twin
#: (:data:`CRITERIA` holds both) that prefers the copies it does not match.
_YES_NO = {
    "folder": Criterion(
        "TEXT",
        "in a folder whose path contains TEXT",
        _folder_matches,
        ("in a folder with {}", "not in a folder with {}"),
    ),
    "name": Criterion(
        "PATTERN", "a file name matching PATTERN (* and ?)", _name_matches, ("named like {}", "not named like {}")
    ),
    "format": Criterion("FORMAT", "in format FORMAT (JPEG, HEIC, PNG, RAW...)", _format_matches, ("{}", "not {}")),
    "long-edge": Criterion(
        "PIXELS",
        "a long edge of at least PIXELS",
        lambda m, n: _long_edge(m) >= n,
        ("long edge at least {} px", "long edge under {} px"),
    ),
    "camera-exif": Criterion(
        None, "the camera's make and model recorded", _camera_exif, ("has camera EXIF", "no camera EXIF")
    ),
    "edited": Criterion(
        None, "edited (an editor's name in its tags)", lambda m, _: rule.edited(m), ("edited", "not edited")
    ),
}
_ORDERED = {
    "largest-file": Criterion(
        None, "the largest file", lambda m, _: -(m.get("size") or 0), ("larger file", "smaller file")
    ),
    "smallest-file": Criterion(
        None, "the smallest file", lambda m, _: m.get("size") or 0, ("smaller file", "larger file")
    ),
    "most-pixels": Criterion(None, "the most pixels", lambda m, _: -rule.pixels(m), ("more pixels", "fewer pixels")),
    "fewest-pixels": Criterion(None, "the fewest pixels", lambda m, _: rule.pixels(m), ("fewer pixels", "more pixels")),
    "earliest-capture": Criterion(
        None, "the earliest capture date", lambda m, _: _capture(m, False), ("earlier capture", "later capture or none")
    ),
    "latest-capture": Criterion(
        None, "the latest capture date", lambda m, _: _capture(m, True), ("later capture", "earlier capture or none")
    ),
    "most-tags": Criterion(
        None, "the most metadata tags", lambda m, _: -rule.tag_count(m), ("more metadata", "less metadata")
    ),
}


def _negated(criterion):
    return Criterion(
        criterion.argument,
        "not " + criterion.label,
        lambda member, argument: not criterion.key(member, argument),
        criterion.words[::-1],
    )


CRITERIA: dict[str, Criterion] = {
    **{
        name: criterion
        for yes_no in _YES_NO.items()
        for name, criterion in (yes_no, ("not-" + yes_no[0], _negated(yes_no[1])))
    },
    **_ORDERED,
}


class Rule(NamedTuple):
    """One criterion of a person's list with its argument (None when it takes none)."""

    criterion: str
    argument: str | None = None

    def __str__(self):
        return self.criterion if self.argument is None else "{}:{}".format(self.criterion, self.argument)


class Rules:
    """A person's criteria in order, then the built-in rule. Called with a group's members, gives each
    member's place (0: the one to keep), like :func:`.rule.rule_positions`."""

    def __init__(self, rules):
        self.rules = tuple(rules)
        self._keys = [(CRITERIA[r.criterion], _value(r)) for r in self.rules]

    def __str__(self):
        return ", ".join(map(str, self.rules))

    def __eq__(self, other):
        return isinstance(other, Rules) and self.rules == other.rules

    def __hash__(self):
        return hash(self.rules)

    def key(self, member):
        """The sort key of a member: each criterion's key, then the built-in rule's."""
        return self._own_key(member) + rule.cold_start_key(member)

    def __call__(self, members):
        return self.places(members)[0]

    def places(self, members):
        """``(positions, tiers)``: each member's place by the rules, then the built-in rule (0: the one to keep),
        and by the person's own criteria alone (:meth:`tiers`), each criterion read once."""
        own = [self._own_key(member) for member in members]
        keys = [mine + rule.cold_start_key(member) for mine, member in zip(own, members)]
        positions = [0] * len(members)
        for place, index in enumerate(sorted(range(len(members)), key=keys.__getitem__)):
            positions[index] = place
        return positions, _tiers(own)

    def tiers(self, members):
        """Each member's place by the person's own criteria alone (0: among the first; copies they tie share a
        place): the learner orders copies within a place, never across (the built-in rule only breaks ties)."""
        return _tiers([self._own_key(member) for member in members])

    def agrees(self, members, kept):
        """Whether a decision (``kept``: a flag per member) kept a copy these rules put first, by the person's
        own criteria."""
        return any(flag and tier == 0 for tier, flag in zip(self.tiers(members), kept))

    def _own_key(self, member):
        return tuple(_sort_key(criterion, member, value) for criterion, value in self._keys)

    def order(self, members):
        """Members keeper first."""
        return sorted(members, key=self.key)

    def reason(self, member, other):
        """The criterion that puts member before (or after) other, in words, as a list of one (or none)."""
        for criterion, value in self._keys:
            mine, theirs = _sort_key(criterion, member, value), _sort_key(criterion, other, value)
            if mine != theirs:
                return [criterion.words[0 if mine < theirs else 1].format(value)]
        return rule.rule_reason(member, other)


def _tiers(own_keys):
    places = {key: place for place, key in enumerate(sorted(set(own_keys)))}
    return [places[key] for key in own_keys]


def _sort_key(criterion, member, value):
    key = criterion.key(member, value)
    # A yes/no criterion puts the copies it matches first: False sorts before True.
    return (not key) if isinstance(key, bool) else key


def _value(stated):
    """The argument of a rule as its criterion compares it."""
    if stated.criterion.endswith("long-edge"):
        return int(stated.argument)
    if stated.criterion.endswith("format"):
        return _format_name(stated.argument)
    return stated.argument


def from_pairs(pairs):
    """:class:`Rules` from ``(criterion, argument)`` pairs (argument None or text; a blank criterion is
    left out), or None when there is none; a :class:`RuleError` saying what is wrong otherwise."""
    rules = []
    for criterion, argument in pairs:
        criterion = (criterion or "").strip().lower()
        argument = argument.strip() if isinstance(argument, str) and argument.strip() else None
        if not criterion:
            continue
        rules.append(_checked(criterion, argument))
    return Rules(rules) if rules else None


def _checked(criterion, argument):
    known = CRITERIA.get(criterion)
    if known is None:
        raise RuleError("unknown keeper rule {!r}; the rules are: {}".format(criterion, ", ".join(usage())))
    if known.argument is None:
        if argument is not None:
            raise RuleError("{} takes no argument (got {!r})".format(criterion, argument))
        return Rule(criterion)
    if argument is None:
        raise RuleError("{} needs {}: {}:{}".format(criterion, known.argument, criterion, _EXAMPLES[known.argument]))
    if "," in argument:
        raise RuleError(
            "{}: a comma separates rules, so it cannot be in {} ({!r})".format(criterion, known.argument, argument)
        )
    if known.argument == "PIXELS" and not (argument.isascii() and argument.isdigit() and 0 < int(argument) < 10**6):
        raise RuleError(
            "{} needs a whole number of pixels, like {}:1200 (got {!r})".format(criterion, criterion, argument)
        )
    if known.argument == "FORMAT" and _format_name(argument) not in FORMAT_NAMES:
        raise RuleError(
            "{}: unknown format {!r}; formats: {}, or RAW for any camera RAW".format(
                criterion, argument, ", ".join(sorted(CODERS))
            )
        )
    return Rule(criterion, argument)


_EXAMPLES = {"TEXT": "DCIM", "PATTERN": "IMG_*", "FORMAT": "HEIC", "PIXELS": "1200"}


def parse(text):
    """:class:`Rules` from the command line's ``folder:DCIM, largest-file, not-edited``, or None for an
    empty text or ``default`` (the built-in rule); a :class:`RuleError` saying what is wrong otherwise."""
    text = (text or "").strip()
    if text.lower() == DEFAULT:
        return None
    pairs = []
    for item in text.split(","):
        criterion, colon, argument = item.strip().partition(":")
        if colon and not criterion.strip():
            raise RuleError("a keeper rule is missing before {!r}".format(item.strip()))
        pairs.append((criterion, argument if colon else None))
    rules = from_pairs(pairs)
    if rules is None and text:
        raise RuleError("no keeper rule in {!r} (--prefer default clears them)".format(text))
    return rules


def usage(negated=True):
    """Each criterion as typed: ``folder:TEXT``, ``largest-file``... (without the ``not-`` twins if not negated)."""
    return [
        name if c.argument is None else "{}:{}".format(name, c.argument)
        for name, c in CRITERIA.items()
        if negated or not name.startswith("not-")
    ]


def load(store: Store) -> Rules | None:
    """The person's stored rules (a ``positions`` callable, see :class:`Rules`), or None when they set none."""
    return from_pairs(store.keeper_rules())


def save(store: Store, rules: Rules | None):
    """Store a person's rules (None: back to the built-in rule).

    The ranks made under other rules go, a model's too: the review page orders the groups by the new
    rules, and offers no bulk accept, until shashin-rank ranks them again.
    """
    if load(store) != rules:
        store.save_keeper_rules([tuple(r) for r in rules.rules] if rules else [])


def preview(store: Store, rules: Rules | None):
    """How many suggested keepers of undecided groups these rules change, against what the review page
    suggests now (shashin-rank's keeper, else the saved rules'): ``{"groups", "compared", "changed",
    "estimated", "at_least"}``; past :data:`PREVIEW_GROUPS` groups, "compared" is a sample and "estimated"
    the count scaled to all groups. A model's keeper that the rules' own criteria put first, or tie with the
    first, stays: the model orders copies only where the rules tie them (:meth:`Rules.tiers`), if enough of
    the decisions made so far agree with the rules for it to learn from them. Where saved rules chose
    between those copies, the model may choose another once they go: "at_least" then."""
    groups, sample = store.keeper_sample(PREVIEW_GROUPS)
    saved, by_model = load(store), store.ranked_by_model()
    if by_model and rules is not None:
        by_model = sum(rules.agrees(members, kept) for members, kept in store.keep_decisions()) >= MIN_GROUPS

    def changes(members):
        keeper = keeper_first(members, saved)[0]
        if by_model and rules is not None:
            return not rules.agrees(members, [member is keeper for member in members])
        return keeper["path"] != rule.cold_start_order(members, rules)[0]["path"]

    changed = sum(map(changes, sample.values()))
    return {
        "groups": groups,
        "compared": len(sample),
        "changed": changed,
        "estimated": round(changed * groups / len(sample)) if sample else 0,
        "at_least": by_model and rules is not None and saved is not None,
    }


def keeper_first(members, rules: Rules | None = None):
    """Members in the order to show them, suggested keeper first: shashin-rank's order when it ranked
    every member, else the person's rules (the built-in rule when they set none)."""
    if members and all(member.get("rank") is not None for member in members):
        return sorted(members, key=lambda member: (member["rank"], member["path"]))
    return rule.cold_start_order(members, rules)
