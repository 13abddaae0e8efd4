"""shashin-meta: add exiftool metadata and normalised dates to records, and store them."""

import json
import os
import stat

import click

from .. import exif
from ..files import os_error_text
from ..records import HASH_FIELDS, META_FIELDS
from .common import (
    INPUT_PATH,
    Reporter,
    SetupError,
    command,
    db_options,
    input_items,
    open_store,
    verbosity_options,
    write_record,
)

#: Records read and stored together.
BATCH = 128


@command(
    "shashin-meta",
    examples="""
  find ~/Pictures -type f | shashin-hash | shashin-meta
  shashin-meta ~/Pictures/2019                  # paths work too
  shashin-meta --no-db IMG_0001.HEIC | jq '.metadata["EXIF:Model"]'
""",
)
@click.argument("paths", nargs=-1, type=INPUT_PATH)
@click.option("-0", "--null", "nul", is_flag=True, help="Input paths on stdin are NUL-separated (find -print0).")
@db_options
@verbosity_options
def cli(paths, nul, db_path, no_db, verbose, quiet):
    """Add metadata to records: all exiftool tags, the capture date, MIME type, camera make and model.

    Reads the JSON lines of shashin-hash (or bare paths) and writes them out again,
    in order, with "metadata" (every tag as exiftool -G -n names it), "taken_at"
    (ISO 8601, with the offset when the file records one), "taken_at_source",
    "mime_type", "make" and "model"; and stores them in the database.

    One exiftool process serves the whole run. A file whose metadata is stored
    and which has not changed since is not read again.

    Exit status: 0 all inputs handled, 1 some files failed, 2 usage or database error.
    """
    if not exif.available():
        raise SetupError("exiftool not found: install it (Debian: apt-get install libimage-exiftool-perl)")
    store = open_store(db_path, no_db)
    reporter = Reporter("shashin-meta", verbose, quiet)
    batch = []
    with exif.Session() as session:
        for item in input_items(paths, nul, reporter):
            batch.append(item)
            if len(batch) >= BATCH:
                _enrich(batch, store, session, reporter)
                batch = []
        _enrich(batch, store, session, reporter)
    return reporter.finish(("read", "cached", "skipped", "failed"))


def _enrich(items, store, session, reporter):
    records, to_read = [], []
    paths = [os.path.abspath(path) for path, _ in items]
    rows = store.images_by_path(paths) if store else {}
    for path, (_, given) in zip(paths, items):
        row = rows.get(path)
        record = dict(given) if given else {f: row[f] for f in HASH_FIELDS} if row else {}
        record["path"] = path
        try:
            status = os.stat(path)
        except OSError as error:
            reporter.count("failed")
            reporter.error(path, os_error_text(error))
            continue
        if not stat.S_ISREG(status.st_mode):
            # A FIFO would block exiftool for ever, and /dev/zero never ends.
            reporter.count("skipped")
            reporter.skip(path, "not a regular file")
            continue
        record["size"], record["mtime"] = status.st_size, status.st_mtime
        if row and row["metadata"] and (row["size"], row["mtime"]) == (status.st_size, status.st_mtime):
            record.update({field: row[field] for field in META_FIELDS})
            record["metadata"] = json.loads(row["metadata"])
            reporter.count("cached")
        else:
            to_read.append(record)
        records.append(record)
    read = {}
    for path, tags, error in session.read(record["path"] for record in to_read):
        if error:
            reporter.count("failed")
            reporter.error(path, error)
        else:
            reporter.count("read")
            read[path] = tags
    fresh = []
    for record in to_read:
        tags = read.get(record["path"])
        if tags is not None:
            record["metadata"] = tags
            record.update(exif.derived_fields(tags))
            fresh.append(record)
    if store and fresh:
        store.save_metadata(fresh)
    unread = {id(record) for record in to_read} - {id(record) for record in fresh}
    for record in records:
        # A record that came in with metadata but could not be read again is not passed on stale.
        if id(record) not in unread:
            write_record(record)
