"""Datasette's own pages of shashin's ``images`` table, readable: a thumbnail linked to the row's group
on the review page, times as a person reads them, and the metadata as a short summary (its tags
worded, behind a disclosure) instead of a wall of JSON. Other tables and other databases are left
to Datasette."""

import sqlite3

from datasette import hookimpl
from datasette.utils.asgi import NotFound
from markupsafe import Markup

from shashin import review, trash
from shashin.ranking import rule

from .database import shashin_database


@hookimpl
def render_cell(row, value, column, table, database, datasette):
    """The hook's arguments common to Datasette 0.65 and 1.0 (1.0 adds pks, request, column_type)."""
    if table != "images" or column not in _CELLS or value is None or not _is_shashins(datasette, database):
        return None
    return _CELLS[column](datasette, row, value)


def _is_shashins(datasette, name):
    try:
        return shashin_database(datasette).name == name
    except NotFound:
        return False


def _field(row, name):
    """A column of the row, or None when the page left it out (``_col=``, ``_nocol=``)."""
    try:
        return row[name]
    except (IndexError, KeyError):
        return None


def _md5(datasette, row, md5):
    """The thumbnail (when there is one), linked to the review page's group of this path."""

    async def cell():
        sql = """select exists(select 1 from thumbnails where md5 = ?),
                        (select group_id from group_members where path = ? order by group_id limit 1)"""
        try:
            result = await shashin_database(datasette).execute(sql, [md5, _field(row, "path")])
            has_thumbnail, group = result.first()
        except sqlite3.Error:  # a database scanned but never grouped
            has_thumbnail, group = False, None
        picture = (
            Markup('<img src="{}" alt="" loading="lazy" style="max-width: 96px; max-height: 96px">').format(
                datasette.urls.path("/-/shashin/thumbnail/{}.jpg".format(md5))
            )
            if has_thumbnail
            else Markup("")
        )
        if group is not None:
            link = datasette.urls.path("/-/shashin?group={0}#group-{0}".format(int(group)))
            picture = Markup('<a href="{}" title="Review its group of copies">{}<br>group {}</a>').format(
                link, picture, group
            )
        return Markup('{}<br><span title="{}">{}…</span>').format(picture, md5, md5[:8])

    return cell


def _mtime(datasette, row, mtime):
    return Markup('<span title="{}" style="white-space: nowrap">{}</span>').format(mtime, review.file_time(mtime))


def _taken_at(datasette, row, taken_at):
    return Markup('<span title="{}">{}</span>').format(taken_at, _when({"taken_at": taken_at}))


def _when(member):
    """The capture date alone, in the review page's form (the text stored when it is not a date)."""
    try:
        return review.moment_text(member["taken_at"]) if member.get("taken_at") else ""
    except ValueError:
        return member["taken_at"]


def _size(datasette, row, size):
    return Markup('<span title="{:,} bytes">{}</span>').format(size, trash.human_size(size))


def _metadata(datasette, row, metadata):
    """Camera, capture date and size on one line; every tag, worded, behind a disclosure."""
    member = {
        "metadata": metadata,
        "make": _field(row, "make"),
        "model": _field(row, "model"),
        "taken_at": _field(row, "taken_at"),
        "taken_at_source": _field(row, "taken_at_source"),
    }
    width, height, size = _field(row, "width"), _field(row, "height"), _field(row, "size")
    summary = [
        review.camera(member),
        _when(member) if rule.capture_timestamp(member) is not None else "no capture date",
        "{} × {}".format(width, height) if width and height else "",
        trash.human_size(size) if size else "",
    ]
    tags = review.all_tags(member)
    listed = Markup("").join(Markup("<dt>{}</dt><dd>{}</dd>").format(tag, text) for tag, text in tags)
    return Markup(
        '<span style="white-space: nowrap">{}</span><details><summary>{} tags</summary><dl>{}</dl></details>'
    ).format(" · ".join(part for part in summary if part), len(tags), listed)


_CELLS = {"md5": _md5, "mtime": _mtime, "taken_at": _taken_at, "size": _size, "metadata": _metadata}
