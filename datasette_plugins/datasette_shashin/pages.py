"""What a GET answers: the review, trash and suggestions pages and their view-models, and the
thumbnails and photos, served by md5 only from the database."""

import asyncio
import hashlib
import json
import os
import threading
import urllib.parse
import weakref

from datasette.utils.asgi import NotFound, Response

from shashin import files, ranking, review, trash
from shashin.imaging import ImageError

from . import database
from .guards import DEFAULT_THRESHOLD, can_change, check_may_change, check_may_view, integer, threshold

PAGE_SIZE = 10
TRASH_PAGE_SIZE = 100
#: Removals the trash page offers to undo as a whole.
TRASH_BATCHES = 5
#: Groups listed on the preview of accepting suggestions.
SUGGESTIONS_SHOWN = 20
#: Largest photo the image route reads into memory to check its md5 before sending it.
MAX_IMAGE_BYTES = 256 << 20
YEAR = 365 * 24 * 3600
_MIME = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp", "BMP": "image/bmp"}
#: The Cache-Control a response of this plugin asks for, past Datasette (see :func:`keep_caching`).
_CACHING = b"shashin-cache-control"

#: Per Datasette instance: the groups in review order (an _Order), kept while the tables stay the same.
_orders: "weakref.WeakKeyDictionary[object, _Order]" = weakref.WeakKeyDictionary()
_orders_lock = threading.Lock()


def _page(request):
    return integer(request.args.get("page", "1"), "page")


def _pages(count, size):
    return max(1, -(-count // size))


def _file_fields(path, size):
    """A file as the pages name it: its name, its folder and its size, printable."""
    return {
        "name": printable(os.path.basename(path)),
        "folder": printable(os.path.dirname(path)),
        "size_text": trash.human_size(size or 0),
    }


async def _html(datasette, request, template, context):
    return Response.html(await datasette.render_template(template, context, request=request))


def member_key(path):
    """A member as a form names it: its path's bytes in hex, whatever the name's encoding."""
    return os.fsencode(path).hex()


def printable(path):
    """A name from the filesystem as text a page can hold (undecodable bytes shown as \ufffd)."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


async def review_page(datasette, request):
    await check_may_view(datasette, request)
    kind = request.args.get("kind") if request.args.get("kind") in ("exact", "similar") else None
    asked = _page(request)

    def read(store):
        order = _review_order(datasette, store, kind)
        # Past the end (the last groups were just decided): the last page.
        page = min(asked, _pages(len(order), PAGE_SIZE))
        shown = order[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        ids = [group_id for group_id, _, _ in shown]
        groups, members = store.review_groups(ids), store.review_members(ids)
        # A group rewritten since the order was read is left out rather than shown wrong.
        views = [_group_view(groups[i], members[i], saving) for i, _, saving in shown if i in groups]
        return page, len(order), views, store.trash_totals(), store.ranked_by_model()

    page, total, groups, (trashed, trashed_bytes), ranked_by_model = await database.read(datasette, read)
    pages = _pages(total, PAGE_SIZE)
    return await _html(
        datasette,
        request,
        "shashin_review.html",
        {
            "groups": groups,
            "total": total,
            "page": page,
            "pages": pages,
            "kind": kind,
            "can_change": can_change(datasette, request.actor),
            "ranked_by_model": ranked_by_model,
            "min_decisions": ranking.MIN_GROUPS,
            "threshold": DEFAULT_THRESHOLD,
            "trashed": trashed,
            "trashed_size": trash.human_size(trashed_bytes),
            "query": lambda **changes: (
                "?"
                + urllib.parse.urlencode(
                    {k: v for k, v in dict({"kind": kind, "page": page}, **changes).items() if v not in (None, 1)}
                )
            ),
        },
    )


def _review_order(datasette, store, kind):
    """Undecided groups, largest saving first, as ``(id, kind, saving)``.

    The order of all groups (an aggregate over every member) is computed again only
    when the grouping changes; after a decision it is only filtered again.
    """
    groups_signature, decisions_signature = store.groups_signature(), store.decisions_signature()
    with _orders_lock:
        cached = _orders.setdefault(datasette, _Order())
        if cached.groups_signature != groups_signature:
            cached.groups_signature, cached.everything, cached.undecided = groups_signature, None, {}
        everything, order = cached.everything, cached.undecided.get((decisions_signature, kind))
    if order is not None:
        return order
    if everything is None:
        everything = store.groups_by_saving()
    decided = store.decided_groups()
    order = [row for row in everything if row[0] not in decided and (kind is None or row[1] == kind)]
    with _orders_lock:
        if cached.groups_signature == groups_signature:
            cached.everything = everything
            stale = [key for key in cached.undecided if key[0] != decisions_signature]
            for key in stale:
                del cached.undecided[key]
            cached.undecided[decisions_signature, kind] = order
    return order


class _Order:
    groups_signature = everything = None

    def __init__(self):
        self.undecided = {}


def _group_view(group, members, saving):
    members = review.keeper_first(members)
    tags = review.differing_tags(members)
    return {
        "id": group["id"],
        "kind": group["kind"],
        "saving": trash.human_size(saving),
        "max_distance": group.get("max_distance"),
        "warnings": review.warnings(members),
        "members": [
            dict(
                member,
                **_file_fields(member["path"], member["size"]),
                keeper=index == 0,
                key=member_key(member["path"]),
                reasons=json.loads(member.get("reasons") or "[]"),
                camera=review.camera(member),
                taken=review.taken(member),
                tags={tag.split(":", 1)[-1]: (tag, value) for tag, value in tags[index].items()},
            )
            for index, member in enumerate(members)
        ],
    }


async def trash_page(datasette, request):
    await check_may_view(datasette, request)
    asked = _page(request)

    def read(store):
        trashed, size = store.trash_totals()
        page = min(asked, _pages(trashed, TRASH_PAGE_SIZE))
        entries = store.trash_entries(limit=TRASH_PAGE_SIZE, offset=(page - 1) * TRASH_PAGE_SIZE)
        return page, entries, trashed, size, store.trash_batches(TRASH_BATCHES)

    page, entries, trashed, size, batches = await database.read(datasette, read)
    return await _html(
        datasette,
        request,
        "shashin_trash.html",
        {
            "entries": [dict(entry, **_file_fields(entry["original_path"], entry["size"])) for entry in entries],
            "batches": [dict(batch, size_text=trash.human_size(batch["bytes"])) for batch in batches],
            "files": trashed,
            "size_text": trash.human_size(size),
            "page": page,
            "pages": _pages(trashed, TRASH_PAGE_SIZE),
            "can_change": can_change(datasette, request.actor),
        },
    )


async def suggestions_page(datasette, request):
    """What accepting suggestions above a threshold would remove, before anything is removed."""
    await check_may_view(datasette, request)
    check_may_change(datasette, request, "accept suggestions")
    chosen, problem = threshold(request.args.get("threshold", str(DEFAULT_THRESHOLD)))

    def read(store):
        if problem or not store.ranked_by_model():
            return [], [], False
        suggestions = store.confident_suggestions(chosen)
        return suggestions, _suggestion_views(store, suggestions[:SUGGESTIONS_SHOWN]), True

    suggestions, shown, ranked_by_model = await database.read(datasette, read)
    preview = ranking.acceptance_preview(suggestions)
    return await _html(
        datasette,
        request,
        "shashin_suggestions.html",
        {
            "threshold": chosen,
            "problem": problem,
            "ranked_by_model": ranked_by_model,
            "min_decisions": ranking.MIN_GROUPS,
            "preview": preview,
            "size_text": trash.human_size(preview["bytes"]),
            "shown": shown,
        },
    )


def _suggestion_views(store, suggestions):
    keepers = store.images_by_path([suggestion["keep"] for suggestion in suggestions])

    def view(path, row):
        return dict(_file_fields(path, row.get("size")), md5=row.get("md5"))

    return [
        dict(
            suggestion,
            keeper=view(suggestion["keep"], keepers.get(suggestion["keep"], {})),
            removed=[view(member["path"], member) for member in suggestion["remove"]],
        )
        for suggestion in suggestions
    ]


# Files, by md5 only


async def thumbnail(datasette, request):
    await check_may_view(datasette, request)
    md5 = request.url_vars["md5"]
    jpeg = await database.read(datasette, lambda store: store.thumbnail(md5))
    if jpeg is None:
        raise NotFound("no thumbnail")
    # Content-addressed: the bytes at this URL never change. Private: only the browser keeps them,
    # as the instance itself may be private.
    caching = "private, max-age={}, immutable".format(YEAR)
    return Response(jpeg, content_type="image/jpeg", headers={_CACHING.decode(): caching})


def keep_caching(app):
    """An ASGI app sending the Cache-Control a response of this plugin asked for.

    Datasette replaces the caching headers of its responses to signed-in visitors with
    ``private, no-store`` (0.65.5 and 1.0), sparing only its own static files, and offers plugins
    no public way to be spared: a thumbnail, as unchanging as a static file, would then be
    fetched again on every page. Its view asks in a header of its own, which this turns into
    the Cache-Control that leaves the server, after Datasette.
    """

    async def caching(scope, receive, send):
        async def send_with_caching(message):
            if message["type"] == "http.response.start":
                headers = message.get("headers", [])
                asked = [value for name, value in headers if name.lower() == _CACHING]
                if asked:
                    kept = [
                        (name, value) for name, value in headers if name.lower() not in (_CACHING, b"cache-control")
                    ]
                    message = dict(message, headers=kept + [(b"cache-control", asked[0])])
            await send(message)

        await app(scope, receive, send_with_caching)

    return caching


async def image(datasette, request):
    """The photo with this md5, sent only when the bytes read are that content."""
    await check_may_view(datasette, request)
    md5 = request.url_vars["md5"]
    recorded = await database.read(datasette, lambda store: store.paths_with_md5(md5))
    if any((size or 0) > MAX_IMAGE_BYTES for _, _, size in recorded):
        message = "this photo is over {} MB, more than the review page reads into memory".format(MAX_IMAGE_BYTES >> 20)
        return Response.text(message, status=403)
    # Reading and converting run in a worker thread, never on the event loop.
    loop = asyncio.get_running_loop()
    found = await loop.run_in_executor(None, _photo_with_md5, md5, recorded)
    if found is None:
        raise NotFound("no such image: no file holds this content now")
    photo, format_ = found
    caching = {"cache-control": "private, max-age=3600"}
    if format_ in _MIME:
        return Response(photo, content_type=_MIME[format_], headers=caching)
    try:
        jpeg = await loop.run_in_executor(None, review.browser_jpeg, photo)
    except ImageError as error:
        return Response.text("cannot show this image: {}".format(error), status=415)
    return Response(jpeg, content_type="image/jpeg", headers=caching)


def _photo_with_md5(md5, recorded):
    """``(bytes, format)`` of the first recorded file that still holds this content, or None.

    Each file is opened once, through no symbolic link, and everything is checked on that
    descriptor (a regular file of the size scanned, whose bytes have this md5): a folder
    swapped for a link or a file rewritten since the scan is never what is sent.
    """
    for path, format_, size in recorded:
        try:
            with files.open_no_follow(path) as photo:
                if os.fstat(photo.fileno()).st_size != size:
                    continue
                content = photo.read(size + 1)
        except OSError:
            continue
        if hashlib.md5(content).hexdigest() == md5:
            return content, format_
    return None
