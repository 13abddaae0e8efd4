"""shashin-hash: md5, perceptual hash and thumbnail of image files, as JSON lines and into the database."""

import click

from ..hashing import CACHED, FAILED, HASHED, REUSED, SKIPPED, hash_paths
from .common import (
    INPUT_PATH,
    JOBS,
    Reporter,
    command,
    db_options,
    input_items,
    open_store,
    verbosity_options,
    write_record,
)

SAVE_EVERY = 256


@command(
    "shashin-hash",
    examples="""
  find ~/Pictures -type f -print0 | shashin-hash -0 | shashin-meta
  shashin-hash ~/Pictures /mnt/nas/photos        # folders are walked
  shashin-hash --prune ~/Pictures               # forget files deleted since the last scan
  shashin-hash --no-db photo.jpg | jq .dhash
""",
)
@click.argument("paths", nargs=-1, type=INPUT_PATH)
@click.option("-0", "--null", "nul", is_flag=True, help="Input paths on stdin are NUL-separated (find -print0).")
@click.option("-j", "--jobs", type=JOBS, help="Worker processes.  [default: all CPUs]")
@click.option(
    "--prune",
    "prune",
    multiple=True,
    type=click.Path(file_okay=False),
    help="After hashing, delete rows of files under this folder that no longer exist (repeatable).",
)
@db_options
@verbosity_options
def cli(paths, nul, jobs, prune, db_path, no_db, verbose, quiet):
    """Hash image files: md5 of the bytes, 64-bit difference hash and a 256 px JPEG thumbnail.

    Reads paths from the arguments, or from stdin one per line (or NUL-separated
    with -0, or JSON lines with a "path" key). Folders are walked, skipping NAS
    and trash folders; symbolic links are never followed. Writes one JSON line per
    image to stdout, in input order, and upserts it into the database.

    A file whose size and mtime match its row is not read again, and a file whose
    md5 is already known (a move or a copy) is not decoded again. Files that fail
    are reported on stderr, one line each, and remembered until they change.

    Exit status: 0 all inputs handled, 1 some files failed, 2 usage or database error.
    """
    store = open_store(db_path, no_db)
    if prune and store is None:
        raise click.UsageError("--prune needs the database (drop --no-db)")
    reporter = Reporter("shashin-hash", verbose, quiet)
    if paths or not prune or not click.get_text_stream("stdin").isatty():
        _hash(input_items(paths, nul, reporter), store, jobs, reporter)
    if prune:
        removed = store.prune(prune)
        reporter.counts["pruned"] = removed
    return reporter.finish((HASHED, CACHED, REUSED, SKIPPED, FAILED) + (("pruned",) if prune else ()))


def _hash(items, store, jobs, reporter):
    hashed, thumbnails, failures, identified = [], {}, [], []

    def save():
        if store:
            if hashed:
                store.save_hashed(hashed, thumbnails)
            if failures:
                store.save_failures(failures)
            if identified:
                store.save_identities(identified)
        hashed.clear(), thumbnails.clear(), failures.clear(), identified.clear()

    try:
        for outcome in hash_paths((path for path, _ in items), store, jobs):
            reporter.count(outcome.status)
            if outcome.status == SKIPPED:
                reporter.skip(outcome.path, outcome.message)
            elif outcome.status == FAILED:
                reporter.error(outcome.path, outcome.message)
                if outcome.record:  # a failure with a record is remembered until the file changes
                    record = outcome.record
                    failures.append((record["path"], record["size"], record["mtime"], outcome.message))
            else:
                if outcome.status != CACHED:  # kept before it is printed: a printed record is never lost
                    hashed.append(outcome.record)
                    if outcome.thumbnail:
                        thumbnails[outcome.record["md5"]] = outcome.thumbnail
                elif outcome.identity_changed:
                    identified.append(outcome.record)
                write_record(outcome.record)
            if len(hashed) + len(failures) + len(identified) >= SAVE_EVERY:
                save()
    finally:
        # Interrupted (Ctrl-C, a closed pipe) or not, what was hashed is kept: the next run goes on from there.
        save()

