"""shashin's review page for Datasette: browse duplicate groups, remove copies safely, undo."""

from datasette import hookimpl

from . import actions, compare, database, guards, pages, photos, rules_page, suggestions_page, trash_page, videos
from .cells import render_cell as render_cell  # a hook: Datasette finds it here


@hookimpl
def register_routes():
    return [
        (r"^/-/shashin$", pages.review_page),
        (r"^/-/shashin/trash$", trash_page.trash_page),
        (r"^/-/shashin/suggestions$", suggestions_page.suggestions_page),
        (r"^/-/shashin/rules$", rules_page.rules_page),
        (r"^/-/shashin/rules/preview$", rules_page.rules_preview),
        (r"^/-/shashin/thumbnail/(?P<md5>[0-9a-f]{32})\.jpg$", photos.thumbnail),
        (r"^/-/shashin/image/(?P<md5>[0-9a-f]{32})$", photos.image),
        (r"^/-/shashin/video/(?P<md5>[0-9a-f]{32})$", videos.video),
        (r"^/-/shashin/compare/(?P<group>\d+)$", compare.compare_page),
        (r"^/-/shashin/remove$", actions.remove),
        (r"^/-/shashin/accept$", actions.accept),
        (r"^/-/shashin/not-duplicates$", actions.not_duplicates),
        (r"^/-/shashin/undo$", actions.undo),
        (r"^/-/shashin/restore$", actions.restore),
        (r"^/-/shashin/empty$", actions.empty),
    ]


@hookimpl
def asgi_wrapper(datasette):
    return lambda app: guards.local_only(datasette, photos.keep_caching(app))


@hookimpl
def startup(datasette):
    async def inner():
        await database.migrate(datasette)

    return inner


@hookimpl
def menu_links(datasette, actor):
    return [
        {"href": datasette.urls.path("/-/shashin"), "label": "Review duplicate photos"},
        {"href": datasette.urls.path("/-/shashin/rules"), "label": "Which copy to keep: keeper rules"},
    ]
