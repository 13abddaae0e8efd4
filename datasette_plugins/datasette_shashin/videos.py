"""Videos served by md5 for the review page's players, in the byte ranges a browser asks for (so seeking works)."""

import asyncio
import datetime
import hashlib
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
#: A byte position has at most 18 digits (an exabyte): a longer one is not parsed (Python refuses to turn more
#: than 4300 digits into an int), the whole file is sent.
_RANGE = re.compile(r"^bytes=(\d{0,18})-(\d{0,18})$")
#: Files whose md5 was read again because their change time is after the scan, by (md5, device, inode, size,
#: mtime, change time): whether it was still the md5 scanned. A file changed again gets a new change time.
_VERIFIED: dict = {}
#: Entries kept in _VERIFIED, beyond which it starts afresh.
VERIFIED_KEPT = 4096


async def video(datasette, request):
    """The video with this md5 (with ``copy``, a member's key: from that copy's file only), whole or the one
    byte range asked (``Range: bytes=A-B``, answered 206). Sent only from a file that is still the one
    scanned: same size, mtime, device and inode, opened through no symbolic link, and not changed since the
    scan (its change time, which no one can set, is not after the scan, else its md5 is read again)."""
    await check_may_view(datasette, request)
    md5, copy = request.url_vars["md5"], request.args.get("copy")
    recorded = await database.read(datasette, lambda store: store.video_files(md5))
    if copy is not None:
        recorded = [row for row in recorded if member_key(row["path"]) == copy]
    loop = asyncio.get_running_loop()
    opened = await loop.run_in_executor(None, _open_as_scanned, recorded, md5)
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
        handle,
        start,
        end,
        206 if asked else 200,
        MIME.get(row["format"], "application/octet-stream"),
        headers,
        request.receive,
    )


def _open_as_scanned(rows, md5):
    """``(open file, row)`` of the first recorded file that is still the one scanned, or None."""
    for row in rows:
        try:
            handle = files.open_no_follow(row["path"])
        except OSError:
            continue
        status = os.fstat(handle.fileno())
        if files.unchanged_since_scan(row, status) and _same_content(handle, status, row, md5):
            return handle, row
        handle.close()
    return None


def _same_content(handle, status, row, md5):
    """Whether an open file still holds the content scanned: its size and mtime can be put back after it is
    rewritten in place, its change time cannot. A change time after the scan (a rewrite, or only a chmod or
    a new link) has the md5 read again, once for that state of the file."""
    hashed_at = row.get("hashed_at")
    # hashed_at is in whole seconds: a change in the second of the scan is after it, to be safe.
    if hashed_at and status.st_ctime < datetime.datetime.fromisoformat(hashed_at).timestamp():
        return True
    state = (md5, status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns, status.st_ctime_ns)
    if state not in _VERIFIED:
        if len(_VERIFIED) >= VERIFIED_KEPT:
            _VERIFIED.clear()
        _VERIFIED[state] = hashlib.file_digest(handle, "md5").hexdigest() == md5
    return _VERIFIED[state]


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

    def __init__(self, handle, first, last, status, content_type, headers, receive):
        self.handle, self.first, self.last = handle, first, last
        self.status, self.content_type, self.headers = status, content_type, headers
        self.receive = receive

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
        # A browser seeking drops its request and asks again: the rest of the file is then read for no one
        # (the server's send() after a disconnect returns as if sent).
        gone = asyncio.ensure_future(_disconnected(self.receive))
        try:
            while position <= self.last and not gone.done():
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
            gone.cancel()
            self.handle.close()


async def _disconnected(receive):
    """Returns when the client has gone (http.disconnect)."""
    while (await receive())["type"] != "http.disconnect":
        pass
