"""The trash page: each removal (when, what it kept, what it moved), restoring, searching, emptying."""

import datetime
import functools

from datasette.utils.asgi import BadRequest, Response

from shashin import trash

from . import database
from .guards import can_change, check_may_view
from .rendering import file_fields, html, page_count, page_number, query

#: Removals on a page of the trash.
REMOVALS_PER_PAGE = 10
#: Groups of a removal shown in the list of removals; the removal's own page shows them all.
GROUPS_SHOWN = 6
#: Copies a group's removal kept shown beside what it moved (one group of ten can keep nine).
KEPT_SHOWN = 2
#: Groups on a page of one removal (an acceptance of suggestions can hold thousands).
GROUPS_PER_PAGE = 50


async def trash_page(datasette, request):
    """The removals in the trash, newest first, a page at a time; or one removal's groups (``batch``).

    ``q`` keeps only the files whose original path holds it.
    """
    await check_may_view(datasette, request)
    asked = page_number(request)
    search = request.args.get("q", "").strip()
    if "\x00" in search:  # SQLite's like would stop there, and match every path
        raise BadRequest("q: a search cannot hold a NUL character (no path holds one)")
    batch = request.args.get("batch") or None

    def read(store):
        totals = store.trash_totals()
        found = store.trash_totals(search) if search else totals
        if batch:  # one removal's own page: its groups, a page at a time
            removals = store.trash_removals(search, batch)
            pages = page_count(removals[0]["groups"] if removals else 0, GROUPS_PER_PAGE)
            if asked > pages:
                return None, pages
            offset, groups_shown, older = (asked - 1) * GROUPS_PER_PAGE, GROUPS_PER_PAGE, asked < pages
        else:  # the removals, latest first, a page at a time, each with its first groups
            pages = None  # not counted: that reads the whole trash
            start = (asked - 1) * REMOVALS_PER_PAGE
            # A search that found nothing need not read the whole trash again to list nothing.
            removals = store.trash_removals(search, limit=REMOVALS_PER_PAGE + 1, offset=start) if found[0] else []
            if not removals and asked > 1:
                return None, page_count(store.trash_removal_count(search) if found[0] else 0, REMOVALS_PER_PAGE)
            offset, groups_shown, older = 0, GROUPS_SHOWN, len(removals) > REMOVALS_PER_PAGE
            removals = removals[:REMOVALS_PER_PAGE]
        views = [_removal_view(store, removal, search, groups_shown, offset) for removal in removals]
        whole = store.trash_removal_files([view["batch"] for view in views])
        for view in views:
            view["all_files"] = whole.get(view["batch"], view["files"])
        return (totals, found, views, pages, older), None

    read_pages, last = await database.read(datasette, read)
    page_query = functools.partial(query, {"q": search, "batch": batch, "page": asked})
    if read_pages is None:  # past the end (the last files were just restored): the last page
        return Response.redirect(datasette.urls.path("/-/shashin/trash") + page_query(page=last))
    (files, size), (found_files, found_size), views, pages, older = read_pages
    asked_for = request.query_string
    return await html(
        datasette,
        request,
        "shashin_trash.html",
        {
            "files": files,
            "size_text": trash.human_size(size),
            "search": search,
            "found_files": found_files,
            "found_size_text": trash.human_size(found_size),
            "batch": batch,
            "shown": views,
            "page": asked,
            "pages": pages,
            "older": older,
            "back": datasette.urls.path("/-/shashin/trash") + ("?" + asked_for if asked_for else ""),
            "can_change": can_change(datasette, request.actor),
            "kept_shown": KEPT_SHOWN,
            "query": page_query,
        },
    )


def _removal_view(store, removal, search, limit, offset):
    """A removal as the page shows it: its time, sizes, and its groups from offset (up to limit),
    each with the copies it kept and the files it moved."""
    batch = removal["batch"]
    groups = store.trash_removal_groups(batch, search, limit, offset)
    ids = [group["group_id"] for group in groups]
    entries, keepers = store.trash_removal_entries(batch, ids, search), store.removal_keepers(batch, ids)
    return dict(
        removal,
        size_text=trash.human_size(removal["bytes"]),
        time=moment(removal["trashed_at"]),
        more_groups=removal["groups"] - offset - len(groups),
        shown_groups=[
            dict(
                group,
                size_text=trash.human_size(group["bytes"]),
                kept=[
                    dict(file_fields(path, size), md5=md5, size=size) for path, md5, size in keepers[group["group_id"]]
                ],
                entries=[
                    dict(entry, **file_fields(entry["original_path"], entry["size"]))
                    for entry in entries[group["group_id"]]
                ],
            )
            for group in groups
        ],
    )


def moment(stamp):
    """A stored UTC time as a page shows it: ISO for the page's script, which writes it in the
    browser's time zone, and words in UTC for a page without scripts."""
    when = datetime.datetime.fromisoformat(stamp)
    return {"iso": stamp, "text": "{} {:%b %Y, %H:%M} UTC".format(when.day, when.astimezone(datetime.timezone.utc))}
