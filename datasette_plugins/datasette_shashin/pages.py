"""The review page: undecided groups, largest saving first, a page at a time."""

import threading
import urllib.parse
import weakref

from shashin import ranking, trash

from . import database
from .cards import group_view
from .guards import DEFAULT_THRESHOLD, can_change, check_may_view
from .rendering import html, page_count, page_number

PAGE_SIZE = 10

#: Per Datasette instance: the groups in review order (an _Order), kept while the tables stay the same.
_orders: "weakref.WeakKeyDictionary[object, _Order]" = weakref.WeakKeyDictionary()
_orders_lock = threading.Lock()


async def review_page(datasette, request):
    await check_may_view(datasette, request)
    kind = request.args.get("kind") if request.args.get("kind") in ("exact", "similar") else None
    asked = page_number(request)

    def read(store):
        order = _review_order(datasette, store, kind)
        # Past the end (the last groups were just decided): the last page.
        page = min(asked, page_count(len(order), PAGE_SIZE))
        shown = order[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        ids = [group_id for group_id, _, _ in shown]
        groups, members = store.review_groups(ids), store.review_members(ids)
        # A group rewritten since the order was read is left out rather than shown wrong.
        views = [group_view(groups[i], members[i], saving) for i, _, saving in shown if i in groups]
        return page, len(order), views, store.trash_totals(), store.ranked_by_model()

    page, total, groups, (trashed, trashed_bytes), ranked_by_model = await database.read(datasette, read)
    pages = page_count(total, PAGE_SIZE)
    return await html(
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
