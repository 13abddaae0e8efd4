"""Videos served by md5 for the review page's players, in the byte ranges a browser asks for (so seeking works)."""

import asyncio
import os
import re

from datasette.utils.asgi import NotFound, Response

from shashin import files

from . import database
from .guards import check_may_view
from .rendering import member_key

#: Container formats a browser plays, and the type it is sent as (QuickTime holding H.264 plays as MP4).
MIME = {"MP4": "video/mp4", "MOV": "video/mp4", "3GP": "video/3gpp", "WEBM": "video/webm", "MKV": "video/webm"}
#: Bytes read from the file and sent at a time.
CHUNK = 1 << 20
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


async def video(datasette, request):
    """The video with this md5 (with ``copy``, a member's key: from that copy's file only), whole or the one
    byte range asked (``Range: bytes=A-B``, answered 206). Sent only from a file that is still the one
    scanned: same size, mtime, device and inode, opened through no symbolic link."""
    await check_may_view(datasette, request)
    md5, copy = request.url_vars["md5"], request.args.get("copy")
    recorded = await database.read(datasette, lambda store: store.video_files(md5))
    if copy is not None:
        recorded = [row for row in recorded if member_key(row["path"]) == copy]
    loop = asyncio.get_running_loop()
    opened = await loop.run_in_executor(None, _open_as_scanned, recorded)
    if opened is None:
        raise NotFound("no file holds this video as scanned now: it changed or is gone since the scan")
    handle, row = opened
    size = row["size"]
    asked = _byte_range(request.headers.get("range"), size)
    if asked == "unsatisfiable":
        handle.close()
        return Response.text(
            "the range asked is outside the file's {} bytes".format(size),
            status=416,
            headers={"content-range": "bytes */{}".format(size)},
        )
    start, end = asked or (0, size - 1)
    headers = {"accept-ranges": "bytes", "content-length": str(end - start + 1), "cache-control": "private"}
    if asked:
        headers["content-range"] = "bytes {}-{}/{}".format(start, end, size)
    return _FileRange(
        handle, start, end, 206 if asked else 200, MIME.get(row["format"], "application/octet-stream"), headers
    )


def _open_as_scanned(rows):
    """``(open file, row)`` of the first recorded file that is still the one scanned, or None."""
    for row in rows:
        try:
            handle = files.open_no_follow(row["path"])
        except OSError:
            continue
        if files.unchanged_since_scan(row, os.fstat(handle.fileno())):
            return handle, row
        handle.close()
    return None


def _byte_range(header, size):
    """``(first, last)`` byte of a single range asked, None for the whole file (no header, or one this does
    not serve: several ranges), or "unsatisfiable"."""
    match = _RANGE.match((header or "").strip())
    if not match or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":
        first, last = max(0, size - int(last)), size - 1  # the last N bytes
    else:
        first, last = int(first), min(int(last), size - 1) if last else size - 1
    if first >= size or first > last:
        return "unsatisfiable"
    return first, last


class _FileRange:
    """A response that sends bytes first..last of an open file, a chunk at a time, then closes it."""

    def __init__(self, handle, first, last, status, content_type, headers):
        self.handle, self.first, self.last = handle, first, last
        self.status, self.content_type, self.headers = status, content_type, headers

    async def asgi_send(self, send):
        headers = [(name.encode(), value.encode()) for name, value in self.headers.items()]
        await send(
            {
                "type": "http.response.start",
                "status": self.status,
                "headers": headers + [(b"content-type", self.content_type.encode())],
            }
        )
        loop = asyncio.get_running_loop()
        position = self.first
        try:
            while position <= self.last:
                chunk = await loop.run_in_executor(
                    None, os.pread, self.handle.fileno(), min(CHUNK, self.last + 1 - position), position
                )
                if not chunk:
                    break
                position += len(chunk)
                await send({"type": "http.response.body", "body": chunk, "more_body": position <= self.last})
            if position <= self.last:
                await send({"type": "http.response.body", "body": b""})
        finally:
            self.handle.close()
