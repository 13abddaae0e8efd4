"""What the review page shows of a group.

Members in, a description of each member and the group's warnings out (the warnings look at
the files on disk).
"""

import json
import os
import re

from . import trash
from .ranking import rule

#: Tags that differ between copies without saying anything about the photo.
_IGNORED_TAG_PREFIXES = ("File:", "ExifTool:", "System:", "SourceFile", "Composite:")
_LIVE_PHOTO_EXTENSIONS = (".MOV", ".mov", ".MP4", ".mp4")
#: Sequence numbers in names: runs of three digits or more (IMG_1234, DSC01234, 20190101_120000_003).
_NUMBERS = re.compile(r"\d{3,}")
MAX_TAGS = 8


def keeper_first(members):
    """Members in the order to show them, suggested keeper first.

    shashin-rank's order when it ranked every member, else the cold-start rule.
    """
    if members and all(member.get("rank") is not None for member in members):
        return sorted(members, key=lambda member: (member["rank"], member["path"]))
    return rule.cold_start_order(members)


def differing_tags(members):
    """``[{tag: value}]`` per member: the metadata tags whose values are not the same in all members."""
    parsed = [rule.metadata_of(member) for member in members]
    tags = set().union(*parsed) if parsed else set()
    differing = sorted(
        tag
        for tag in tags
        if not tag.startswith(_IGNORED_TAG_PREFIXES) and len({json.dumps(m.get(tag)) for m in parsed}) > 1
    )[:MAX_TAGS]
    return [{tag: metadata.get(tag) for tag in differing} for metadata in parsed]


def camera(member):
    """Make and model as a person says it: "Canon EOS 80D", not "Canon Canon EOS 80D"."""
    make, model = (member.get("make") or "").strip(), (member.get("model") or "").strip()
    return model if make and model.lower().startswith(make.lower()) else " ".join(filter(None, (make, model)))


def taken(member):
    """The capture date for a person, or why there is none (a file date is not a capture date)."""
    if not member.get("taken_at"):
        return "no capture date"
    when = member["taken_at"].replace("T", " ")
    if rule.capture_timestamp(member) is None:
        return "no capture date (file date {})".format(when[:16])
    return when


def warnings(members):
    """Reasons to look twice before removing anything from this group."""
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
        stem = os.path.splitext(member["path"])[0]
        for extension in _LIVE_PHOTO_EXTENSIONS:
            if os.path.exists(stem + extension):
                found.append(
                    "{} has a Live Photo video beside it ({}); removing the photo leaves the video alone".format(
                        os.path.basename(member["path"]), os.path.basename(stem + extension)
                    )
                )
                break
    numbers = {tuple(_NUMBERS.findall(os.path.basename(member["path"]))) for member in members}
    numbers.discard(())
    if len(numbers) > 1:
        found.append("the names carry different sequence numbers: likely a burst of shots, not copies")
    return found
