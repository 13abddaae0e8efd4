"""The trash page: what was removed, the latest removals to undo, emptying."""

from shashin import trash

from . import database
from .guards import can_change, check_may_view
from .rendering import file_fields, html, page_count, page_number

TRASH_PAGE_SIZE = 100
#: Removals the trash page offers to undo as a whole.
TRASH_BATCHES = 5


async def trash_page(datasette, request):
    await check_may_view(datasette, request)
    asked = page_number(request)

    def read(store):
        trashed, size = store.trash_totals()
        page = min(asked, page_count(trashed, TRASH_PAGE_SIZE))
        entries = store.trash_entries(limit=TRASH_PAGE_SIZE, offset=(page - 1) * TRASH_PAGE_SIZE)
        return page, entries, trashed, size, store.trash_batches(TRASH_BATCHES)

    page, entries, trashed, size, batches = await database.read(datasette, read)
    return await html(
        datasette,
        request,
        "shashin_trash.html",
        {
            "entries": [dict(entry, **file_fields(entry["original_path"], entry["size"])) for entry in entries],
            "batches": [dict(batch, size_text=trash.human_size(batch["bytes"])) for batch in batches],
            "files": trashed,
            "size_text": trash.human_size(size),
            "page": page,
            "pages": page_count(trashed, TRASH_PAGE_SIZE),
            "can_change": can_change(datasette, request.actor),
        },
    )
