"""The cold-start rule: which copy of a group to keep before there are decisions to learn from.

Plain Python, no scikit-learn: the review page orders groups by it while nothing is ranked.
A member is a row of the ``images`` table or a decision snapshot of one (see
:mod:`shashin.ranking.model`). What the rule reads of its tags comes from the row's scan-time
columns (:mod:`shashin.facts`), or from its metadata JSON when they are empty.

The rule looks for the camera original: the copy that carries most of the camera's own
evidence (:func:`camera_evidence`), then not edited, then (a video) the longest clip, then most
pixels, then the earliest capture. Pixels alone would pick a PNG export of the same pixels, a brightened export or
an upscaled "enhanced" copy over the camera's file.
"""

import datetime
import json
import os
import re
from typing import NamedTuple

from .. import facts as tag_facts
from ..formats import RAW_EXTENSIONS, is_raw

#: Names cameras and phones give: IMG_1234, _MG_1234, DSC_1234, DSCF1234, DSC01234, P1010123, PXL_20210716_
#: 123456789, 20210716_123456 (Samsung), IMG_20210716_123456 (older Android), GOPR1234, DJI_0123.
_CAMERA_NAME = re.compile(
    r"(IMG_\d{4}|_MG_\d{4}|_?DSC[_NF]?\d{4,5}|P\d{7}|PXL_\d{8}_\d{6,9}(\.[A-Z_.]+)?|(IMG_)?\d{8}_\d{6}(_\d{3})?"
    r"|GOPR\d{4}|DJI_\d{4})",
    re.IGNORECASE,
)
#: What copies' names say of them, as a person says it ("not the edits"), each found anywhere in the name (a
#: camera's name is the whole name, as for the camera's evidence): cameras' names, editors' (Lightroom's -Edit
#: or -Bearbeitet and -2 of a camera name's second version, "edited", Apple Photos' IMG_E1234),
#: web sites' (WordPress's -scaled and -1024x768, photo-...), messengers' (WhatsApp's -WA0001, Signal's
#: signal-..., WhatsApp exports' PHOTO-2021-...), upscalers' (-Enhanced-SR, _upscaled, -gigapixel).
NAME_MARKS = {
    "camera": re.compile("^(?:{})$".format(_CAMERA_NAME.pattern), re.IGNORECASE),
    "edit": re.compile(
        r"(?<![a-z])edit(?:ed|s)?(?![a-z])|bearbeitet|^IMG_E\d|^(?:{})-\d{{1,2}}$".format(_CAMERA_NAME.pattern),
        re.IGNORECASE,
    ),
    "web": re.compile(r"scaled|\d{2,4}x\d{2,4}|^(?!(?-i:PHOTO-\d{4}-\d\d-\d\d))photo-", re.IGNORECASE),
    "messenger": re.compile(r"-WA\d{4}|^signal-|^(?-i:PHOTO-\d{4}-\d\d-\d\d)", re.IGNORECASE),
    "upscaler": re.compile(r"enhanced|upscaled|gigapixel", re.IGNORECASE),
}
#: Folders cameras and phones write to: DCIM, its 100APPLE / 100CANON / 101MSDCF, Camera, Camera Roll.
_CAMERA_FOLDER = re.compile(r"(?:^|/)(?:dcim|camera|camera roll|\d{3}[a-z_][a-z0-9_]{4})(?:/|$)", re.IGNORECASE)
#: A date and time in a name (PXL_20210716_123456789, 20210716_123456): the camera's clock at capture.
_NAME_TIME = re.compile(r"(?<!\d)(\d{4})(\d\d)(\d\d)_(\d\d)(\d\d)(\d\d)")
_CAMERA_FORMATS = frozenset({"JPEG", "HEIC", "RAW"})
#: A camera's GPS clock and its own clock agree within minutes; a time-zone fix moves one by an hour or more.
GPS_TOLERANCE = 600


def metadata_of(member):
    """The member's exiftool tags as a dict, whether stored as JSON text or already parsed."""
    metadata = member.get("metadata")
    if isinstance(metadata, str):
        try:
            return json.loads(metadata)
        except ValueError:
            return {}
    return metadata or {}


def facts_of(member):
    """The member's :mod:`shashin.facts`: its columns when shashin-meta wrote them, else derived from its JSON."""
    if member.get("tag_count") is not None:
        return {field: member.get(field) for field in tag_facts.FIELDS}
    return tag_facts.of(metadata_of(member))


def facts_in(member):
    """Where the member's facts are read: the member itself when it has the columns (no copy), else
    :func:`facts_of`. The rule reads every member of 100,000 groups, captures.evidence every member of a copy group."""
    return member if member.get("tag_count") is not None else facts_of(member)


def tag_count(member):
    return facts_of(member)["tag_count"]


def capture_timestamp(member):
    """Seconds since the epoch of the capture date, or None (a file's mtime is not a capture date)."""
    moment = _capture_moment(member)
    return None if moment is None else _timestamp(moment)


def _timestamp(moment):
    return (moment if moment.tzinfo else moment.replace(tzinfo=datetime.timezone.utc)).timestamp()


def _capture_moment(member):
    taken_at = member.get("taken_at")
    if not taken_at or member.get("taken_at_source") in (None, "FileModifyDate"):
        return None
    try:
        return datetime.datetime.fromisoformat(taken_at)
    except ValueError:
        return None


def pixels(member):
    return (member.get("width") or 0) * (member.get("height") or 0)


def _facts(member, metadata):
    return facts_in(member) if metadata is None else tag_facts.of(metadata)


def name_marks(stem):
    """The :data:`NAME_MARKS` a file name (without its extension) carries."""
    return [mark for mark, pattern in NAME_MARKS.items() if pattern.search(stem)]


def edited(member, metadata=None):
    """Whether editing software wrote this file: its Software or CreatorTool names an editor, or it has an
    XMP editing history. ``metadata``: its tags, when the caller parsed them already."""
    return bool(_facts(member, metadata)["edited"])


def camera_evidence(member, metadata=None):
    """``{evidence: bool}``: what in this copy says a camera wrote it, and that nothing changed it since."""
    return _evidence(member, _facts(member, metadata), _capture_moment(member))


def _evidence(member, facts, moment):
    folder, _, name = member["path"].rpartition("/")
    stem, extension = os.path.splitext(name)
    file_format = (member.get("format") or "").upper()
    return {
        "camera make and model": bool(member.get("make") and member.get("model")),
        "sub-second or offset capture time": bool(facts["precise_time"]),
        "maker notes": bool(facts["maker_notes"]),
        "camera format": file_format in _CAMERA_FORMATS
        or is_raw(file_format)
        or (file_format == "TIFF" and extension.lower() in RAW_EXTENSIONS),
        "camera-style name": bool(_CAMERA_NAME.fullmatch(stem)),
        "camera folder": bool(_CAMERA_FOLDER.search(folder)),
        "consistent capture date": not _date_contradicted(moment, facts, stem),
    }


def _date_contradicted(moment, facts, stem):
    """Whether the capture date disagrees with the time in the name or with the GPS clock: a shifted date."""
    if moment is None:
        return False
    named = _NAME_TIME.search(stem)
    if named:
        try:
            in_name = datetime.datetime(*map(int, named.groups()))
        except ValueError:
            in_name = None
        if in_name and abs((moment.replace(tzinfo=None) - in_name).total_seconds()) > 2:
            return True
    if facts["gps_time"] and moment.tzinfo is not None:
        return abs((moment - datetime.datetime.fromisoformat(facts["gps_time"])).total_seconds()) > GPS_TOLERANCE
    return False


def cold_start_key(member):
    return judged(member).key


class Judged(NamedTuple):
    """What the rule reads of a member, worked out once: its cold-start key, the camera's evidence, its capture
    timestamp (or None), and its facts (:func:`facts_of`)."""

    key: tuple
    evidence: dict
    taken: float | None
    facts: dict


def judged(member):
    facts, moment = facts_in(member), _capture_moment(member)
    evidence = _evidence(member, facts, moment)
    taken = None if moment is None else _timestamp(moment)
    key = (
        -sum(evidence.values()),
        bool(facts["edited"]),
        # A video's trimmed copy is shorter; photos have no duration.
        -(member.get("duration") or 0.0),
        -pixels(member),
        taken is None,
        taken or 0.0,
        -(member.get("size") or 0),
        len(member["path"]),
        member["path"],
    )
    return Judged(key, evidence, taken, facts)


def cold_start_order(members, positions=None):
    """Members keeper first by the rule used before there are decisions to learn from: ``positions``
    (a person's rules, :func:`.preferences.load`) when given, else the built-in rule.

    The built-in rule: most of the camera's evidence (:func:`camera_evidence`), then not edited,
    then (a video) the longest clip, then highest resolution, then has a capture date, then oldest capture
    date, then largest file, then shortest path (then the path itself, so the order is total).
    """
    if positions is None:
        return sorted(members, key=cold_start_key)
    return [member for _, member in sorted(zip(positions(members), members), key=lambda placed: placed[0])]


_RULE_REASONS = (
    None,  # the camera's evidence: worded by evidence_reason
    ("not edited", "edited"),
    ("longer clip", "shorter clip"),
    ("higher resolution", "lower resolution"),
    ("has capture date", "no capture date"),
    ("older capture date", "later capture date"),
    ("larger file", "smaller file"),
    ("shorter path", "longer path"),
)


def rule_reason(member, other):
    """The criterion of the rule that puts member before (or after) other, as a list of one or none."""
    return judged_reason(judged(member), judged(other))


def judged_reason(member, other):
    """:func:`rule_reason` of two members from what the rule read of them (:func:`judged`)."""
    for words, mine, theirs in zip(_RULE_REASONS, member.key, other.key):
        if mine != theirs:
            if words is None:
                return [_evidence_words(member.evidence, other.evidence, mine < theirs)]
            return [words[0] if mine < theirs else words[1]]
    return []


def evidence_reason(member, other, better):
    """'camera evidence: maker notes, camera folder' (what member has and other lacks), or, when member is
    the worse of the two, 'less camera evidence: no maker notes' (what it lacks)."""
    return _evidence_words(camera_evidence(member), camera_evidence(other), better)


def _evidence_words(mine, theirs, better):
    if better:
        return "camera evidence: " + ", ".join(name for name in mine if mine[name] and not theirs[name])
    return "less camera evidence: " + ", ".join("no " + name for name in mine if theirs[name] and not mine[name])


def rule_positions(members):
    """Each member's place in the cold-start order, 0 for the keeper."""
    return positions_of_keys([cold_start_key(member) for member in members])


def positions_of_keys(keys):
    """Each member's place when sorted by its key, 0 for the first."""
    positions = [0] * len(keys)
    for place, index in enumerate(sorted(range(len(keys)), key=keys.__getitem__)):
        positions[index] = place
    return positions
