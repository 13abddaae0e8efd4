"""shashin-group: exact and near-duplicate groups of the hashed files, into the database and as JSON lines."""

import os
import sys

import click

from .. import records
from ..captures import SERIES
from ..grouping import (
    CHANGED,
    COMPANION,
    FINGERPRINTED,
    GROUPED,
    MISSING,
    SAME_FILE,
    WITHOUT_THUMBNAIL,
    Fingerprinting,
    group_library,
)
from ..hamming import DEFAULT_HASH_DISTANCE
from ..outcomes import FAILED
from .common import INPUT_PATH, JOBS, SetupError, Tool, shown, write_record

#: Statuses counted for the summary line without moving the progress bar: it counts files, then fingerprints.
TALLIED = (WITHOUT_THUMBNAIL, "exact", "similar", SERIES)


class Group(Tool):
    """Group duplicate photos and videos: byte-identical files, and copies that look the same.

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

    Look-alikes that their cameras' EXIF says are different shots (the same camera,
    another exposure, sub-second time, image number or burst id: a bracket, a burst)
    are never copies: they form "series" groups, similar shots to pick the best of.

    Videos group with videos only: byte-identical ones, and copies whose frames line
    up at one offset and quarter turn over at least half of the longer one
    (re-encoded, resized, compressed, rotation flag changed, trimmed). A Live Photo's
    movie (a clip of up to 4 s named like a photo beside it) is its photo's
    companion and is grouped with nothing.

    With --no-db there are no thumbnails: pairs are grouped by upright dHash distance
    alone, so use a small --threshold (about 4).

    Exit status: 0 grouped, 1 some inputs were unusable, 2 usage or database error.
    """

    name = "shashin-group"
    examples = """
  shashin-group                                  # group everything shashin-hash stored
  shashin-group --threshold 8 | jq -c .paths     # a wider search: slower, may find more
  shashin-group --not-duplicates a.jpg b.jpg     # never group these two again, then regroup
  shashin-hash --no-db ~/Pictures | shashin-group --no-db - --threshold 4
"""
    params = [
        click.Argument(["paths"], nargs=-1, type=INPUT_PATH),
        click.Option(
            ["--threshold"],
            type=click.IntRange(0, 32),
            default=DEFAULT_HASH_DISTANCE,
            show_default=True,
            help="Largest dHash distance (bits of 64) at which two images become a candidate pair.",
        ),
        click.Option(
            ["--rotations/--no-rotations"],
            default=True,
            show_default=True,
            help="Also match copies rotated by 90/180/270 degrees or mirrored.",
        ),
        click.Option(
            ["--not-duplicates"],
            is_flag=True,
            help="Record that the PATHS (two or more hashed files) are not duplicates of each other, then regroup.",
        ),
        click.Option(["-j", "--jobs"], type=JOBS, help="Processes decoding thumbnails.  [default: all CPUs]"),
    ]
    creates_database = False

    def main(self, paths, threshold, rotations, not_duplicates, jobs):
        store, reporter = self.store, self.reporter
        from_stdin = paths == ("-",)
        if not_duplicates:
            if store is None:
                raise click.UsageError("--not-duplicates needs the database (drop --no-db)")
            _record_not_duplicates(store, paths)
        elif paths and not from_stdin:
            raise click.UsageError('PATHS is "-" to read JSON lines, or files with --not-duplicates')
        elif store is None and not from_stdin:
            raise click.UsageError("--no-db needs the hashes on stdin: shashin-group --no-db -")
        if from_stdin:
            files = self._stdin_files()
        else:
            files = list(store.hashed_files())
            reporter.expect(len(files))
        for outcome in group_library(files, store, threshold, rotations, jobs):
            if isinstance(outcome, Fingerprinting):
                reporter.expect(outcome.total)
                continue
            if outcome.status == FINGERPRINTED:
                reporter.advance()
            elif outcome.status in TALLIED:
                reporter.tally(outcome.status)
            else:
                reporter.count(outcome.status)
            if outcome.record is not None:
                write_record(outcome.record)
            elif outcome.status == FAILED:
                reporter.error(outcome.path, outcome.message)
            elif outcome.message:
                reporter.skip(outcome.path, outcome.message)
        extra = tuple(count for count in (SAME_FILE, WITHOUT_THUMBNAIL, COMPANION) if count in reporter.counts)
        self.summary = (GROUPED, "exact", "similar", SERIES, MISSING, CHANGED) + extra + (FAILED,)

    def _stdin_files(self):
        """``(path, size, mtime, md5, dhash)`` from the JSON lines of shashin-hash."""
        if sys.stdin.isatty():
            raise click.UsageError("pipe the JSON lines of shashin-hash into shashin-group -")
        for path, record in records.read_items(sys.stdin.buffer):
            if record is None or not record.get("md5"):
                self.reporter.count(FAILED)
                self.reporter.error(path, "not a JSON line of shashin-hash (no md5)")
                continue
            yield os.path.abspath(path), record.get("size"), record.get("mtime"), record["md5"], record.get("dhash")


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


cli = Group.command()
