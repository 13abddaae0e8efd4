"""What a POST changes: removals, suggestions accepted, "not duplicates", undoing them, restores,
emptying the trash; each through shashin's core on Datasette's write connection, answered as JSON for
the page's script (a sentence, the details, how to undo it, the changed groups' HTML) or as a message
and a redirect for a plain form."""

import functools
import re
import urllib.parse

from datasette.utils.asgi import BadRequest, Response

from shashin import group_decisions, ranking, trash

from . import database
from .guards import check_may_change, check_may_view, integer, threshold
from .pages import group_fragments
from .rendering import member_key

#: Messages carried to the next page (in a cookie, which browsers cap at 4 kB).
MAX_MESSAGES = 10
#: The pages a plain form may return to (its ``back``).
RETURN_PAGES = ("/-/shashin", "/-/shashin/trash")
#: What a ``back`` may hold: printable ASCII, no space (a CR or LF would end the Location header).
_PRINTABLE = re.compile("[!-~]*")


def post_only(view):
    """A route that changes things: POST by an allowed actor; a failed write is a message, not a 500.
    ``form``: the request's form, when the caller has read its body already."""

    @functools.wraps(view)
    async def guarded(datasette, request, *form):
        if request.method != "POST":
            return Response.text("changes are POST requests", status=405, headers={"allow": "POST"})
        await check_may_view(datasette, request)
        check_may_change(datasette, request, "change files")
        try:
            return await view(datasette, request, *form)
        except BadRequest as error:
            return Response.text(str(error), status=400)
        except database.WriteFailed as error:
            result = {"ok": False, "summary": str(error), "messages": [str(error)]}
            return _reply(datasette, request, result, datasette.urls.path("/-/shashin"))

    return guarded


async def _form(request):
    body = (await request.post_body()).decode("utf-8", "replace")
    form = urllib.parse.parse_qs(body)
    # Checked before any action: once a change is made, a 400 would hide it.
    form["shown"] = [str(integer(value, "shown")) for value in form.get("shown", [])]
    return form


def _first(form, name):
    """A form field's first value, or None when the form has none."""
    return form.get(name, [None])[0]


def _back(datasette, form, default):
    """Where a plain form returns to: a page of this plugin named by a same-site relative address of
    printable ASCII, which the Location header can carry as it is; anything else is default."""
    back = _first(form, "back") or ""
    address = urllib.parse.urlsplit(back)
    pages = {datasette.urls.path(page) for page in RETURN_PAGES}
    if _PRINTABLE.fullmatch(back) and not address.scheme and not address.netloc and address.path in pages:
        return back
    return datasette.urls.path(default)


def _reply(datasette, request, result, back):
    """JSON for the page's script; a message and a redirect for a plain form.

    A result with a ``summary`` is shown as that sentence and its ``problems``; others as their messages.
    """
    if _wants_json(request):
        return Response.json(result, status=200 if result["ok"] else 409)
    if "summary" in result:
        messages = [result["summary"]] + result.get("problems", [])
    else:
        messages = result["messages"]
    if len(messages) > MAX_MESSAGES:
        messages = messages[: MAX_MESSAGES - 1] + ["... and {} more".format(len(messages) - MAX_MESSAGES + 1)]
    for message in messages:
        datasette.add_message(request, message, datasette.INFO if result["ok"] else datasette.ERROR)
    return Response.redirect(back)


def _wants_json(request):
    return "application/json" in request.headers.get("accept", "")


async def _in_place(datasette, request, form, result, group_ids):
    """The result with the HTML of the groups it changed, those the page shows (``shown``) when it says."""
    if _wants_json(request):
        shown = {int(value) for value in form["shown"]}
        wanted = [group_id for group_id in group_ids if not shown or group_id in shown]
        result["html"] = await group_fragments(datasette, request, wanted, _back(datasette, form, "/-/shashin"))
    return _reply(datasette, request, result, _back(datasette, form, "/-/shashin"))


def _files(count):
    return "{} file{}".format(count, "" if count == 1 else "s")


def _removal(outcomes, sizes, kept=False):
    """What a removal did, in a sentence, with every file's line and what to undo."""
    moved = [outcome for outcome in outcomes if outcome.ok]
    failed = [outcome for outcome in outcomes if not outcome.ok]
    problems = [outcome.message for outcome in failed]
    if moved:
        summary = "Moved {} ({}) to the trash".format(
            _files(len(moved)), trash.human_size(sum(sizes.get(outcome.path, 0) for outcome in moved))
        )
        summary += ", kept the chosen copy." if kept else "."
        if problems:
            summary += " {} not moved: see why.".format(_files(len(problems)))
    elif len(failed) == 1:
        summary = "Nothing moved: " + _reason(failed[0])
    else:
        summary = "Nothing moved: {} could not be moved; see why.".format(_files(len(failed)))
    return {
        "ok": not problems,
        "removed": len(moved),
        "summary": summary,
        "messages": [outcome.message for outcome in outcomes],
        "problems": problems,
    }


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
                return _refusal("that copy is no longer in this group")
        else:
            paths = [m["path"] for m in members if member_key(m["path"]) in chosen]
            if not chosen:
                return _refusal("no copy is ticked: tick the copies to remove, or keep one and remove the others")
            if len(paths) != len(chosen):
                return _refusal("a ticked copy is no longer in this group; look again")
        try:
            batch, outcomes = trash.remove(store, group_id, paths)
        except trash.Refused as refused:
            return _refusal(str(refused))
        result = _removal(outcomes, {m["path"]: m["size"] or 0 for m in members}, kept=keep is not None)
        if result["removed"]:
            result.update(batch=batch, undo={"batch": batch})
        return result

    result = await database.write(datasette, write)
    return await _in_place(datasette, request, form, result, [group_id])


def _reason(outcome):
    """Why a file was not moved (or restored), without its name: the name is in the details."""
    return (
        outcome.message.removeprefix(outcome.path + ": ").removeprefix("not removed: ").removeprefix("not restored: ")
    )


def _refusal(reason):
    return {"ok": False, "summary": "Nothing moved: " + reason, "messages": [reason], "problems": []}


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
        problems = [outcome.message for outcome in outcomes if not outcome.ok]
        return {
            "ok": len(moved) == len(outcomes),
            "groups": accepted,
            "removed": len(moved),
            "batch": batch,
            "undo": {"batch": batch},
            "summary": summary,
            "messages": [summary] + problems,
            "problems": problems,
        }

    result = await database.write(datasette, write)
    back = "/-/shashin/trash" if "batch" in result else preview_page
    return _reply(datasette, request, result, datasette.urls.path(back))


@post_only
async def not_duplicates(datasette, request):
    form = await _form(request)
    group_id = integer(_first(form, "group"), "group")
    count, decision = await database.write(
        datasette, lambda store: group_decisions.record_not_duplicates(store, group_id)
    )
    if decision is None:
        result = _refusal("fewer than two photos of this group are in place")
    else:
        summary = "Marked {} photos as different photos: they will not be grouped together again.".format(count)
        result = {"ok": True, "summary": summary, "messages": [], "undo": {"decision": decision}}
    return await _in_place(datasette, request, form, result, [group_id])


@post_only
async def undo(datasette, request):
    """Undo one action of the review page: a removal (``batch``) or a "not duplicates" (``decision``)."""
    form = await _form(request)
    batch, decision = _first(form, "batch"), _first(form, "decision")
    if decision is not None:
        decision_id = integer(decision, "decision")
        group_id = await database.write(
            datasette, lambda store: group_decisions.undo_not_duplicates(store, decision_id)
        )
        if group_id is None:
            result = {"ok": False, "summary": "Nothing to undo: that was undone already.", "messages": []}
        else:
            result = {"ok": True, "summary": "Undone: these photos are to review again.", "messages": []}
        return await _in_place(datasette, request, form, result, [group_id] if group_id else [])
    if not batch:
        raise BadRequest('undo: give the batch of a removal, or the decision of a "not duplicates"')

    def write(store):
        entries = store.trash_entries(store.trash_batch(batch))
        return entries, trash.restore(store, [entry["id"] for entry in entries]), store.emptied_of_batch(batch)

    entries, outcomes, emptied = await database.write(datasette, write)
    sizes = {entry["id"]: entry["size"] or 0 for entry in entries}
    restored = [outcome for outcome in outcomes if outcome.ok]
    failed = [outcome for outcome in outcomes if not outcome.ok]
    problems = [outcome.message for outcome in failed]
    if restored:
        summary = "Undone: {} ({}) back in place.".format(
            _files(len(restored)), trash.human_size(sum(sizes[outcome.entry_id] for outcome in restored))
        )
        if problems:
            summary += " {} not restored: see why.".format(_files(len(problems)))
    elif failed:
        summary = "Nothing restored: " + _reason(failed[0])
    elif emptied:
        summary = "Nothing restored:"
    else:
        summary = "Nothing restored: that removal was undone already."
    if emptied:  # never to be taken for an undo done already: nothing can bring these back
        summary += " {} of that removal {} deleted for good when the trash was emptied, and cannot be restored.".format(
            _files(emptied), "was" if emptied == 1 else "were"
        )
    result = {
        "ok": bool(restored) and not problems and not emptied,
        "summary": summary,
        "messages": [outcome.message for outcome in outcomes],
        "problems": problems,
    }
    groups = sorted({entry["group_id"] for entry in entries if entry["group_id"] is not None})
    return await _in_place(datasette, request, form, result, groups)


@post_only
async def restore(datasette, request):
    """Restore trash entries (``entry``, each once), or a whole removal (``batch``); nothing unless one is named."""
    form = await _form(request)
    entries = list(dict.fromkeys(integer(value, "entry") for value in form.get("entry", [])))
    batch = _first(form, "batch")
    if not entries and not batch:
        # Never a guess (such as the latest removal): a form sent with nothing ticked restores nothing.
        nothing = "nothing ticked: tick the files to restore"
        result = {"ok": False, "summary": nothing, "problems": [], "messages": [nothing]}
        return _reply(datasette, request, result, _back(datasette, form, "/-/shashin/trash"))

    def write(store):
        return trash.restore(store, entries) if entries else trash.restore_batch(store, batch)

    outcomes = await database.write(datasette, write)
    restored = sum(outcome.ok for outcome in outcomes)
    if not outcomes:
        summary = "nothing to restore"
    elif restored < len(outcomes):
        summary = "restored {} of {} files; the others stay in the trash".format(restored, len(outcomes))
    elif restored == 1:
        summary = "restored 1 file to where it came from"
    else:
        summary = "restored {} files to where they came from".format(restored)
    result = {
        "ok": bool(outcomes) and restored == len(outcomes),
        "summary": summary,
        "problems": [outcome.message for outcome in outcomes if not outcome.ok],
        "messages": [outcome.message for outcome in outcomes] or ["nothing to restore"],
    }
    return _reply(datasette, request, result, _back(datasette, form, "/-/shashin/trash"))


@post_only
async def empty(datasette, request):
    count, freed, outcomes = await database.write(datasette, trash.empty)
    failed = [outcome.message for outcome in outcomes if not outcome.ok]
    result = {
        "ok": not failed,
        "freed": freed,
        "messages": ["deleted {} files from the trash, freed {}".format(count, trash.human_size(freed))] + failed,
    }
    return _reply(datasette, request, result, datasette.urls.path("/-/shashin/trash"))
