"""shashin's review page for Datasette: browse duplicate groups, remove copies safely, undo."""

from datasette import hookimpl

from . import views


@hookimpl
def register_routes():
    return [
        (r"^/-/shashin$", views.review_page),
        (r"^/-/shashin/trash$", views.trash_page),
        (r"^/-/shashin/thumbnail/(?P<md5>[0-9a-f]{32})\.jpg$", views.thumbnail),
        (r"^/-/shashin/image/(?P<md5>[0-9a-f]{32})$", views.image),
        (r"^/-/shashin/remove$", views.remove),
        (r"^/-/shashin/suggestions$", views.suggestions_page),
        (r"^/-/shashin/accept$", views.accept),
        (r"^/-/shashin/not-duplicates$", views.not_duplicates),
        (r"^/-/shashin/restore$", views.restore),
        (r"^/-/shashin/empty$", views.empty),
    ]


@hookimpl
def asgi_wrapper(datasette):
    return lambda app: views.local_only(datasette, app)


@hookimpl
def startup(datasette):
    async def inner():
        await views.migrate(datasette)

    return inner


@hookimpl
def menu_links(datasette, actor):
    return [{"href": datasette.urls.path("/-/shashin"), "label": "Review duplicate photos"}]
