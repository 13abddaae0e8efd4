"""What a POST changes: removals, suggestions accepted, "not duplicates", restores, emptying the
trash; each through shashin's core on Datasette's write connection, answered as JSON for the page's
script or as a message and a redirect for a plain form."""

import functools
import urllib.parse

from datasette.utils.asgi import BadRequest, Response

from shashin import group_decisions, ranking, trash

from . import database
from .guards import check_may_change, check_may_view, integer, threshold
from .rendering import member_key

#: Messages carried to the next page (in a cookie, which browsers cap at 4 kB).
MAX_MESSAGES = 10


def post_only(view):
    """A route that changes things: POST by an allowed actor; a failed write is a message, not a 500."""

    @functools.wraps(view)
    async def guarded(datasette, request):
        if request.method != "POST":
            return Response.text("changes are POST requests", status=405, headers={"allow": "POST"})
        await check_may_view(datasette, request)
        check_may_change(datasette, request, "change files")
        try:
            return await view(datasette, request)
        except BadRequest as error:
            return Response.text(str(error), status=400)
        except database.WriteFailed as error:
            return _reply(datasette, request, {"ok": False, "messages": [str(error)]}, "/-/shashin")

    return guarded


async def _form(request):
    body = (await request.post_body()).decode("utf-8", "replace")
    return urllib.parse.parse_qs(body)


def _first(form, name):
    """A form field's first value, or None when the form has none."""
    return form.get(name, [None])[0]


def _back(form, default):
    """Where a plain form returns to: a page of this plugin, never another site."""
    back = form.get("back", [default])[0]
    return back if back.split("?")[0] in ("/-/shashin", "/-/shashin/trash") else default


def _reply(datasette, request, result, back):
    """JSON for the page's script; a message and a redirect for a plain form."""
    if "application/json" in request.headers.get("accept", ""):
        return Response.json(result, status=200 if result["ok"] else 409)
    messages = result["messages"]
    if len(messages) > MAX_MESSAGES:
        messages = messages[: MAX_MESSAGES - 1] + ["... and {} more".format(len(messages) - MAX_MESSAGES + 1)]
    for message in messages:
        datasette.add_message(request, message, datasette.INFO if result["ok"] else datasette.ERROR)
    return Response.redirect(back)


@post_only
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

    return _reply(datasette, request, await database.write(datasette, write), _back(form, "/-/shashin"))


@post_only
async def accept(datasette, request):
    """Accept the suggestions a preview showed: one batch of removals, one group at a time."""
    form = await _form(request)
    chosen, problem = threshold(_first(form, "threshold"))
    if problem:
        return Response.text(problem, status=400)
    previewed = {name: integer(_first(form, name), name, least=0) for name in ("groups", "files", "bytes")}
    preview_page = "/-/shashin/suggestions?" + urllib.parse.urlencode({"threshold": chosen})

    def write(store):
        suggestions = store.confident_suggestions(chosen)
        now = ranking.acceptance_preview(suggestions)
        if now != previewed:
            message = "the suggestions changed since the preview (now {groups} groups, {files} files): look again"
            return {"ok": False, "messages": [message.format(**now)]}
        batch, accepted, outcomes = group_decisions.accept_suggestions(store, suggestions)
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

    result = await database.write(datasette, write)
    return _reply(datasette, request, result, "/-/shashin/trash" if "batch" in result else preview_page)


@post_only
async def not_duplicates(datasette, request):
    form = await _form(request)
    group_id = integer(_first(form, "group"), "group")
    count = await database.write(datasette, lambda store: group_decisions.record_not_duplicates(store, group_id))
    message = "group {}: {} photos marked as not duplicates".format(group_id, count)
    return _reply(datasette, request, {"ok": count > 1, "messages": [message]}, _back(form, "/-/shashin"))


@post_only
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

    outcomes = await database.write(datasette, write)
    result = {
        "ok": bool(outcomes) and all(outcome.ok for outcome in outcomes),
        "messages": [outcome.message for outcome in outcomes] or ["nothing to restore"],
    }
    return _reply(datasette, request, result, _back(form, "/-/shashin/trash"))


@post_only
async def empty(datasette, request):
    count, freed, outcomes = await database.write(datasette, trash.empty)
    failed = [outcome.message for outcome in outcomes if not outcome.ok]
    result = {
        "ok": not failed,
        "freed": freed,
        "messages": ["deleted {} files from the trash, freed {}".format(count, trash.human_size(freed))] + failed,
    }
    return _reply(datasette, request, result, "/-/shashin/trash")
