"""What every page of the plugin shares: rendering a template, page numbers, and how a file is named."""

import os
import urllib.parse

from datasette.utils.asgi import Response

from shashin import trash

from .guards import integer


def page_number(request):
    return integer(request.args.get("page", "1"), "page")


def page_count(count, size):
    return max(1, -(-count // size))


def query(current, **changes):
    """A page's query string with changes made to current; empty values and the first page left out."""
    kept = {name: value for name, value in dict(current, **changes).items() if value not in (None, "", 1)}
    return "?" + urllib.parse.urlencode(kept)


def file_fields(path, size):
    """A file as the pages name it: its name, its folder and its size, printable."""
    return {
        "name": printable(os.path.basename(path)),
        "folder": printable(os.path.dirname(path)),
        "size_text": trash.human_size(size or 0),
    }


async def html(datasette, request, template, context):
    return Response.html(await datasette.render_template(template, context, request=request))


def member_key(path):
    """A member as a form names it: its path's bytes in hex, whatever the name's encoding."""
    return os.fsencode(path).hex()


def printable(path):
    """A name from the filesystem as text a page can hold (undecodable bytes shown as \ufffd)."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
