"""Request handling of the review page: reads through Datasette's read connections,
changes through its single write connection, files only by md5 from the database."""

import asyncio
import functools
import hashlib
import ipaddress
import json
import os
import re
import sqlite3
import sys
import threading
import urllib.parse
import weakref

from datasette.utils import actor_matches_allow
from datasette.utils.asgi import BadRequest, Forbidden, NotFound, Response

from shashin import files, ranking, review, trash
from shashin.imaging import ImageError
from shashin.store import MIGRATION_SETS, Store

PLUGIN = "shashin-review"
PAGE_SIZE = 10
TRASH_PAGE_SIZE = 100
#: Removals the trash page offers to undo as a whole.
TRASH_BATCHES = 5
#: Groups listed on the preview of accepting suggestions.
SUGGESTIONS_SHOWN = 20
DEFAULT_THRESHOLD = 0.95
#: Messages carried to the next page (in a cookie, which browsers cap at 4 kB).
MAX_MESSAGES = 10
NOT_LOCAL = "this server answers local requests only: the Host header names another machine\n"
#: What a Host header may be: a name, an IPv4 literal or a bracketed IPv6 literal, then an optional port.
_HOST = re.compile(r"(?:\[(?P<ipv6>[0-9a-f:.]+)\]|(?P<name>[a-z0-9._-]+))(?::(?P<port>[0-9]{1,5}))?")
#: SQLite's integers, which every id and count from a URL or form ends up compared with.
LARGEST_INTEGER = 2**63 - 1
#: Largest photo the image route reads into memory to check its md5 before sending it.
MAX_IMAGE_BYTES = 256 << 20
YEAR = 365 * 24 * 3600
_MIME = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp", "BMP": "image/bmp"}

#: Per Datasette instance: the groups in review order (an _Order), kept while the tables stay the same.
_orders = weakref.WeakKeyDictionary()
_orders_lock = threading.Lock()


# Guards


def _config(datasette):
    return datasette.plugin_config(PLUGIN) or {}


def local_only(datasette, app):
    """An ASGI app answering, on every route of Datasette, only requests whose Host is local.

    A web page that rebinds its own name to 127.0.0.1 reaches the server under that name;
    refusing it by its Host header keeps every page, table, JSON and BLOB away from it.
    Other scopes (lifespan) pass.
    """

    async def guarded(scope, receive, send):
        if scope["type"] == "http":
            hosts = [value for name, value in scope["headers"] if name.lower() == b"host"]
            allowed = _config(datasette).get("allowed_hosts", [])
            if len(hosts) != 1 or not host_allowed(hosts[0].decode("latin-1"), allowed):
                await Response.text(NOT_LOCAL, status=403).asgi_send(send)
                return
        await app(scope, receive, send)

    return guarded


def host_allowed(header, allowed=()):
    """True for a Host header naming this machine (localhost, 127.x.x.x, [::1]) or a name in allowed,
    with an optional port; anything else (user info, junk around it, a port not of digits) is not."""
    match = _HOST.fullmatch(header.lower())
    if match is None or (match["port"] is not None and int(match["port"]) > 65535):
        return False
    if match["ipv6"] is not None:
        return _address(match["ipv6"], ipaddress.IPv6Address) == ipaddress.IPv6Address("::1")
    name = match["name"]
    if name == "localhost" or name in {other.lower() for other in allowed}:
        return True
    address = _address(name, ipaddress.IPv4Address)
    return address is not None and address.is_loopback


def _address(text, kind):
    """An IP address of that kind written as text, or None."""
    try:
        return kind(text)
    except ValueError:
        return None


async def _check_may_view(datasette, request):
    """Visitors who may see the data (the Host was checked by :func:`local_only`)."""
    if not await _may_view(datasette, request.actor, shashin_database(datasette).name):
        raise Forbidden("you may not see this database")


async def _may_view(datasette, actor, database):
    if hasattr(datasette, "allowed"):  # Datasette 1.0a20 and later
        from datasette.resources import DatabaseResource

        return await datasette.allowed(action="view-database", resource=DatabaseResource(database), actor=actor)
    for action, resource in (("view-instance", None), ("view-database", database)):
        if not await datasette.permission_allowed(actor, action, resource, default=True):
            return False
    return True


def can_change(datasette, actor):
    allow = _config(datasette).get("allow_delete", {"id": "root"})
    return actor is not None and actor_matches_allow(actor, allow)


def change(view):
    """A route that changes things: POST by an allowed actor; a failed write is a message, not a 500."""

    @functools.wraps(view)
    async def guarded(datasette, request):
        await _check_may_view(datasette, request)
        if request.method != "POST":
            raise Forbidden("changes are POST requests")
        if not can_change(datasette, request.actor):
            raise Forbidden("only an actor allowed by the shashin-review allow_delete setting may change files")
        try:
            return await view(datasette, request)
        except BadRequest as error:
            return Response.text(str(error), status=400)
        except WriteFailed as error:
            return _reply(datasette, request, {"ok": False, "messages": [str(error)]}, "/-/shashin")

    return guarded


def integer(text, name, least=1):
    """A whole number from a URL or form, from least to SQLite's largest integer; else BadRequest (400)."""
    try:
        number = int(text)
    except (TypeError, ValueError):
        number = None
    if number is None or not least <= number <= LARGEST_INTEGER:
        raise BadRequest("{}: give a whole number from {} to {}".format(name, least, LARGEST_INTEGER))
    return number


def _back(form, default):
    """Where a plain form returns to: a page of this plugin, never another site."""
    back = form.get("back", [default])[0]
    return back if back.split("?")[0] in ("/-/shashin", "/-/shashin/trash") else default


def shashin_database(datasette):
    """The Datasette database holding shashin's tables (setting ``database``, else the first with images)."""
    name = _config(datasette).get("database")
    if name:
        return datasette.get_database(name)
    for database in datasette.databases.values():
        if database.is_mutable and not database.is_memory and os.path.exists(database.path or ""):
            return database
    raise NotFound("no shashin database: start datasette with one, like `datasette shashin.db`")


async def migrate(datasette):
    """Create the plugin's tables in a database made before they existed; settle interrupted moves."""
    for database in datasette.databases.values():
        if database.is_mutable and not database.is_memory and await database.table_exists("images"):
            try:
                await database.execute_write_fn(_prepare, block=True)
            except sqlite3.Error as error:
                # Datasette still serves the data; the review page will say what fails.
                print("shashin review: cannot prepare {}: {}".format(database.name, error), file=sys.stderr)


def _prepare(conn):
    store = Store.over(conn)
    for migrations in MIGRATION_SETS:
        migrations.apply(store.db)
    trash.finish_unfinished(store)


async def _read(datasette, fn):
    return await shashin_database(datasette).execute_fn(lambda conn: fn(Store.over(conn)))


class WriteFailed(Exception):
    """The database could not be written (disk full, locked too long); files stay as journaled."""


async def _write(datasette, fn):
    try:
        return await shashin_database(datasette).execute_write_fn(lambda conn: fn(Store.over(conn)), block=True)
    except sqlite3.Error as error:
        raise WriteFailed(
            "the database could not be written ({}): nothing moved that is not journaled".format(error)
        ) from None


async def _form(request):
    body = (await request.post_body()).decode("utf-8", "replace")
    return urllib.parse.parse_qs(body)


def _first(form, name):
    """A form field's first value, or None when the form has none."""
    return form.get(name, [None])[0]


def _wants_json(request):
    return "application/json" in request.headers.get("accept", "")


def _reply(datasette, request, result, back):
    """JSON for the page's script; a message and a redirect for a plain form."""
    if _wants_json(request):
        return Response.json(result, status=200 if result["ok"] else 409)
    messages = result["messages"]
    if len(messages) > MAX_MESSAGES:
        messages = messages[: MAX_MESSAGES - 1] + ["... and {} more".format(len(messages) - MAX_MESSAGES + 1)]
    for message in messages:
        datasette.add_message(request, message, datasette.INFO if result["ok"] else datasette.ERROR)
    return Response.redirect(back)


# Pages


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


async def review_page(datasette, request):
    await _check_may_view(datasette, request)
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

    page, total, groups, (trashed, trashed_bytes), ranked_by_model = await _read(datasette, read)
    pages = _pages(total, PAGE_SIZE)
    return Response.html(
        await datasette.render_template(
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
                "query": lambda **changes: "?" + urllib.parse.urlencode(
                    {k: v for k, v in dict({"kind": kind, "page": page}, **changes).items() if v not in (None, 1)}
                ),
            },
            request=request,
        )
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
    await _check_may_view(datasette, request)
    asked = _page(request)

    def read(store):
        trashed, size = store.trash_totals()
        page = min(asked, _pages(trashed, TRASH_PAGE_SIZE))
        entries = store.trash_entries(limit=TRASH_PAGE_SIZE, offset=(page - 1) * TRASH_PAGE_SIZE)
        return page, entries, trashed, size, store.trash_batches(TRASH_BATCHES)

    page, entries, trashed, size, batches = await _read(datasette, read)
    return Response.html(
        await datasette.render_template(
            "shashin_trash.html",
            {
                "entries": [
                    dict(entry, **_file_fields(entry["original_path"], entry["size"]))
                    for entry in entries
                ],
                "batches": [dict(batch, size_text=trash.human_size(batch["bytes"])) for batch in batches],
                "files": trashed,
                "size_text": trash.human_size(size),
                "page": page,
                "pages": _pages(trashed, TRASH_PAGE_SIZE),
                "can_change": can_change(datasette, request.actor),
            },
            request=request,
        )
    )


async def suggestions_page(datasette, request):
    """What accepting suggestions above a threshold would remove, before anything is removed."""
    await _check_may_view(datasette, request)
    if not can_change(datasette, request.actor):
        raise Forbidden("only an actor allowed by the shashin-review allow_delete setting may accept suggestions")
    threshold, problem = _threshold(request.args.get("threshold", str(DEFAULT_THRESHOLD)))

    def read(store):
        if problem or not store.ranked_by_model():
            return [], [], False
        suggestions = store.confident_suggestions(threshold)
        return suggestions, _suggestion_views(store, suggestions[:SUGGESTIONS_SHOWN]), True

    suggestions, shown, ranked_by_model = await _read(datasette, read)
    preview = ranking.acceptance_preview(suggestions)
    return Response.html(
        await datasette.render_template(
            "shashin_suggestions.html",
            {
                "threshold": threshold,
                "problem": problem,
                "ranked_by_model": ranked_by_model,
                "min_decisions": ranking.MIN_GROUPS,
                "preview": preview,
                "size_text": trash.human_size(preview["bytes"]),
                "shown": shown,
            },
            request=request,
        )
    )


def _threshold(text):
    """``(threshold, problem)`` from a form's text: the default and why when it is not a usable one."""
    try:
        threshold = float(text)
    except (TypeError, ValueError):
        threshold = None
    if threshold is None or not 0.5 <= threshold <= 1:
        return DEFAULT_THRESHOLD, "the threshold is a keep probability from 0.5 to 1"
    return threshold, None


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


def member_key(path):
    """A member as a form names it: its path's bytes in hex, whatever the name's encoding."""
    return os.fsencode(path).hex()


def printable(path):
    """A name from the filesystem as text a page can hold (undecodable bytes shown as \ufffd)."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


# Files, by md5 only


async def thumbnail(datasette, request):
    await _check_may_view(datasette, request)
    md5 = request.url_vars["md5"]
    jpeg = await _read(datasette, lambda store: store.thumbnail(md5))
    if jpeg is None:
        raise NotFound("no thumbnail")
    # Content-addressed: the bytes at this URL never change. Private: only the browser keeps them,
    # as the instance itself may be private.
    caching = "private, max-age={}, immutable".format(YEAR)
    return Response(jpeg, content_type="image/jpeg", headers={"cache-control": caching})


# Datasette replaces the caching headers of responses to signed-in visitors with no-store,
# except for static files; a thumbnail is as unchanging as one.
thumbnail._datasette_static = True


async def image(datasette, request):
    """The photo with this md5, sent only when the bytes read are that content."""
    await _check_may_view(datasette, request)
    md5 = request.url_vars["md5"]
    recorded = await _read(datasette, lambda store: store.paths_with_md5(md5))
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


# Changes: POST, CSRF-checked by Datasette, by an allowed actor, on the write connection


@change
async def remove(datasette, request):
    """Remove the selected members of a group (``member``), or all but one (``keep``)."""
    form = await _form(request)
    group_id = integer(_first(form, "group"), "group")
    chosen = set(form.get("member", []))
    keep = _first(form, "keep")

    def write(store):
        members = store.review_members([group_id])[group_id]
        if keep is not None:
            paths = [m["path"] for m in members if member_key(m["path"]) != keep]
            if len(paths) == len(members):
                return {"ok": False, "messages": ["that copy is no longer in group {}".format(group_id)]}
        else:
            paths = [m["path"] for m in members if member_key(m["path"]) in chosen]
            if len(paths) != len(chosen) or not paths:
                return {"ok": False, "messages": ["select copies of group {} still in place".format(group_id)]}
        try:
            batch, outcomes = trash.remove(store, group_id, paths)
        except trash.Refused as refused:
            return {"ok": False, "messages": [str(refused)]}
        return {
            "ok": all(outcome.ok for outcome in outcomes),
            "removed": sum(outcome.ok for outcome in outcomes),
            "batch": batch,
            "messages": [outcome.message for outcome in outcomes],
        }

    return _reply(datasette, request, await _write(datasette, write), _back(form, "/-/shashin"))


@change
async def accept(datasette, request):
    """Accept the suggestions a preview showed: one batch of removals, one group at a time."""
    form = await _form(request)
    threshold, problem = _threshold(_first(form, "threshold"))
    if problem:
        return Response.text(problem, status=400)
    previewed = {name: integer(_first(form, name), name, least=0) for name in ("groups", "files", "bytes")}
    preview_page = "/-/shashin/suggestions?" + urllib.parse.urlencode({"threshold": threshold})

    def write(store):
        suggestions = store.confident_suggestions(threshold)
        now = ranking.acceptance_preview(suggestions)
        if now != previewed:
            message = "the suggestions changed since the preview (now {groups} groups, {files} files): look again"
            return {"ok": False, "messages": [message.format(**now)]}
        batch, accepted, outcomes = review.accept_suggestions(store, suggestions)
        sizes = {member["path"]: member["size"] or 0 for s in suggestions for member in s["remove"]}
        moved = [outcome.path for outcome in outcomes if outcome.ok]
        summary = "accepted the suggestions for {} of {} groups: {} files, {}, moved to the trash".format(
            accepted, len(suggestions), len(moved), trash.human_size(sum(sizes[path] for path in moved))
        )
        return {
            "ok": len(moved) == len(outcomes),
            "groups": accepted,
            "removed": len(moved),
            "batch": batch,
            "messages": [summary] + [outcome.message for outcome in outcomes if not outcome.ok],
        }

    result = await _write(datasette, write)
    return _reply(datasette, request, result, "/-/shashin/trash" if "batch" in result else preview_page)


@change
async def not_duplicates(datasette, request):
    form = await _form(request)
    group_id = integer(_first(form, "group"), "group")
    count = await _write(datasette, lambda store: review.not_duplicates(store, group_id))
    message = "group {}: {} photos marked as not duplicates".format(group_id, count)
    return _reply(datasette, request, {"ok": count > 1, "messages": [message]}, _back(form, "/-/shashin"))


@change
async def restore(datasette, request):
    """Restore trash entries (``entry``), or a whole removal (``batch``), or the last removal (neither)."""
    form = await _form(request)
    entries = [integer(value, "entry") for value in form.get("entry", [])]
    batch = _first(form, "batch")

    def write(store):
        if entries:
            return trash.restore(store, entries)
        chosen = batch or store.last_trash_batch()
        return trash.restore_batch(store, chosen) if chosen else []

    outcomes = await _write(datasette, write)
    result = {
        "ok": bool(outcomes) and all(outcome.ok for outcome in outcomes),
        "messages": [outcome.message for outcome in outcomes] or ["nothing to restore"],
    }
    return _reply(datasette, request, result, _back(form, "/-/shashin/trash"))


@change
async def empty(datasette, request):
    count, freed, outcomes = await _write(datasette, trash.empty)
    failed = [outcome.message for outcome in outcomes if not outcome.ok]
    result = {
        "ok": not failed,
        "freed": freed,
        "messages": ["deleted {} files from the trash, freed {}".format(count, trash.human_size(freed))] + failed,
    }
    return _reply(datasette, request, result, "/-/shashin/trash")
