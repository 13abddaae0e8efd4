"""shashin-hash: md5, perceptual hash and thumbnail of image and video files, as JSON lines and into the database."""

import collections
import time

import click

from ..hashing import HASHED, KNOWN_BAD, REUSED, hash_paths
from ..outcomes import CACHED, FAILED, SKIPPED
from .common import JOBS, Tool, null_option, paths_argument, write_record

SAVE_EVERY = 256
#: A record waits at most this long (while files keep coming) to be saved and printed.
SAVE_SECONDS = 0.5


class Hash(Tool):
    """Hash image and video files: md5 of the bytes, 64-bit difference hash and a JPEG thumbnail 256 px
    long (144 px on its short side at least, up to 768 long).

    A video's keyframes are decoded (never every frame) into its fingerprint, a
    difference hash of the frame shown at every second, and its poster frame is
    its thumbnail; its record has its duration, frame rate, codec, bit rate and
    rotation too.

    Reads paths from the arguments, or from stdin one per line (or NUL-separated
    with -0, or JSON lines with a "path" key). Folders are walked, skipping NAS
    and trash folders; symbolic links are never followed. Writes one JSON line per
    image or video to stdout, in input order, once its row is in the database.

    A file whose size and mtime match its row is not read again, and a file whose
    md5 is already known (a move or a copy) is not decoded again. Files that fail
    are reported on stderr, one line each, and remembered until they change.

    Files that failed before and have not changed since (known bad) are counted in
    one line, listed with -v, and do not make the exit status 1 again.

    Exit status: 0 all inputs handled, 1 some files failed, 2 usage or database error.
    """

    name = "shashin-hash"
    examples = """
  find ~/Pictures -type f -print0 | shashin-hash -0 | shashin-meta
  shashin-hash ~/Pictures /mnt/nas/photos        # folders are walked
  shashin-hash --prune ~/Pictures               # forget files deleted since the last scan
  shashin-hash --no-db photo.jpg | jq .dhash
"""
    params = [
        paths_argument(),
        null_option(),
        click.Option(["-j", "--jobs"], type=JOBS, help="Worker processes.  [default: all CPUs]"),
        click.Option(
            ["--prune"],
            multiple=True,
            type=click.Path(file_okay=False),
            help="After hashing, delete rows of files under this folder that no longer exist (repeatable).",
        ),
    ]
    summary = (HASHED, CACHED, REUSED, SKIPPED, FAILED)

    def main(self, paths, nul, jobs, prune):
        if prune and self.store is None:
            raise click.UsageError("--prune needs the database (drop --no-db)")
        if paths or not prune or not click.get_text_stream("stdin").isatty():
            self._hash(self.inputs(paths, nul), jobs)
        if prune:
            self.reporter.counts["pruned"] = self.store.prune(prune)
            self.summary += ("pruned",)
        known_bad = self.reporter.counts.get(KNOWN_BAD)
        if known_bad and not self.reporter.quiet:
            self.reporter.say("{} known-bad files (unchanged since they failed; -v lists them)".format(known_bad))

    def _hash(self, items, jobs):
        store, reporter = self.store, self.reporter
        hashed, thumbnails, fingerprints, failures, identified = [], {}, {}, [], []
        # Records are printed only once their rows are saved: shashin-meta saves the metadata of what it reads,
        # and a row saved after that would empty it (a new hash makes the row's metadata stale).
        pending = collections.deque()
        saved_at = time.monotonic()

        def save():
            nonlocal saved_at
            if store:
                if hashed:
                    store.save_hashed(hashed, thumbnails)
                if fingerprints:
                    store.save_video_frames(fingerprints)
                if failures:
                    store.save_failures(failures)
                if identified:
                    store.save_identities(identified)
            hashed.clear(), thumbnails.clear(), fingerprints.clear(), failures.clear(), identified.clear()
            # One at a time off the queue: interrupted while printing, the finally's save prints none twice.
            while pending:
                write_record(pending.popleft())
            saved_at = time.monotonic()

        try:
            for outcome in hash_paths((path for path, _ in items), store, jobs):
                reporter.count(outcome.status)
                if outcome.status == SKIPPED:
                    reporter.skip(outcome.path, outcome.message)
                elif outcome.status == KNOWN_BAD:
                    reporter.skip(outcome.path, outcome.message + " (unchanged since it failed)")
                elif outcome.status == FAILED:
                    reporter.error(outcome.path, outcome.message)
                    if outcome.record:  # a failure with a record is remembered until the file changes
                        record = outcome.record
                        failures.append((record["path"], record["size"], record["mtime"], outcome.message))
                elif store:
                    if outcome.status != CACHED:
                        hashed.append(outcome.record)
                        if outcome.thumbnail:
                            thumbnails[outcome.record["md5"]] = outcome.thumbnail
                        if outcome.fingerprint is not None:
                            fingerprints[outcome.record["md5"]] = outcome.fingerprint
                    elif outcome.identity_changed:
                        identified.append(outcome.record)
                    # In input order: a cached record waits behind those not saved yet.
                    if pending or outcome.status != CACHED or outcome.identity_changed:
                        pending.append(outcome.record)
                    else:
                        write_record(outcome.record)
                else:  # --no-db: nothing to save
                    write_record(outcome.record)
                waited = time.monotonic() - saved_at >= SAVE_SECONDS
                if len(pending) + len(failures) >= SAVE_EVERY or (waited and (pending or failures)):
                    save()
        finally:
            # Interrupted (Ctrl-C, a closed pipe) or not, what was hashed is kept: the next run goes on from there.
            save()


cli = Hash.command()
