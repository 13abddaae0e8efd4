"""Who and what a request may be: a local Host, an actor who may look or change, numbers in range.

CSRF is Datasette's own check, run before any of this: the asgi-csrf token (``ds_csrftoken``
cookie and the forms' ``csrftoken`` field) on 0.65, the ``Sec-Fetch-Site`` / ``Origin`` headers
on 1.0. The pages put ``csrftoken()`` in every form for 0.65; 1.0 ignores it.
"""

import ipaddress
import re

from datasette.utils import actor_matches_allow
from datasette.utils.asgi import BadRequest, Forbidden, Response

from .database import shashin_database
from .settings import PLUGIN, config

NOT_LOCAL = "this server answers local requests only: the Host header names another machine\n"
#: What a Host header may be: a name, an IPv4 literal or a bracketed IPv6 literal, then an optional port.
_HOST = re.compile(r"(?:\[(?P<ipv6>[0-9a-f:.]+)\]|(?P<name>[a-z0-9._-]+))(?::(?P<port>[0-9]{1,5}))?")
#: SQLite's integers, which every id and count from a URL or form ends up compared with.
LARGEST_INTEGER = 2**63 - 1
DEFAULT_THRESHOLD = 0.95


# Host


def local_only(datasette, app):
    """An ASGI app answering, on every route of Datasette, only requests whose Host is local.

    A web page that rebinds its own name to 127.0.0.1 reaches the server under that name;
    refusing it by its Host header keeps every page, table, JSON and BLOB away from it.
    Other scopes (lifespan) pass.
    """

    async def guarded(scope, receive, send):
        if scope["type"] == "http":
            hosts = [value for name, value in scope["headers"] if name.lower() == b"host"]
            allowed = config(datasette).get("allowed_hosts", [])
            if len(hosts) != 1 or not host_allowed(hosts[0].decode("latin-1"), allowed):
                await Response.text(NOT_LOCAL, status=403).asgi_send(send)
                return
        await app(scope, receive, send)

    return guarded


def host_allowed(header, allowed=()):
    """True for a Host header naming this machine (localhost, 127.x.x.x, [::1]) or a name in allowed,
    with an optional port; anything else (user info, junk around it, a port not of digits) is not."""
    match = _HOST.fullmatch(header.lower())
    if match is None or (match["port"] is not None and int(match["port"]) > 65535):
        return False
    if match["ipv6"] is not None:
        return _address(match["ipv6"], ipaddress.IPv6Address) == ipaddress.IPv6Address("::1")
    name = match["name"]
    if name == "localhost" or name in {other.lower() for other in allowed}:
        return True
    address = _address(name, ipaddress.IPv4Address)
    return address is not None and address.is_loopback


def _address(text, kind):
    """An IP address of that kind written as text, or None."""
    try:
        return kind(text)
    except ValueError:
        return None


# Actor


async def check_may_view(datasette, request):
    """Visitors who may see the data (the Host was checked by :func:`local_only`)."""
    if not await _may_view(datasette, request.actor, shashin_database(datasette).name):
        raise Forbidden("you may not see this database")


async def _may_view(datasette, actor, database):
    if hasattr(datasette, "allowed"):  # Datasette 1.0a20 and later
        from datasette.resources import DatabaseResource

        return await datasette.allowed(action="view-database", resource=DatabaseResource(database), actor=actor)
    for action, resource in (("view-instance", None), ("view-database", database)):
        if not await datasette.permission_allowed(actor, action, resource, default=True):
            return False
    return True


def can_change(datasette, actor):
    allow = config(datasette).get("allow_delete", {"id": "root"})
    return actor is not None and actor_matches_allow(actor, allow)


def check_may_change(datasette, request, what):
    if not can_change(datasette, request.actor):
        raise Forbidden("only an actor allowed by the {} allow_delete setting may {}".format(PLUGIN, what))


# Numbers from a URL or form


def integer(text, name, least=1):
    """A whole number from a URL or form, from least to SQLite's largest integer; else BadRequest (400)."""
    try:
        number = int(text)
    except (TypeError, ValueError):
        number = None
    if number is None or not least <= number <= LARGEST_INTEGER:
        raise BadRequest("{}: give a whole number from {} to {}".format(name, least, LARGEST_INTEGER))
    return number


def threshold(text):
    """``(threshold, problem)`` from a form's text: the default and why when it is not a usable one."""
    try:
        number = float(text)
    except (TypeError, ValueError):
        number = None
    if number is None or not 0.5 <= number <= 1:
        return DEFAULT_THRESHOLD, "the threshold is a keep probability from 0.5 to 1"
    return number, None
