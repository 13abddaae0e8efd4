"""The preview of accepting suggestions: what would be removed, before anything is."""

from shashin import ranking, trash

from . import database
from .guards import DEFAULT_THRESHOLD, check_may_change, check_may_view, threshold
from .rendering import file_fields, html

#: Groups listed on the preview of accepting suggestions.
SUGGESTIONS_SHOWN = 20


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
    return await html(
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
        return dict(file_fields(path, row.get("size")), md5=row.get("md5"), size=row.get("size"))

    return [
        dict(
            suggestion,
            keeper=view(suggestion["keep"], keepers.get(suggestion["keep"], {})),
            removed=[view(member["path"], member) for member in suggestion["remove"]],
        )
        for suggestion in suggestions
    ]
