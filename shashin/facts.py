"""The few facts of a file's exiftool tags that ranking and the review page read, as ``images`` columns.

``shashin-meta`` stores them beside the tags' JSON (:data:`FIELDS`, see docs/schema.md), so ranking
100,000 groups reads a dozen columns instead of parsing a quarter of a million JSON objects.
:func:`of` is the one place they are derived: the columns at scan time, and the same from a row's
JSON when its columns are empty (rows scanned before the columns existed, old decision snapshots).
"""

import datetime
import math
import re

#: The columns, and the type of each.
FIELDS = {
    "tag_count": int,
    "software": str,
    "edited": int,
    "lens": str,
    "precise_time": int,
    "maker_notes": int,
    "gps_time": str,
    "exposure_time": float,
    "f_number": float,
    "iso": int,
    "exposure_compensation": float,
    "image_number": int,
    "burst_id": str,
}
#: What editing software writes into Software, CreatorTool or a history (camera firmware writes a version).
EDITORS = re.compile(
    r"photoshop|lightroom|gimp|snapseed|darktable|rawtherapee|affinity|pixelmator|capture one|"
    r"acdsee|picasa|luminar|vsco|instagram|canva|paint|photos|editor|adobe|topaz|gigapixel|upscal|"
    r"watermark|imagemagick|graphicsmagick",
    re.IGNORECASE,
)
_SOFTWARE_TAGS = ("EXIF:Software", "XMP:CreatorTool", "XMP:Software", "PNG:Software")
_PRECISE_TIME_TAGS = ("EXIF:SubSecTimeOriginal", "EXIF:OffsetTimeOriginal", "Composite:SubSecDateTimeOriginal")
_LENS_TAGS = ("EXIF:LensModel", "Composite:LensID", "XMP:LensModel", "XMP:Lens", "MakerNotes:LensModel")
_EXPOSURE_TAGS = {
    "exposure_time": ("EXIF:ExposureTime", "XMP:ExposureTime"),
    "f_number": ("EXIF:FNumber", "EXIF:ApertureValue", "XMP:FNumber"),
    "iso": ("EXIF:ISO", "MakerNotes:ISO", "XMP:ISO"),
    "exposure_compensation": ("EXIF:ExposureCompensation", "XMP:ExposureCompensation"),
}
_IMAGE_NUMBER_TAGS = ("EXIF:ImageNumber", "MakerNotes:ImageNumber", "MakerNotes:FileNumber")
_BURST_TAGS = ("MakerNotes:BurstUUID", "XMP:BurstID", "XMP:BurstUUID")
_GPS_TIME = re.compile(r"(\d{4}):(\d\d):(\d\d) (\d\d):(\d\d):(\d\d)")


def of(tags):
    """``{field: value}`` for every field of :data:`FIELDS`, from exiftool's tags (``-G -n`` keys)."""
    software = [str(tags[tag]).strip() for tag in _SOFTWARE_TAGS if str(tags.get(tag) or "").strip()]
    editors = [text for text in software if EDITORS.search(text)]
    facts = {
        "tag_count": len(tags),
        "software": (editors or software or [None])[0],
        "edited": int(bool(editors) or any(key.startswith("XMP:History") for key in tags)),
        "lens": _first(tags, _LENS_TAGS, _text),
        "precise_time": int(any(tag in tags for tag in _PRECISE_TIME_TAGS)),
        "maker_notes": int(any(key.startswith("MakerNotes:") for key in tags)),
        "gps_time": _gps_time(tags.get("Composite:GPSDateTime")),
        "image_number": _first(tags, _IMAGE_NUMBER_TAGS, _whole),
        "burst_id": _first(tags, _BURST_TAGS, _text),
    }
    for field, names in _EXPOSURE_TAGS.items():
        facts[field] = _first(tags, names, _number)
    facts["iso"] = None if facts["iso"] is None else round(facts["iso"])
    return facts


def _first(tags, names, convert):
    for name in names:
        value = convert(tags.get(name))
        if value is not None:
            return value
    return None


def _text(value):
    """A name-like tag value: text that is not a bare number (``-n`` gives lens codes as numbers)."""
    if isinstance(value, str) and value.strip() and _number(value) is None:
        return value.strip()
    return None


def _number(value):
    """A number from a tag value: ``-n`` gives numbers; some tags hold ``"100 100"`` or ``"1/250"``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        numerator, slash, denominator = value.strip().split(" ")[0].partition("/")
        try:
            value = float(numerator) / float(denominator) if slash else float(numerator)
        except (ValueError, ZeroDivisionError):
            return None
    if isinstance(value, (int, float)) and math.isfinite(value):
        return float(value)
    return None


def _whole(value):
    number = _number(value)
    return int(number) if number is not None and number == int(number) else None


def _gps_time(value):
    """exiftool's ``2021:07:16 10:00:00Z`` (or with fractions of seconds) as ISO 8601 UTC, or None."""
    match = _GPS_TIME.match(value) if isinstance(value, str) else None
    if not match:
        return None
    try:
        return datetime.datetime(*map(int, match.groups()), tzinfo=datetime.timezone.utc).isoformat()
    except ValueError:
        return None
