"""shashin-group: exact and near-duplicate groups of the hashed files, into the database and as JSON lines."""

import os
import sys

import click
from wand.exceptions import WandException

from .. import imaging, records, similarity
from ..workers import Workers
from .common import (
    INPUT_PATH,
    JOBS,
    Reporter,
    SetupError,
    command,
    db_options,
    open_store,
    shown,
    verbosity_options,
    write_record,
)

SAVE_EVERY = 500


@command(
    "shashin-group",
    examples="""
  shashin-group                                  # group everything shashin-hash stored
  shashin-group --threshold 8 | jq -c .paths     # a wider search: slower, may find more
  shashin-group --not-duplicates a.jpg b.jpg     # never group these two again, then regroup
  shashin-hash --no-db ~/Pictures | shashin-group --no-db - --threshold 4
""",
)
@click.argument("paths", nargs=-1, type=INPUT_PATH)
@click.option(
    "--threshold",
    type=click.IntRange(0, 32),
    default=similarity.DEFAULT_THRESHOLD,
    show_default=True,
    help="Largest dHash distance (bits of 64) at which two images become a candidate pair.",
)
@click.option(
    "--rotations/--no-rotations",
    default=True,
    show_default=True,
    help="Also match copies rotated by 90/180/270 degrees or mirrored.",
)
@click.option(
    "--not-duplicates",
    is_flag=True,
    help="Record that the PATHS (two or more hashed files) are not duplicates of each other, then regroup.",
)
@click.option("-j", "--jobs", type=JOBS, help="Processes decoding thumbnails.  [default: all CPUs]")
@db_options
@verbosity_options
def cli(paths, threshold, rotations, not_duplicates, jobs, db_path, no_db, verbose, quiet):
    """Group duplicate photos: byte-identical files, and copies that look the same.

    Reads the hashed files from the database, or the JSON lines of shashin-hash from
    stdin when PATHS is "-". Files that no longer exist, or changed since they were
    hashed, are left out. Writes one JSON line per group to stdout and replaces the
    grouping in the database in one transaction.

    A pair of images within --threshold bits (any rotation or mirror, or the central
    90% of one against the other) is then verified on the stored thumbnails; it is
    similar when their gradient images correlate after alignment. Every two members
    of a similar group are similar to each other: there is no chaining. Near-uniform
    images (black or white frames) only form exact groups. Pairs recorded as not
    duplicates (by md5, so across renames and rescans) are never grouped.

    With --no-db there are no thumbnails: pairs are grouped by upright dHash distance
    alone, so use a small --threshold (about 4).

    Exit status: 0 grouped, 1 some inputs were unusable, 2 usage or database error.
    """
    store = open_store(db_path, no_db)
    from_stdin = paths == ("-",)
    if not_duplicates:
        if store is None:
            raise click.UsageError("--not-duplicates needs the database (drop --no-db)")
        _record_not_duplicates(store, paths)
    elif paths and not from_stdin:
        raise click.UsageError('PATHS is "-" to read JSON lines, or files with --not-duplicates')
    elif store is None and not from_stdin:
        raise click.UsageError('--no-db needs the hashes on stdin: shashin-group --no-db -')
    reporter = Reporter("shashin-group", verbose, quiet)
    files, same = similarity.one_path_per_file(
        _present(_stdin_files(reporter) if from_stdin else store.hashed_files(), reporter)
    )
    for path, kept in same:
        reporter.count("same file")
        reporter.skip(path, "the same file as {} (one file, two paths), not a copy of it".format(shown(kept)))
    if store:
        _fingerprint(store, {md5 for _, md5, _ in files}, jobs or os.cpu_count() or 1, reporter)
        prints, spreads = store.fingerprints()
        for path, md5, _ in files:
            if md5 not in prints:
                reporter.count("without thumbnail")
                reporter.skip(path, "no thumbnail in the database: only exact copies can be found")
        groups = similarity.find_groups(
            [(path, md5) for path, md5, _ in files],
            prints,
            threshold,
            rotations,
            view=store.view,
            spread=spreads,
            ignored=store.not_duplicates(),
        )
        ids = store.replace_groups(groups)
    else:
        prints = {md5: [similarity.hash_int(dhash)] for _, md5, dhash in files if dhash}
        groups = similarity.find_groups([(path, md5) for path, md5, _ in files], prints, threshold, rotations)
        ids = range(1, len(groups) + 1)
    for group_id, group in zip(ids, groups):
        write_record(
            {
                "group": group_id,
                "kind": group.kind,
                "paths": [path for path, _, _ in group.members],
                "max_distance": group.max_distance,
            }
        )
    reporter.counts["files"] = len(files)
    for kind in ("exact", "similar"):
        reporter.counts[kind] = sum(1 for group in groups if group.kind == kind)
    extra = tuple(count for count in ("same file", "without thumbnail") if count in reporter.counts)
    return reporter.finish(("files", "exact", "similar", "missing", "changed") + extra + ("failed",))


def _record_not_duplicates(store, paths):
    absolute = [os.path.abspath(path) for path in paths]
    rows = store.images_by_path(absolute)
    unknown = [path for path in absolute if not (rows.get(path) or {}).get("md5")]
    if unknown:
        raise SetupError("not hashed, run shashin-hash first: {}".format(", ".join(map(shown, unknown))))
    md5s = {rows[path]["md5"] for path in absolute}
    if len(md5s) < 2:
        raise click.UsageError("--not-duplicates needs two or more files with different contents")
    store.add_not_duplicates(md5s, source="cli")


def _stdin_files(reporter):
    """``(path, size, mtime, md5, dhash)`` from the JSON lines of shashin-hash."""
    if sys.stdin.isatty():
        raise click.UsageError("pipe the JSON lines of shashin-hash into shashin-group -")
    for path, record in records.read_items(sys.stdin.buffer):
        if record is None or not record.get("md5"):
            reporter.count("failed")
            reporter.error(path, "not a JSON line of shashin-hash (no md5)")
            continue
        yield os.path.abspath(path), record.get("size"), record.get("mtime"), record["md5"], record.get("dhash")


def _present(files, reporter):
    """``(path, md5, dhash, (device, inode))`` of the files still on disk as they were hashed."""
    for path, size, mtime, md5, dhash in files:
        try:
            stat = os.stat(path)
        except OSError:
            reporter.count("missing")
            reporter.skip(path, "no longer exists")
            continue
        if size is not None and (stat.st_size != size or (mtime is not None and stat.st_mtime != mtime)):
            reporter.count("changed")
            reporter.skip(path, "changed since it was hashed (run shashin-hash again)")
            continue
        yield path, md5, dhash, (stat.st_dev, stat.st_ino)


def _fingerprint(store, md5s, jobs, reporter):
    """Derive and store the fingerprints missing for these contents, from their thumbnails."""
    with Workers(jobs, imaging.configure, died=_died, inline_below=SAVE_EVERY, chunksize=32) as workers:
        for batch in store.thumbnails_to_fingerprint(md5s, SAVE_EVERY):
            rows = []
            for md5, outcome in workers.map(_fingerprint_one, batch):
                if isinstance(outcome, str):  # a damaged thumbnail only costs that content its similar matches
                    reporter.count("failed")
                    reporter.error("thumbnail " + md5, outcome)
                else:
                    rows.append((md5, *outcome))
                    reporter.progress.update()
            store.save_fingerprints(rows)


def _died(item):
    return item[0], "the worker process reading it died (killed, or crashed in the decoder)"


def _fingerprint_one(item):
    md5, jpeg = item
    try:
        return md5, similarity.fingerprint(jpeg)
    except WandException as error:
        return md5, str(error).splitlines()[0]
