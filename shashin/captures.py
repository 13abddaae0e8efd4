"""Which members of a look-alike group are one capture: copies, byte-identical files, or other shots.

Verification on thumbnails says two pictures look the same; it cannot tell a copy from the camera's
next shot. An exposure bracket (-1/0/+1 EV a second apart), a burst or two near-identical shots pass
every visual check, yet removing all but one of them loses pictures. Two files that both name their
camera (EXIF make and model) are *different captures* when the cameras differ, or when the same camera's
evidence differs: exposure (time, aperture, ISO, compensation), the sub-second of the capture time, the
image number or the burst id.

The evidence is what survives what happens to copies. Exporters (Lightroom, Photos, Snapseed, exiftool's
``-tagsFromFile``) keep the EXIF exposure fields and sub-seconds, and write their own edits elsewhere
(Software, XMP develop settings), so a brightened export is still a copy. A date shift (a clock or
time-zone fix, ``exiftool -AllDates+=``) moves the dates but neither the exposure nor the sub-seconds,
so the capture time itself is never evidence. Exporters often drop the maker notes (image numbers,
Apple's burst id): a fact one file lacks tells nothing either way. A copy whose evidence is gone
(stripped by a messenger, a web upload) could be a copy of any of the shots; it joins none of them.

:func:`split` turns a look-alike group holding several captures into copy groups of one capture each,
and a ``series`` group of the captures left alone (similar shots, of which a person picks the best).
"""

from __future__ import annotations

import itertools
import math
import operator
import re
from dataclasses import dataclass

from .ranking import rule
from .similarity import pair_key

#: The kind of group whose members are different captures of one scene.
SERIES = "series"
#: Relative difference under which two exposure times, f-numbers or ISOs are one setting (rationals
#: rounded, an f-number read from ApertureValue); the smallest step a camera makes, 1/3 stop, is 26%.
_SAME_SETTING = 0.03
#: EV under which two exposure compensations are one setting (cameras step by 1/3 EV).
_SAME_COMPENSATION = 0.05
_FRACTION = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)")


@dataclass(frozen=True)
class Evidence:
    """What tells one capture of a camera from another; None where the file does not say."""

    camera: tuple[str, str]
    exposure_time: float | None = None
    f_number: float | None = None
    iso: int | None = None
    exposure_compensation: float | None = None
    #: The digits of the capture time's fraction of a second (``"050"``).
    subsecond: str | None = None
    image_number: int | None = None
    burst_id: str | None = None


def subsecond(member):
    """The fraction of a second of the capture time (``".45"``), or None when the camera wrote none."""
    fraction = _FRACTION.match(member.get("taken_at") or "")
    return fraction.group(1) if fraction else None


def evidence(row):
    """The :class:`Evidence` of an ``images`` row (its facts columns, or its metadata JSON when they are
    empty), or None when it names no camera (make and model)."""
    make, model = (row.get("make") or "").strip().lower(), (row.get("model") or "").strip().lower()
    if not (make and model):
        return None
    facts = rule.facts_in(row)
    fraction = subsecond(row)
    return Evidence(
        (make, model),
        facts["exposure_time"],
        facts["f_number"],
        facts["iso"],
        facts["exposure_compensation"],
        fraction[1:] if fraction else None,
        facts["image_number"],
        facts["burst_id"],
    )


def differences(first, second):
    """What says ``first`` and ``second`` (:class:`Evidence`) are different captures, as words; empty when
    nothing does (no fact both files carry differs)."""
    if first.camera != second.camera:
        return ["camera"]  # a copy keeps its camera's make and model, or loses them
    found = []
    for field, words, same in _FACTS:
        values = getattr(first, field), getattr(second, field)
        if None not in values and not same(*values):
            found.append(words)
    return found


def _same_setting(first, second):
    return math.isclose(first, second, rel_tol=_SAME_SETTING)


def _same_compensation(first, second):
    return abs(first - second) <= _SAME_COMPENSATION


def _same_digits(first, second):
    # Compared on the digits both have: an exporter may keep fewer (".12" of ".123").
    digits = min(len(first), len(second))
    return first[:digits] == second[:digits]


#: The facts compared, how a person names them, and when two values are one.
_FACTS = (
    ("exposure_time", "exposure time", _same_setting),
    ("f_number", "aperture", _same_setting),
    ("iso", "ISO", _same_setting),
    ("exposure_compensation", "exposure compensation", _same_compensation),
    ("subsecond", "sub-second time", _same_digits),
    ("image_number", "image number", operator.eq),
    ("burst_id", "burst id", operator.eq),
)


def split(groups, evidence_of, regroup, group_of, ignored=frozenset()):
    """The groups again, every look-alike group holding one capture, sorted by first path.

    ``evidence_of`` maps an md5 to its :class:`Evidence` or None (contents without are copies of anything).
    A ``similar`` group whose members are different captures is grouped again by ``regroup(files,
    apart)`` (``files`` its ``(path, md5)``, ``apart`` the ``(md5_a, md5_b)`` pairs, md5_a < md5_b,
    never to be put together: the different captures, and the pairs of ``ignored``), which gives its copy
    groups; the members no copy group took, when two or more are left, become one group of
    ``group_of(members, SERIES)``. A member that could be a copy of either of two different captures (its
    evidence says neither) joins no copy group: it goes with the series. A file stays in one group: a shot
    with copies is in its copy group, and joins the series at the next grouping once its copies are gone.
    """
    result = []
    for group in groups:
        md5s = sorted({md5 for _, md5, _ in group.members})
        apart = set(_different_pairs(md5s, evidence_of)) if group.kind == "similar" else set()
        if not apart:
            result.append(group)
            continue
        unsure = _unsure(md5s, apart)
        apart |= {pair for pair in itertools.combinations(md5s, 2) if pair in ignored}
        sure = [md5 for md5 in md5s if md5 not in unsure]
        # Only contents that may be copies of another need grouping again (a burst's frames never do): the
        # others are alone, or an exact group of their paths.
        linked = {md5 for pair in itertools.combinations(sure, 2) if pair not in apart for md5 in pair}
        copies = regroup([(path, md5) for path, md5, _ in group.members if md5 in linked], apart) if linked else []
        for md5 in sure:
            paths = [member for member in group.members if member[1] == md5]
            if md5 not in linked and len(paths) > 1:
                copies.append(group_of(paths, "exact"))
        taken = {path for copy in copies for path, _, _ in copy.members}
        result += copies
        alone = [member for member in group.members if member[0] not in taken]
        if len(alone) > 1:
            result.append(group_of(alone, SERIES))
    result.sort(key=lambda group: group.members[0][0])
    return result


def _unsure(md5s, apart):
    """The contents that could be a copy of either of two different captures: nothing in their evidence
    (often none: an exporter stripped it) says which. Put with one by looks, an exposure-blind comparison
    would as often choose the wrong shot; they go with the shots instead."""
    return {
        md5
        for md5 in md5s
        if any(
            md5 not in pair and pair_key(md5, pair[0]) not in apart and pair_key(md5, pair[1]) not in apart
            for pair in apart
        )
    }


def _different_pairs(md5s, evidence_of):
    for pair in itertools.combinations(md5s, 2):
        known = [evidence_of.get(md5) for md5 in pair]
        if None not in known and differences(*known):
            yield pair
