"""What the review page shows of a group.

Members in, keeper first; out: what each copy is relative to the suggested keeper (badges and
similarity in words), the facts a person compares (in plain words, differences marked), every
tag worded, and the group's warnings (these look at the files on disk), each with its evidence.
"""

import datetime
import itertools
import json
import os
import re

import numpy

from . import trash
from .captures import subsecond
from .exif import normalise_date
from .ranking import rule

_LIVE_PHOTO_EXTENSIONS = (".MOV", ".mov", ".MP4", ".mp4")
#: Capture times at most this many seconds apart can be shots of one burst or bracketed series.
BURST_SECONDS = 3.0
#: Relative difference of width and height ratios under which two pictures have the same shape.
_SAME_SHAPE = 0.02
#: Difference-hash distances (bits of 64) a person reads as words, nearest first.
_CLOSENESS = ((0, "looks identical"), (4, "very close"), (10, "close"))
_FAR = "alike, with visible differences"
#: similarity.orient's counter-clockwise quarter turns, said clockwise as people and EXIF say them.
_TURNS = {1: "rotated 270°", 2: "rotated 180°", 3: "rotated 90°"}
_DATE_TIME = re.compile(r"^\d{4}:\d\d:\d\d \d\d:\d\d:\d\d")
_DATE_ONLY = re.compile(r"^(\d{4}):(\d\d):(\d\d)$")
_ISO_MOMENT = re.compile(r"^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)(?:\.\d+)?(Z|[+-]\d\d:\d\d)?$")
_BINARY = re.compile(r"^\(Binary data \d+ bytes|^base64:")
#: Tags that only say how the file was read, not what it holds.
_UNSHOWN_TAGS = ("SourceFile", "ExifTool:ExifToolVersion", "ExifTool:Warning")
#: Where a capture date came from, for a person (exif.DATE_SOURCES' names).
_DATE_SOURCES = {
    "SubSecDateTimeOriginal": "the camera's capture time",
    "DateTimeOriginal": "the camera's capture time",
    "CreateDate": "the creation date in the file",
    "CreationDate": "the creation date in the file",
}
#: exiftool's own words for coded values (shashin-meta asks for numbers, ``-n``), by tag name.
_CODED = {
    "ColorSpace": {1: "sRGB", 2: "Adobe RGB", 65535: "uncalibrated"},
    "Orientation": {
        1: "horizontal (normal)",
        2: "mirror horizontal",
        3: "rotate 180",
        4: "mirror vertical",
        5: "mirror horizontal and rotate 270 CW",
        6: "rotate 90 CW",
        7: "mirror horizontal and rotate 90 CW",
        8: "rotate 270 CW",
    },
    "ExposureProgram": {
        0: "not defined",
        1: "manual",
        2: "program AE",
        3: "aperture-priority AE",
        4: "shutter speed priority AE",
        5: "creative (slow speed)",
        6: "action (high speed)",
        7: "portrait",
        8: "landscape",
    },
    "MeteringMode": {
        0: "unknown",
        1: "average",
        2: "center-weighted average",
        3: "spot",
        4: "multi-spot",
        5: "multi-segment",
        6: "partial",
        255: "other",
    },
    "ExposureMode": {0: "auto", 1: "manual", 2: "auto bracket"},
    "WhiteBalance": {0: "auto", 1: "manual"},
    "SceneCaptureType": {0: "standard", 1: "landscape", 2: "portrait", 3: "night"},
    "ResolutionUnit": {1: "none", 2: "inches", 3: "cm"},
    "YCbCrPositioning": {1: "centered", 2: "co-sited"},
    "Compression": {1: "uncompressed", 6: "JPEG (old-style)", 7: "JPEG", 8: "Adobe Deflate"},
    "CustomRendered": {0: "normal", 1: "custom"},
    "Contrast": {0: "normal", 1: "low", 2: "high"},
    "Saturation": {0: "normal", 1: "low", 2: "high"},
    "Sharpness": {0: "normal", 1: "soft", 2: "hard"},
    "GainControl": {0: "none", 1: "low gain up", 2: "high gain up", 3: "low gain down", 4: "high gain down"},
    "SensingMethod": {1: "not defined", 2: "one-chip color area", 3: "two-chip color area", 7: "trilinear"},
}
_UNITS = {
    "FNumber": "f/{:g}",
    "FocalLength": "{:g} mm",
    "FocalLengthIn35mmFormat": "{:g} mm",
    "ISO": "ISO {:g}",
    "ExposureCompensation": "{:+g} EV",
}
_EXPOSURE = ("exposure_time", "f_number", "iso", "exposure_compensation")


def camera(member):
    """Make and model as a person says it: "Canon EOS 80D", not "Canon Canon EOS 80D"."""
    make, model = (member.get("make") or "").strip(), (member.get("model") or "").strip()
    return model if make and model.lower().startswith(make.lower()) else " ".join(filter(None, (make, model)))


def moment_text(iso):
    """A date and time from an ISO 8601 text (as exif.normalise_date writes them), in the one form every
    fact uses: ``2021-07-16 14:03:22``, with ``UTC+02:00`` when the offset is known; ValueError otherwise.

    Read from the text, not through datetime: a card's tags hold hundreds of dates."""
    match = _ISO_MOMENT.match(iso)
    if not match:
        raise ValueError("not an ISO 8601 date and time: {!r}".format(iso))
    day, time, offset = match.groups()
    offset = "+00:00" if offset == "Z" else offset
    return "{} {} UTC{}".format(day, time, offset) if offset else "{} {}".format(day, time)


def file_time(mtime):
    """A file's modification time (seconds since the epoch) as local time, in :func:`moment_text`'s form."""
    return datetime.datetime.fromtimestamp(float(mtime)).strftime("%Y-%m-%d %H:%M:%S")


def taken(member):
    """The capture date for a person and where it came from, or why there is none (a file date is not a
    capture date)."""
    if not member.get("taken_at"):
        return "no capture date"
    try:
        when = moment_text(member["taken_at"])
    except ValueError:
        when = member["taken_at"]
    if rule.capture_timestamp(member) is None:
        return "no capture date (file date {})".format(when)
    source = member.get("taken_at_source")
    return "{}, {}".format(when, _DATE_SOURCES.get(source, "from " + str(source)))


def tag_value(tag, value):
    """A tag's value as a person reads it: coded values in exiftool's words, dates in the page's form,
    exposure as 1/250 s and f/2.8; None for binary data, which is never shown."""
    name = tag.split(":", 1)[-1]
    if isinstance(value, str):
        if _BINARY.match(value):
            return None
        if _DATE_TIME.match(value):
            iso = normalise_date(value)
            return moment_text(iso) if iso else value
        day = _DATE_ONLY.match(value)
        return "-".join(day.groups()) if day else value
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return json.dumps(value, ensure_ascii=False)
    if name in _CODED:
        return _CODED[name].get(int(value), str(value))
    if name == "Flash":
        return "fired" if int(value) & 1 else "did not fire"
    if name in ("ExposureTime", "ShutterSpeedValue") and 0 < value < 1:
        return "1/{:g} s".format(round(1 / value))
    if name in _UNITS:
        return _UNITS[name].format(value)
    return "{:g}".format(value) if isinstance(value, float) else str(value)


def all_tags(member):
    """``[(tag, value)]``: every tag of the member worded by :func:`tag_value`, binary data left out."""
    shown = []
    for tag, value in sorted(rule.metadata_of(member).items()):
        text = None if tag in _UNSHOWN_TAGS else tag_value(tag, value)
        if text is not None:
            shown.append((tag, text))
    return shown


def group_kind(members):
    """ "exact" when every member is byte-identical (one md5), else "similar"."""
    return "exact" if len({member.get("md5") for member in members}) == 1 else "similar"


def relations(members, fingerprints=None):
    """For each member keeper first, what it is relative to the keeper (``members[0]``):
    ``{"badges": [(text, why)], "similarity": words or None}``; the keeper's own badges say only
    what it is (edited).

    fingerprints (``{md5: hashes}``, store.fingerprints_of) let rotations and mirrors be told;
    without them every copy is compared upright.
    """
    if not members:
        return []
    keeper, fingerprints = members[0], fingerprints or {}
    described = []
    for index, member in enumerate(members):
        if index == 0:
            badges, similarity = [], None
        elif member.get("md5") == keeper.get("md5"):
            badges, similarity = [("byte-identical", "the same bytes as the suggested keeper")], "identical file"
        else:
            orientation = _orientation(keeper, member, fingerprints)
            badges = _relative_badges(keeper, member, orientation, fingerprints)
            similarity = _closeness(keeper, member, orientation, fingerprints)
        if rule.edited(member):
            software = rule.facts_of(member)["software"]
            badges.append(("edited", "written by editing software" + (": " + software if software else "")))
        described.append({"badges": badges, "similarity": similarity})
    return described


def _orientation(keeper, member, fingerprints):
    """How member is turned relative to keeper (similarity.orient's 0-7), 0 when unknown."""
    from .similarity import orientation_between  # scipy is loaded only when there are fingerprints to read

    prints = fingerprints.get(keeper.get("md5")), fingerprints.get(member.get("md5"))
    if prints[0] is None or prints[1] is None:
        return 0
    orientation = orientation_between(*prints)
    # A quarter turn swaps width and height: a copy whose shape says otherwise was not turned.
    if orientation % 2 and not _quarter_turn_possible(keeper, member):
        return 0
    return orientation


def _quarter_turn_possible(keeper, member):
    sides = keeper.get("width"), keeper.get("height"), member.get("width"), member.get("height")
    if not all(sides):
        return True
    keeper_wide, member_wide = sides[0] > sides[1], sides[2] > sides[3]
    return sides[0] == sides[1] or sides[2] == sides[3] or keeper_wide != member_wide


def _relative_badges(keeper, member, orientation, fingerprints):
    badges = []
    if orientation >= 4:
        badges.append(("mirrored", "left and right swapped relative to the suggested keeper"))
    if orientation % 4:
        badges.append((_TURNS[orientation % 4], "turned clockwise relative to the suggested keeper"))
    badges.extend(_size_badges(keeper, member, orientation, _cut_from(keeper, member, orientation, fingerprints)))
    if (keeper.get("format") or "") != (member.get("format") or ""):
        badges.append(("other format", "{} here, {} for the keeper".format(member.get("format"), keeper.get("format"))))
    return badges


def _size_badges(keeper, member, orientation, cut_from_keeper):
    width, height = keeper.get("width"), keeper.get("height")
    if orientation % 2:
        width, height = height, width
    if not (width and height and member.get("width") and member.get("height")):
        return []
    across, down = member["width"] / width, member["height"] / height
    if (across, down) == (1, 1):
        # Turning, mirroring or another format saves the picture again: nothing more to say.
        if orientation or (keeper.get("format") or "") != (member.get("format") or ""):
            return []
        return [("recompressed", "same dimensions and format, other bytes: saved again, or its tags changed")]
    keeper_size = "{} × {} for the keeper".format(width, height)
    same_shape = abs(across - down) <= _SAME_SHAPE * max(across, down)
    if same_shape and not (cut_from_keeper and max(across, down) < 1):
        return [("resized ×{:g}".format(round(across, 2)), keeper_size)]
    if max(across, down) <= 1:
        # Cut from the keeper's pixels, not scaled: the share of the picture cut away is known.
        return [("cropped {:.0%}".format(1 - across * down), keeper_size + "; this share of the picture cut away")]
    return [("cropped", keeper_size + ": another shape")]


def _cut_from(keeper, member, orientation, fingerprints):
    """Whether member's picture is nearer the middle of keeper's (the crop view) than all of it: a crop
    that kept the shape, not a resize."""
    from .similarity import CROP_COLUMN  # scipy is loaded only when there are fingerprints to read

    prints = fingerprints.get(keeper.get("md5")), fingerprints.get(member.get("md5"))
    if prints[0] is None or prints[1] is None or orientation:
        return False
    whole, middle = (_bits(prints[0][column], prints[1][0]) for column in (0, CROP_COLUMN))
    return middle < whole


def _bits(hash_a, hash_b):
    return int(numpy.bitwise_count(numpy.uint64(hash_a) ^ numpy.uint64(hash_b)))


def _closeness(keeper, member, orientation, fingerprints):
    prints = fingerprints.get(keeper.get("md5")), fingerprints.get(member.get("md5"))
    if prints[0] is not None and prints[1] is not None:
        bits = _bits(prints[0][orientation], prints[1][0])
    elif keeper.get("dhash") and member.get("dhash"):
        bits = _bits(int(keeper["dhash"], 16), int(member["dhash"], 16))
    else:
        return None
    return next((words for most, words in _CLOSENESS if bits <= most), _FAR)


def farthest(similarities):
    """Of the similarity words of a group's copies, those of the copy farthest from the keeper (or None)."""
    ladder = ["identical file", *(words for _, words in _CLOSENESS), _FAR]
    return max(similarities, key=ladder.index, default=None)


def warnings(members):
    """Reasons to look twice before removing anything from this group, each with its evidence."""
    found = []
    for member in members:
        problem = trash.not_as_scanned(member)
        if problem:
            found.append("{}: {}".format(os.path.basename(member["path"]), problem))
        for other in member.get("same_file", ()):
            found.append(
                "{} is the same file as {} (one file, two paths), not another copy".format(
                    os.path.basename(member["path"]), other
                )
            )
        # A video may be a Live Photo's movie, never a photo with one beside it (itself).
        is_video = member.get("duration") is not None
        stem = os.path.splitext(member["path"])[0]
        for extension in () if is_video else _LIVE_PHOTO_EXTENSIONS:
            if os.path.exists(stem + extension):
                found.append(
                    "{} has a Live Photo video beside it ({}); removing the photo leaves the video alone".format(
                        os.path.basename(member["path"]), os.path.basename(stem + extension)
                    )
                )
                break
    burst = _burst_evidence(members)
    if burst:
        found.append(burst)
    return found


def _burst_evidence(members):
    """A warning when two members are two shots of a burst or bracketed series, from what their cameras
    wrote (never from their names), or None."""
    shots = [_shot(member) for member in members if camera(member)]
    for first, second in itertools.combinations(shots, 2):
        if first["md5"] == second["md5"] or first["camera"] != second["camera"]:
            continue
        same_burst = first["burst_id"] is not None and first["burst_id"] == second["burst_id"]
        times = first["time"], second["time"]
        apart = abs(times[0] - times[1]) if None not in times else None
        if not same_burst and (apart is None or apart >= BURST_SECONDS):
            continue
        told_apart = [
            "{} {} and {}".format(words, first[field], second[field])
            for field, words in (
                ("subsecond", "sub-second times"),
                ("image_number", "image numbers"),
                ("exposure", "exposures"),
            )
            if None not in (first[field], second[field]) and first[field] != second[field]
        ]
        if told_apart:
            return "{} and {} look like two shots of a burst or series, not copies: same camera ({}), {}, {}".format(
                first["name"],
                second["name"],
                first["camera"],
                _when_apart(same_burst, apart),
                ", ".join(told_apart),
            )
    return None


def _when_apart(same_burst, apart):
    if same_burst:
        return "the same burst"
    return "taken {:.1f} s apart".format(apart) if apart else "taken in one second"


def _shot(member):
    """What tells one shot of a camera from another: capture time, sub-second time (a number: ".1" is ".10"),
    image number, burst id, exposure."""
    facts = rule.facts_of(member)
    fraction = subsecond(member)
    return {
        "name": os.path.basename(member["path"]),
        "md5": member.get("md5"),
        "camera": camera(member),
        "time": rule.capture_timestamp(member),
        "subsecond": float("0" + fraction) if fraction else None,
        "image_number": facts["image_number"],
        "burst_id": facts["burst_id"],
        "exposure": _exposure_text(facts),
    }


def _exposure_text(facts):
    """``1/250 s f/2.8 ISO 100 +0.7 EV``, or None when the camera wrote no exposure."""
    names = ("ExposureTime", "FNumber", "ISO", "ExposureCompensation")
    words = [tag_value(name, facts[field]) for name, field in zip(names, _EXPOSURE) if facts[field] is not None]
    return " ".join(words) or None
