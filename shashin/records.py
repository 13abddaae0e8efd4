"""The record: one JSON object per image or video file, and how it travels as JSON lines.

Paths are ``str`` as Python's ``os`` module gives them: bytes that are not valid
UTF-8 are carried as surrogate escapes, which the JSON lines spell ``\\udcXX``
and ``json`` reads back unchanged, so such a path survives a pipeline of shashin
commands (and the lines stay valid UTF-8 for jq and friends).
"""

import json
import os

HASH_FIELDS = ("path", "size", "mtime", "md5", "dhash", "width", "height", "format")
#: What a video's record adds (a photo's has none of them): seconds, frames a second, codec, bits a second,
#: display rotation in degrees clockwise. Its fingerprint, ``frame_hashes``, is kept in the database apart.
VIDEO_FIELDS = ("duration", "frame_rate", "video_codec", "bitrate", "rotation")
#: Which file a path leads to: two paths with one device and inode are one file, not two copies.
IDENTITY_FIELDS = ("real_path", "device", "inode")
META_FIELDS = ("metadata", "taken_at", "taken_at_source", "mime_type", "make", "model")
RECORD_FIELDS = HASH_FIELDS + VIDEO_FIELDS + IDENTITY_FIELDS + META_FIELDS


def hash_record(row):
    """The record of a stored images row: its hash fields, and a video's video fields."""
    fields = HASH_FIELDS + VIDEO_FIELDS if row.get("duration") is not None else HASH_FIELDS
    return {field: row[field] for field in fields}


def dumps(record):
    """One record as one line of JSON (no newline), always valid UTF-8."""
    line = json.dumps(record, ensure_ascii=False, separators=(", ", ": "))
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:
        # A name that is not UTF-8: escaped as \udcXX, which json.loads turns back into the same path.
        line = json.dumps(record, separators=(", ", ": "))
    return line


def write(stream, record):
    stream.write(dumps(record) + "\n")


def parse_input(chunk):
    """A path from one input item: a bare path, or a JSON object with a ``path`` key.

    Returns ``(path, record)`` where record is the parsed object or None.
    """
    if chunk.startswith("{"):
        try:
            record = json.loads(chunk)
        except ValueError:
            record = None
        if isinstance(record, dict) and isinstance(record.get("path"), str):
            return record["path"], record
    return chunk, None


def read_items(stream, nul=False):
    """Yield ``(path, record)`` from a binary stream of lines or NUL-separated items."""
    separator = b"\0" if nul else b"\n"
    pending = b""
    while True:
        # read1: what the writer has sent so far, so that a pipeline's next command starts on the first records.
        block = stream.read1(1 << 16)
        if not block:
            break
        pending += block
        *items, pending = pending.split(separator)
        yield from _decoded(items, nul)
    yield from _decoded([pending], nul)


def _decoded(items, nul):
    for item in items:
        if not nul:
            item = item.rstrip(b"\r")
        if item:
            # JSON lines are UTF-8 by definition; a bare path is bytes from the filesystem.
            if item.startswith(b"{"):
                yield parse_input(item.decode("utf-8", "surrogateescape"))
            else:
                yield os.fsdecode(item), None
