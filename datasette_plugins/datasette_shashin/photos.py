"""Thumbnails and photos, served by md5 only from the database."""

import asyncio
import collections
import hashlib
import os
import threading

from datasette.utils.asgi import NotFound, Response

from shashin import files, imaging
from shashin.imaging import ImageError

from . import database
from .guards import check_may_view, integer
from .rendering import member_key

#: Largest photo the image route reads into memory to check its md5 before sending it.
MAX_IMAGE_BYTES = 256 << 20
YEAR = 365 * 24 * 3600
_MIME = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp", "BMP": "image/bmp"}
#: Formats a browser shows as they are; the others are converted to JPEG.
BROWSER_FORMATS = frozenset(_MIME)
#: Converted photos are made with their longest edge a multiple of this (the screen's size rounded up),
#: so that a handful of sizes per photo is converted and cached, whatever the screens asking.
EDGE_STEP = 512
#: Bytes of converted JPEGs kept in memory, the least recently used dropped first.
CONVERSIONS_KEPT = 128 << 20
#: The Cache-Control a response of this plugin asks for, past Datasette (see :func:`keep_caching`).
_CACHING = b"shashin-cache-control"


async def thumbnail(datasette, request):
    await check_may_view(datasette, request)
    md5 = request.url_vars["md5"]
    jpeg = await database.read(datasette, lambda store: store.thumbnail(md5))
    if jpeg is None:
        raise NotFound("no thumbnail")
    # Content-addressed: the bytes at this URL never change. Private: only the browser keeps them,
    # as the instance itself may be private.
    caching = "private, max-age={}, immutable".format(YEAR)
    return Response(jpeg, content_type="image/jpeg", headers={_CACHING.decode(): caching})


def keep_caching(app):
    """An ASGI app sending the Cache-Control a response of this plugin asked for.

    Datasette replaces the caching headers of its responses to signed-in visitors with
    ``private, no-store`` (0.65.5 and 1.0), sparing only its own static files, and offers plugins
    no public way to be spared: a thumbnail, as unchanging as a static file, would then be
    fetched again on every page. Its view asks in a header of its own, which this turns into
    the Cache-Control that leaves the server, after Datasette.
    """

    async def caching(scope, receive, send):
        async def send_with_caching(message):
            if message["type"] == "http.response.start":
                headers = message.get("headers", [])
                asked = [value for name, value in headers if name.lower() == _CACHING]
                if asked:
                    kept = [
                        (name, value) for name, value in headers if name.lower() not in (_CACHING, b"cache-control")
                    ]
                    message = dict(message, headers=kept + [(b"cache-control", asked[0])])
            await send(message)

        await app(scope, receive, send_with_caching)

    return caching


async def image(datasette, request):
    """The photo with this md5, sent only when the bytes read are that content; with ``copy`` (a member's
    key), only from that copy's file: a pane or card named after a file never shows another file's bytes."""
    await check_may_view(datasette, request)
    md5 = request.url_vars["md5"]
    edge = converted_edge(request.args.get("edge"))
    copy = request.args.get("copy")
    videos, recorded = await database.read(datasette, lambda store: (store.video_files(md5), store.paths_with_md5(md5)))
    if videos:
        message = "this content is a video, not a photo: it is played from /-/shashin/video/{}".format(md5)
        return Response.text(message, status=415)
    if copy is not None:
        recorded = [row for row in recorded if member_key(row[0]) == copy]
    if any((size or 0) > MAX_IMAGE_BYTES for _, _, size in recorded):
        message = "this photo is over {} MB, more than the review page reads into memory".format(MAX_IMAGE_BYTES >> 20)
        return Response.text(message, status=403)
    # Reading and converting run in a worker thread, never on the event loop.
    loop = asyncio.get_running_loop()
    found = await loop.run_in_executor(None, _photo_with_md5, md5, recorded)
    if found is None:
        if copy is not None:
            raise NotFound("this copy changed since the scan, or is gone: its file no longer holds the content scanned")
        raise NotFound("no such image: no file holds this content now")
    photo, format_ = found
    caching = {"cache-control": "private, max-age=3600"}
    if format_ in _MIME:
        return Response(photo, content_type=_MIME[format_], headers=caching)
    try:
        jpeg = await loop.run_in_executor(None, _conversions.converted, md5, photo, edge, format_)
    except ImageError as error:
        return Response.text("cannot show this image: {}".format(error), status=415)
    return Response(jpeg, content_type="image/jpeg", headers=caching)


def converted_edge(text):
    """The longest edge a converted photo is made at, from ``?edge=`` (the screen's, in device pixels):
    rounded up to a multiple of EDGE_STEP, at most imaging.FULL_IMAGE_EDGE (also without ``?edge=``)."""
    if text is None:
        return imaging.FULL_IMAGE_EDGE
    return min(imaging.FULL_IMAGE_EDGE, -(-integer(text, "edge") // EDGE_STEP) * EDGE_STEP)


class _Conversions:
    """Converted JPEGs by content and edge, within a byte budget, the least recently used dropped first.

    Converting a HEIC photo takes about a second; kept, seeing it again (another group, the compare
    view after the review page) costs only the check that a file still holds that content, which
    runs before every answer.
    """

    def __init__(self, budget):
        self.budget = budget
        self.kept = collections.OrderedDict()
        self.lock = threading.Lock()

    def converted(self, md5, photo, edge, format_):
        with self.lock:
            jpeg = self.kept.get((md5, edge))
            if jpeg is not None:
                self.kept.move_to_end((md5, edge))
                return jpeg
        jpeg = imaging.browser_jpeg(photo, edge, format_)
        with self.lock:
            self.kept[md5, edge] = jpeg
            while sum(map(len, self.kept.values())) > self.budget:
                self.kept.popitem(last=False)
        return jpeg


_conversions = _Conversions(CONVERSIONS_KEPT)


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
