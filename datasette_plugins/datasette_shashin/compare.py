"""The compare view: a group's copies side by side at full resolution, zoomed and panned together,
flickered and differenced (compare.js does the looking; this says what to show)."""

import json

from shashin.ranking import preferences
from shashin.similarity import orientation_between

from . import database
from .guards import check_may_view, integer
from .photos import BROWSER_FORMATS
from .rendering import file_fields, html, member_key


async def compare_page(datasette, request):
    await check_may_view(datasette, request)
    group_id = integer(request.url_vars["group"], "group")

    def read(store):
        exists = bool(store.review_groups([group_id]))
        # A member whose images row is gone (forgotten by a rescan) has no content to show.
        members = [member for member in store.review_members([group_id])[group_id] if member["md5"]]
        return exists, members, store.fingerprints_of(member["md5"] for member in members), preferences.load(store)

    exists, members, prints, rules = await database.read(datasette, read)
    context = {"group_id": group_id, "problem": _problem(group_id, exists, members)}
    if context["problem"]:
        response = await html(datasette, request, "shashin_compare.html", context)
        response.status = 404
        return response
    members = preferences.keeper_first(members, rules)
    context.update(
        videos=all(member.get("duration") is not None for member in members),
        copies=[_copy(member, index) for index, member in enumerate(members)],
        turns=json.dumps(orientations([prints.get(member["md5"]) for member in members])),
    )
    return await html(datasette, request, "shashin_compare.html", context)


def _problem(group_id, exists, members):
    """Why there is nothing to compare, in a sentence, or None."""
    if not exists:
        return "Group {} no longer exists: the photos were grouped again since (shashin-group).".format(group_id)
    if len(members) < 2:
        return "Group {} has {} in place now: there is nothing to compare it with.".format(
            group_id, "one copy" if members else "no copy"
        )
    return None


def _copy(member, index):
    """A member as the compare view describes it under its pane."""
    width, height = member["width"] or 0, member["height"] or 0
    return dict(
        file_fields(member["path"], member["size"]),
        md5=member["md5"],
        key=member_key(member["path"]),
        keeper=index == 0,
        width=width,
        height=height,
        dimensions="{} × {}".format(width, height) if width and height else "size unknown",
        size="{:,}".format(member["size"] or 0),
        format=member["format"] or "unknown format",
        converted=member["format"] not in BROWSER_FORMATS,
        duration="{:.1f} s".format(member["duration"]) if member.get("duration") is not None else None,
        codec=member.get("video_codec"),
    )


def orientations(prints):
    """``turns[i][j]``: the orientation (similarity.orient) that turns copy i's content into copy j's,
    0 where either has no fingerprint."""
    return [[orientation_between(a, b) if a is not None and b is not None else 0 for b in prints] for a in prints]
