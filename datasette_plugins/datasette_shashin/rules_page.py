"""The keeper rules page: a person's ordered criteria for which copy to keep, previewed and saved."""

import shlex
import urllib.parse

from datasette.utils.asgi import Response

from shashin.ranking import preferences

from . import database
from .actions import post_only
from .guards import can_change, check_may_view
from .rendering import html

PAGE = "/-/shashin/rules"


async def rules_page(datasette, request):
    """The saved rules. A POST of the form saves its rules, or with ``preview`` (its Preview button, a POST as
    every form with the CSRF token is, so that the token goes into no URL) shows them with how many suggested
    keepers they change."""
    if request.method != "POST":
        return await _page(datasette, request, None)
    form = urllib.parse.parse_qs((await request.post_body()).decode("utf-8", "replace"), keep_blank_values=True)
    if "preview" not in form:
        return await save_rules(datasette, request, form)
    return await _page(datasette, request, _pairs(form.get("criterion", []), form.get("argument", [])))


async def _page(datasette, request, pairs):
    """The page: the saved rules, or these ``(criterion, argument)`` pairs previewed."""
    await check_may_view(datasette, request)
    proposed = pairs is not None
    rules, problem = _parsed(pairs) if proposed else (None, None)

    def read(store):
        saved = preferences.load(store)
        return saved, preferences.preview(store, rules) if proposed and not problem else None

    saved, preview = await database.read(datasette, read)
    shown = pairs if proposed else [tuple(r) for r in saved.rules] if saved else []
    return await html(
        datasette,
        request,
        "shashin_rules.html",
        {
            "rows": [{"criterion": c, "argument": a or ""} for c, a in shown] + [{"criterion": "", "argument": ""}],
            "criteria": [
                {"name": name, "label": criterion.label, "argument": criterion.argument}
                for name, criterion in preferences.CRITERIA.items()
            ],
            "saved": str(saved) if saved else "",
            # Quoted for a shell: a folder may be named Bob's.
            "prefer": shlex.quote(str(saved) if saved else "folder:DCIM, largest-file, not-edited"),
            "problem": problem,
            "preview": _preview_text(preview) if preview else None,
            "can_change": can_change(datasette, request.actor),
        },
    )


async def rules_preview(datasette, request):
    """JSON for the page's script: how many suggested keepers the rules in the URL change, in words."""
    await check_may_view(datasette, request)
    rules, problem = _parsed(_pairs(request.args.getlist("criterion"), request.args.getlist("argument")))
    if problem:
        return Response.json({"ok": False, "problem": problem}, status=400)
    preview = await database.read(datasette, lambda store: preferences.preview(store, rules))
    return Response.json(dict(preview, ok=True, rules=str(rules) if rules else "", text=_preview_text(preview)))


@post_only
async def save_rules(datasette, request, form):
    """Save the rules of the form, in order (none: back to the built-in rule)."""
    rules, problem = _parsed(_pairs(form.get("criterion", []), form.get("argument", [])))
    if problem:
        datasette.add_message(request, problem, datasette.ERROR)
        return Response.redirect(datasette.urls.path(PAGE))

    def write(store):
        ranked_by_model = store.ranked_by_model()
        preferences.save(store, rules)
        return ranked_by_model

    ranked_by_model = await database.write(datasette, write)
    if rules is None:
        message = "Keeper rules cleared: the built-in rule suggests which copy to keep."
    else:
        message = "Keeper rules saved: {}.".format(rules)
    if ranked_by_model:
        message += " Run shashin-rank to train the model again from them."
    datasette.add_message(request, message, datasette.INFO)
    return Response.redirect(datasette.urls.path(PAGE))


def _pairs(criteria, arguments):
    """``(criterion, argument)`` pairs from a form's parallel lists (an argument missing is blank)."""
    return [(criterion, arguments[i] if i < len(arguments) else "") for i, criterion in enumerate(criteria)]


def _parsed(pairs):
    """``(rules or None, problem or None)``."""
    try:
        return preferences.from_pairs(pairs), None
    except preferences.RuleError as error:
        return None, str(error)


def _preview_text(preview):
    if not preview["groups"]:
        return "There are no undecided groups to preview these rules on."
    # Where the saved rules chose between copies the new ones tie, the model may choose another: a floor.
    floor = "At least " if preview["at_least"] else ""
    text = floor + "{changed:,} of {groups:,} undecided groups would get another suggested keeper".format(**preview)
    if preview["compared"] < preview["groups"]:
        text = (
            (floor or "About ") + "{estimated:,} of {groups:,} undecided groups would get another suggested keeper"
            " ({changed:,} of the {compared:,} groups compared, spread over all of them)"
        ).format(**preview)
    return text + "."
