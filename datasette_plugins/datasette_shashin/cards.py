"""A group as the review page shows it: its members keeper first, each described for a person."""

import json

from shashin import review, trash
from shashin.captures import SERIES
from shashin.ranking import preferences, rule

from .rendering import file_fields, member_key

#: Tag groups whose values differ between any two files (names, folders, dates of the file itself).
_FILE_GROUPS = ("File:", "System:", "ExifTool:", "Composite:")


def group_view(group, members, saving, fingerprints=None, rules=None):
    """The view-model of one group; fingerprints (``{md5: hashes}``, store.fingerprints_of) let
    rotated and mirrored copies be badged; rules (:func:`preferences.load`) order members shashin-rank
    has not ranked."""
    members = preferences.keeper_first(members, rules)
    relations = review.relations(members, fingerprints)
    facts = _facts(members)
    tags = [review.all_tags(member) for member in members]
    differing = _differing_tags(tags)
    similarities = [relation["similarity"] for relation in relations[1:] if relation["similarity"]]
    return {
        "id": group["id"],
        "kind": SERIES if group.get("kind") == SERIES else review.group_kind(members),
        "saving": trash.human_size(saving),
        "max_distance": group.get("max_distance"),
        "similarity": review.farthest(similarities),
        "warnings": review.warnings(members),
        "members": [
            dict(
                member,
                **file_fields(member["path"], member["size"]),
                keeper=index == 0,
                key=member_key(member["path"]),
                video=member.get("duration") is not None,
                reasons=json.loads(member.get("reasons") or "[]"),
                camera=review.camera(member),
                taken=review.taken(member),
                badges=relations[index]["badges"],
                similarity=relations[index]["similarity"],
                facts=[(label, texts[index], len(set(texts)) > 1) for label, texts in facts],
                all_tags=[(tag, value, tag in differing) for tag, value in tags[index]],
                differing_tags=sum(tag in differing for tag, _ in tags[index]),
            )
            for index, member in enumerate(members)
        ],
    }


def _facts(members):
    """``[(label, [text per member])]``: what a person compares between copies, rows no member has left out."""
    capture = [rule.facts_of(member) for member in members]
    rows = [
        ("Dimensions", [_dimensions(member) for member in members]),
        ("File size", _sizes(members)),
        ("Format", [member.get("format") or "" for member in members]),
        ("Taken", [review.taken(member) for member in members]),
        ("Camera", [review.camera(member) for member in members]),
        ("Lens", [facts["lens"] or "" for facts in capture]),
        ("Software", [facts["software"] or "" for facts in capture]),
        ("Modified", [review.file_time(member["mtime"]) if member.get("mtime") else "" for member in members]),
        *_video_facts(members),
    ]
    return [(label, [text or "—" for text in texts]) for label, texts in rows if any(texts)]


def _video_facts(members):
    """The rows a video's card adds: how long, how smooth, how encoded (none for photos)."""
    if not any(member.get("duration") is not None for member in members):
        return []
    return [
        ("Duration", [_duration(member.get("duration")) for member in members]),
        (
            "Frame rate",
            ["{:g} fps".format(member["frame_rate"]) if member.get("frame_rate") else "" for member in members],
        ),
        ("Codec", [member.get("video_codec") or "" for member in members]),
        (
            "Bit rate",
            ["{:,.0f} kbit/s".format(member["bitrate"] / 1000) if member.get("bitrate") else "" for member in members],
        ),
        ("Rotation flag", ["{}°".format(member["rotation"]) if member.get("rotation") else "" for member in members]),
    ]


def _duration(seconds):
    if seconds is None:
        return ""
    minutes, seconds = divmod(seconds, 60)
    return "{:.0f}:{:04.1f}".format(minutes, seconds)


def _dimensions(member):
    width, height = member.get("width"), member.get("height")
    if not (width and height):
        return ""
    return "{} × {} ({:.1f} MP)".format(width, height, width * height / 1e6)


def _sizes(members):
    """Each size as a person reads it, with the exact bytes where two different sizes read the same."""
    texts = [trash.human_size(member.get("size") or 0) for member in members]
    sizes_read_as = {}
    for text, member in zip(texts, members):
        sizes_read_as.setdefault(text, set()).add(member.get("size"))
    return [
        text if len(sizes_read_as[text]) == 1 else "{} ({:,} bytes)".format(text, member.get("size") or 0)
        for text, member in zip(texts, members)
    ]


def _differing_tags(tags):
    """Tags about the photo (not the file) whose values are not the same in every member."""
    values = [dict(member_tags) for member_tags in tags]
    names = set().union(*values) if values else set()
    return {
        name
        for name in names
        if not name.startswith(_FILE_GROUPS) and len({member_tags.get(name) for member_tags in values}) > 1
    }
