"""Hashing files: md5, difference hash and thumbnail, on all cores, reusing what the database knows.

The parent process stats each file and answers unchanged files from the database; only
new or changed files go to the worker processes, and their results come back in input order.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

from . import formats
from .files import error_text, skipped_folder_of, unchanged_since_scan
from .outcomes import CACHED, FAILED, SKIPPED, Outcome
from .records import IDENTITY_FIELDS, hash_record
from .store import Store
from .workers import Workers

HASHED, REUSED = "hashed", "reused"
#: A file that failed before and has not changed since: not read again, and not a new failure.
KNOWN_BAD = "known bad"
#: Paths stat-ed and looked up in the database together.
BATCH = 512


@dataclass
class HashOutcome(Outcome):
    """What happened to one input path (a failure with a record is one to remember)."""

    thumbnail: bytes | None = None
    #: A video's fingerprint (:class:`shashin.video.Fingerprint`), to be stored.
    fingerprint: object = None
    #: A cached file whose identity the database lacks or has wrong (a relinked folder, an older database).
    identity_changed: bool = False


def hash_paths(paths: Iterable[str], store: Store | None = None, jobs: int | None = None) -> Iterator[HashOutcome]:
    """Yield a :class:`HashOutcome` for each path, in input order.

    ``store`` (a :class:`~shashin.store.Store` or None) provides the rapid rescan and
    receives nothing: saving is the caller's job, batch by batch. Workers are forked, so
    the calling process must not have loaded ImageMagick (the commands never do).
    """
    db_path = store.path if store else None
    # fork: this process never decodes, so workers inherit no ImageMagick or exiftool state,
    # and they never use its SQLite connection (a worker exits without closing it).
    jobs = jobs or os.cpu_count() or 1
    # What a folder is (its real path, a folder scans never enter) is asked once a run, not once a file.
    folders: dict[str, _Folder] = {}
    with Workers(jobs, _worker_setup, (db_path,), died=_died, inline_below=0, start_method="fork") as workers:
        paths = iter(paths)
        while batch := list(itertools.islice(paths, BATCH)):
            yield from _hash_batch(batch, store, workers, folders)


def _hash_batch(paths, store, workers, folders):
    absolute = [os.path.abspath(p) for p in paths]
    stats = {}
    outcomes = {}
    for path in absolute:
        skipped = _folder(path, folders).skipped
        if skipped:
            message = "inside {}, a folder scans never enter".format(skipped)
            outcomes[path] = HashOutcome(path, SKIPPED, message=message)
            continue
        try:
            status = os.stat(path)
        except OSError as error:
            outcomes[path] = HashOutcome(path, FAILED, message=error_text(error))
            continue
        if stat.S_ISREG(status.st_mode):
            stats[path] = status
        else:
            # A FIFO or a device would block the worker that opened it, or never end.
            outcomes[path] = HashOutcome(path, SKIPPED, message="not a regular file")
    known = store.images_by_path(stats) if store else {}
    failures = store.failures_by_path(stats) if store else {}
    # A cached video's record holds its frame hashes, read from its stored fingerprint.
    videos = (
        store.video_fingerprints(row["md5"] for row in known.values() if row["duration"] is not None) if known else {}
    )
    work = []
    for path, status in stats.items():
        row = known.get(path)
        failure = failures.get(path)
        if row and row["md5"] and unchanged_since_scan(row, status):
            record = dict(hash_record(row), **_identity(path, status, folders))
            if row["md5"] in videos:
                record["frame_hashes"] = videos[row["md5"]].hex()
            moved = any(row[field] != record[field] for field in IDENTITY_FIELDS)
            outcomes[path] = HashOutcome(path, CACHED, record=record, identity_changed=moved)
        elif failure and unchanged_since_scan(failure, status):
            outcomes[path] = HashOutcome(path, KNOWN_BAD, message=failure["error"])
        else:
            work.append((path, status.st_size, status.st_mtime))
    # Yielded as they come, so the caller saves and prints while the workers go on.
    results = iter(workers.map(hash_file, work) if work else ())
    for path in absolute:
        if path not in outcomes:
            outcomes[path] = next(results)
            if outcomes[path].record:
                outcomes[path].record.update(_identity(path, stats[path], folders))
        yield outcomes[path]


def _identity(path, status, folders):
    """The identity fields of a record: the path with every link on the way resolved, device and inode."""
    real_path = os.path.join(_folder(path, folders).real_path, os.path.basename(path))
    return {"real_path": real_path, "device": status.st_dev, "inode": status.st_ino}


class _Folder(NamedTuple):
    real_path: str
    #: The folder on its path, or on its real path (a link to the trash leads inside it), that scans never enter.
    skipped: str | None


def _folder(path, folders):
    folder = os.path.dirname(path)
    if folder not in folders:
        real_path = os.path.realpath(folder)
        skipped = skipped_folder_of(os.path.join(folder, "")) or skipped_folder_of(os.path.join(real_path, ""))
        folders[folder] = _Folder(real_path, skipped)
    return folders[folder]


_worker_store = None


def _worker_setup(db_path):
    global _worker_store
    # Imported here: a rescan of unchanged files never needs ImageMagick loaded.
    from threadpoolctl import threadpool_limits

    from . import imaging

    imaging.configure(threads=1)
    # OpenBLAS's threads spin between the small products of each photo's dHash: with two workers on two cores
    # they took 55% of a 320 px photo's CPU time, and the other worker's core. numpy is loaded before the
    # workers fork, so OPENBLAS_NUM_THREADS would come too late.
    threadpool_limits(1, user_api="blas")
    if db_path and _worker_store is None:
        _worker_store = Store(db_path, readonly=True)


def _died(item):
    # No record, so not remembered as a failure: the out-of-memory killer may have picked the worker for another's sake.
    return HashOutcome(
        item[0], FAILED, message="the worker process hashing it died (killed, or crashed in the decoder)"
    )


def hash_file(item):
    """Hash one file (in a worker): the full work, or reuse of stored content with the same md5.

    The file is decoded through the descriptor its md5 was read from (``/proc/PID/fd/N``), and its
    identity checked again after: a file swapped for another by a rename meanwhile is not decoded in its
    place, and one rewritten in place (its change time moves, whatever its mtime says) is not recorded
    under an md5 its pixels do not have.
    """
    path, size, mtime = item
    record = {"path": path, "size": size, "mtime": mtime}
    try:
        with open(path, "rb") as handle:
            before = _identity_of(handle)
            head = handle.read(formats.HEAD_BYTES)
            is_image = formats.is_image(path, head)
            is_video = not is_image and formats.is_video(path, head)
            if not (is_image or is_video):
                return HashOutcome(path, SKIPPED, message="not an image or a video")
            if size == 0:
                return HashOutcome(path, FAILED, record, "empty file (0 bytes)")
            format_ = formats.video_format_of(path, head) if is_video else formats.format_of(path, head)
            problem = formats.png_text_problem(handle) if format_ == "PNG" else None
            if problem:
                return HashOutcome(path, FAILED, record, problem)
            handle.seek(0)
            record["md5"] = hashlib.file_digest(handle, "md5").hexdigest()
            # By process id, not /proc/self: exiftool reads a RAW file's preview from its own process.
            source = "/proc/{}/fd/{}".format(os.getpid(), handle.fileno())
            outcome = _hash_video(record, format_, source) if is_video else _hash_image(record, format_, source)
            if _identity_of(handle) != before:
                return HashOutcome(path, FAILED, record, "changed while it was read (scan it again)")
            return outcome
    except formats.NotItsFormat as error:
        return HashOutcome(path, FAILED, record, str(error))
    except OSError as error:
        return HashOutcome(path, FAILED, record, error_text(error))


def _identity_of(handle):
    """What changes when an open file's bytes do: an in-place write moves its change time, which no one sets."""
    status = os.fstat(handle.fileno())
    return status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns, status.st_ctime_ns


def _hash_image(record, format_, source):
    """The rest of a photo's hashing (its md5 is known): the stored content's, else decoded from source."""
    path = record["path"]
    stored = _worker_store.content(record["md5"]) if _worker_store else None
    if stored:
        record.update(stored)
        return HashOutcome(path, REUSED, record=record)
    from . import imaging

    try:
        fields, thumbnail = imaging.analyse(path, format_, source)
    except imaging.ImageError as error:
        return HashOutcome(path, FAILED, record, str(error))
    record.update(fields)
    return HashOutcome(path, HASHED, record=record, thumbnail=thumbnail)


def _hash_video(record, format_, source):
    """The rest of a video's hashing (its md5 is known): the stored content's, else decoded from source."""
    from . import imaging, video

    path = record["path"]
    stored = _worker_store.video_content(record["md5"]) if _worker_store else None
    if stored:
        fields, fingerprint = stored
        record.update(fields, frame_hashes=fingerprint.hex())
        return HashOutcome(path, REUSED, record=record)
    try:
        analysis = video.analyse(source, format_)
        _, thumbnail = imaging.thumbnail_of_pixels(analysis.poster)
    except (video.VideoError, imaging.ImageError) as error:
        return HashOutcome(path, FAILED, record, str(error))
    record.update(analysis.fields)
    return HashOutcome(path, HASHED, record=record, thumbnail=thumbnail, fingerprint=analysis.fingerprint)
