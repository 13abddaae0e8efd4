"""The review page: groups still to review, sorted and filtered, a page at a time; and one group's
HTML alone, which the page's script puts in place after an action."""

import threading
import weakref

import numpy
from datasette.utils.asgi import Response

from shashin import ranking, trash
from shashin.captures import SERIES
from shashin.ranking import preferences

from . import database
from .cards import group_view
from .guards import DEFAULT_THRESHOLD, can_change, check_may_view, integer
from .rendering import html, page_count, page_number, query

PAGE_SIZE = 10

#: How the list can be sorted: the key of a ``groups_for_review`` row (with the suggested keeper's keep
#: probability, or None), whether it is reversed, and the words the page says it with.
SORTS = {
    "savings": (lambda row, p: (-row[2], row[0]), False, "largest savings first"),
    "date": (lambda row, p: (row[4] is not None, row[4] or "", -row[0]), True, "newest capture date first"),
    "folder": (lambda row, p: (row[5], row[0]), False, "by folder"),
    "size": (lambda row, p: (-row[3], row[0]), False, "largest photos first"),
    # Groups no model ranked come last.
    "unsure": (lambda row, p: (p is None, p or 0, -row[2], row[0]), False, "least sure suggestion first"),
}
DEFAULT_SORT = "savings"
#: The kinds of group the list can be filtered to.
KINDS = ("exact", "similar", SERIES)

#: Per Datasette instance: the groups in review orders (an _Orders), kept while the tables stay the same.
_orders: "weakref.WeakKeyDictionary[object, _Orders]" = weakref.WeakKeyDictionary()
_orders_lock = threading.Lock()


class View:
    """What the person asked to see: a sort, a kind (exact, similar, series) and a folder, or the defaults."""

    def __init__(self, args):
        self.sort = args.get("sort") if args.get("sort") in SORTS else DEFAULT_SORT
        self.kind = args.get("kind") if args.get("kind") in KINDS else None
        self.folder = (args.get("folder") or "").strip().rstrip("/") or None

    def key(self):
        return self.sort, self.kind, self.folder

    def query(self, **changes):
        """This view's query string, with changes; defaults left out."""
        sort = None if self.sort == DEFAULT_SORT else self.sort
        return query({"sort": sort, "kind": self.kind, "folder": self.folder}, **changes)


async def review_page(datasette, request):
    """The list, a page at a time; ``?group=N`` goes to the page holding group N (or shows it alone when
    it is off the list: decided, or filtered out)."""
    await check_may_view(datasette, request)
    view = View(request.args)
    asked = page_number(request)
    wanted = integer(request.args["group"], "group") if request.args.get("group") else None

    def read(store):
        if not store.has_review_tables():
            return {"state": "unscanned"}
        order = _review_order(datasette, store, view)
        found = numpy.flatnonzero(order == wanted) if wanted is not None else []
        if len(found):
            page = int(found[0]) // PAGE_SIZE + 1
            return {"state": "elsewhere", "page": page, "anchor": "#group-{}".format(wanted)}
        page = min(asked, page_count(len(order), PAGE_SIZE))
        if page != asked:
            return {"state": "elsewhere", "page": page, "anchor": ""}
        shown = [wanted] if wanted is not None else [int(i) for i in order[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]]
        scanned, grouped = store.review_counts() if not len(order) else (None, None)
        trashed, trashed_bytes = store.trash_totals()
        return {
            "state": "groups" if len(order) else "empty",
            "scanned": scanned,
            "grouped": grouped,
            "page": page,
            "total": len(order),
            "first": None if wanted is not None else (page - 1) * PAGE_SIZE + 1,
            "groups": group_views(store, shown),
            "trashed": trashed,
            "trashed_size": trash.human_size(trashed_bytes),
            "ranked_by_model": store.ranked_by_model(),
        }

    found = await database.read(datasette, read)
    if found["state"] == "elsewhere":
        return Response.redirect(datasette.urls.path("/-/shashin") + view.query(page=found["page"]) + found["anchor"])
    db_file = database.shashin_database(datasette).path
    return await html(
        datasette,
        request,
        "shashin_review.html",
        dict(
            found,
            pages=page_count(found.get("total", 0), PAGE_SIZE),
            view=view,
            sorts={name: words for name, (_, _, words) in SORTS.items()},
            db_file=db_file,
            can_change=can_change(datasette, request.actor),
            min_decisions=ranking.MIN_GROUPS,
            threshold=DEFAULT_THRESHOLD,
            back=datasette.urls.path("/-/shashin") + view.query(page=found.get("page")),
        ),
    )


def group_views(store, group_ids):
    """The groups as the page shows them, in this order, each with ``done``: None while it is to be
    reviewed, "not duplicates", or "kept" (fewer than two copies in place, or a choice imported)."""
    groups, members = store.review_groups(group_ids), store.review_members(group_ids)
    verdicts, rules = store.verdicts(group_ids), preferences.load(store)
    views = []
    for group_id in group_ids:
        if group_id not in groups:  # rewritten by a new grouping since the order was read
            continue
        in_place = members[group_id]
        sizes = [member["size"] or 0 for member in in_place]
        prints = store.fingerprints_of(member["md5"] for member in in_place if member["md5"])
        view = group_view(groups[group_id], in_place, sum(sizes) - max(sizes, default=0), prints, rules)
        verdict = verdicts.get(group_id)
        view["done"] = (
            "not duplicates" if verdict == "not_duplicates" else "kept" if verdict or len(in_place) < 2 else None
        )
        views.append(view)
    return views


async def group_fragments(datasette, request, group_ids, back):
    """``{group id: HTML}`` of these groups as they are now, for the page's script to put in place."""
    views = await database.read(datasette, lambda store: group_views(store, list(group_ids)))
    context = {"can_change": can_change(datasette, request.actor), "back": back}
    return {
        view["id"]: await datasette.render_template("_shashin_group.html", dict(context, group=view), request=request)
        for view in views
    }


def _review_order(datasette, store, view):
    """Ids of the groups still to review in the view's sort, kind and folder (a numpy array).

    Every group's sort keys (an aggregate over every member) are read again only when the grouping
    changes, and each sort made once; after a decision the sorted ids are only filtered again, as
    arrays: a Python loop over 100,000 sorted rows reads them in an order memory does not hold them
    in, ten times slower.
    """
    groups_signature, review_signature = store.groups_signature(), store.review_signature()
    ranks_signature = store.ranks_signature() if view.sort == "unsure" else None
    key = (review_signature, ranks_signature) + view.key()
    with _orders_lock:
        cached = _orders.setdefault(datasette, _Orders())
        if cached.groups_signature != groups_signature:
            cached.groups_signature, cached.everything = groups_signature, None
            cached.sorted, cached.folders, cached.filtered = {}, {}, {}
        order = cached.filtered.get(key)
        everything = cached.everything
        ordered = cached.sorted.get((view.sort, ranks_signature))
        folder = cached.folders.get(view.folder)
    if order is not None:
        return order
    if everything is None:
        everything = store.groups_for_review()
    if ordered is None:
        sort_key, reverse, _ = SORTS[view.sort]
        sureness = store.group_sureness() if view.sort == "unsure" else {}
        rows = sorted(everything, key=lambda row: sort_key(row, sureness.get(row[0])), reverse=reverse)
        ordered = (
            numpy.fromiter((row[0] for row in rows), numpy.int64, len(rows)),
            numpy.array([row[1] for row in rows], dtype=object),
        )
    if view.folder is not None and folder is None:
        folder = numpy.fromiter(store.groups_in_folder(view.folder), numpy.int64)
    ids, kinds = ordered
    wanted = ~numpy.isin(ids, numpy.fromiter(store.done_groups(), numpy.int64))
    if view.kind is not None:
        wanted &= kinds == view.kind
    if folder is not None:
        wanted &= numpy.isin(ids, folder)
    order = ids[wanted]
    with _orders_lock:
        if cached.groups_signature == groups_signature:
            cached.everything = everything
            cached.sorted[view.sort, ranks_signature] = ordered
            if view.folder is not None:
                cached.folders[view.folder] = folder
            for stale in [k for k in cached.filtered if k[0] != review_signature]:
                del cached.filtered[stale]
            cached.filtered[key] = order
    return order


class _Orders:
    groups_signature = everything = None

    def __init__(self):
        self.sorted, self.folders, self.filtered = {}, {}, {}
