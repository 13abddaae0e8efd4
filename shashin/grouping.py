"""Grouping the hashed files into exact copies and near-duplicates, and storing the grouping.

Files that are gone or changed since they were hashed are left out, and so is every path to
a file but one. With a database, each content's fingerprint is derived once from its stored
thumbnail (on worker processes) and candidate pairs are verified on the fingerprints' views,
and look-alikes that their cameras' EXIF says are different shots are taken out of copy groups
into series groups (:mod:`.captures`); videos are grouped apart by their frames (:mod:`.video_groups`);
without one, pairs are grouped by upright dHash distance alone (and videos, which have none, only by md5).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from threadpoolctl import threadpool_limits

from . import captures, similarity, video_groups
from .files import unchanged_since_scan
from .hamming import DEFAULT_HASH_DISTANCE
from .outcomes import FAILED, Outcome
from .workers import Workers

if TYPE_CHECKING:
    from .store import Store

#: Statuses of the files: grouped (or alone), or left out and why.
GROUPED, SAME_FILE, MISSING, CHANGED, WITHOUT_THUMBNAIL = (
    "files",
    "same file",
    "missing",
    "changed",
    "without thumbnail",
)
FINGERPRINTED = "fingerprinted"
#: A Live Photo's movie: its photo's companion, grouped with nothing.
COMPANION = "companion"
#: Fingerprints derived and stored together.
SAVE_EVERY = 500
#: Fewer thumbnails than this are fingerprinted in this process: forking workers that load ImageMagick costs more.
INLINE_BELOW = 16


@dataclass
class Fingerprinting:
    """The fingerprinting of ``total`` thumbnails begins (an outcome of :func:`group_library`)."""

    total: int


def group_library(
    files: Iterable[tuple],
    store: Store | None = None,
    threshold: int = DEFAULT_HASH_DISTANCE,
    rotations: bool = True,
    jobs: int | None = None,
) -> Iterator[Outcome]:
    """Yield an :class:`Outcome` per file, :class:`Fingerprinting`, an outcome per fingerprint, then one per group.

    ``files`` are ``(path, size, mtime, md5, dhash)``; size and mtime may be None (not
    checked). With a ``store`` the missing fingerprints and then the grouping are stored
    (replacing the last one); a group's outcome has the group's kind as status and its
    JSON line as record.
    """
    # OpenBLAS's threads spin between the many small products of fingerprints and matching (each view's and
    # region's dHash, each pair's gradients): on two cores they took half the grouping's CPU time. Forked
    # workers inherit the limit.
    threadpool_limits(1, user_api="blas")
    left_out: list[Outcome] = []
    present, same = similarity.one_path_per_file(_present(files, left_out))
    yield from left_out
    for path, kept in same:
        yield Outcome(
            path, SAME_FILE, message="the same file as {} (one file, two paths), not a copy of it".format(kept)
        )
    for path, _, _ in present:
        yield Outcome(path, GROUPED)
    members = [(path, md5) for path, md5, _ in present]
    if store is None:
        prints = {md5: [similarity.hash_int(dhash)] for _, md5, dhash in present if dhash}
        groups = similarity.find_groups(members, prints, threshold, rotations)
        ids = range(1, len(groups) + 1)
    else:
        # Photos and videos never group together: each kind goes its own way.
        videos = store.video_fingerprints(md5 for _, md5 in members)
        clips = [(path, md5) for path, md5 in members if md5 in videos]
        members = [(path, md5) for path, md5 in members if md5 not in videos]
        movies = video_groups.live_photo_movies(clips, members, store.video_durations(videos))
        for path, photo in movies.items():
            yield Outcome(path, COMPANION, message="the Live Photo movie of {}: its companion, no copy".format(photo))
        yield from _fingerprint(store, {md5 for _, md5 in members}, jobs or os.cpu_count() or 1)
        prints, spreads = store.fingerprints()
        for path, md5 in members:
            if md5 not in prints:
                yield Outcome(
                    path, WITHOUT_THUMBNAIL, message="no thumbnail in the database: only exact copies can be found"
                )
        ignored = store.not_duplicates()

        def find(files, apart):
            return similarity.find_groups(
                files,
                prints,
                threshold,
                rotations,
                view=store.view,
                spread=spreads,
                ignored=apart,
                thumbnail=store.thumbnail,
            )

        groups = _captures_apart(find(members, ignored), find, store, prints, rotations, ignored)
        clips = [(path, md5) for path, md5 in clips if path not in movies]
        groups = sorted(
            groups + video_groups.find_groups(clips, videos, rotations, ignored), key=lambda group: group.members[0][0]
        )
        ids = store.replace_groups(groups)
        store.forget_unused_video_frames()
    for group_id, group in zip(ids, groups):
        record = {
            "group": group_id,
            "kind": group.kind,
            "paths": [path for path, _, _ in group.members],
            "max_distance": group.max_distance,
            "identical_to": {
                path: first for (path, _, _), first in zip(group.members, group.identical_to) if first is not None
            },
        }
        yield Outcome(None, group.kind, record)


def _captures_apart(groups, regroup, store, prints, rotations, ignored):
    """The groups with different captures of one camera (brackets, bursts) taken out of copy groups
    (:func:`captures.split`); ``regroup(files, apart)`` groups files again."""
    md5s = {md5 for group in groups if group.kind == "similar" for _, md5, _ in group.members}
    evidence_of = {md5: captures.evidence(row) for md5, row in store.capture_rows(md5s).items()}

    def group_of(members, kind):
        paths_of = {}
        for path, md5, _ in members:
            paths_of.setdefault(md5, []).append(path)
        md5s = list(paths_of)
        return similarity.similar_group(md5s, [prints[md5] for md5 in md5s], paths_of, rotations, kind)

    return captures.split(groups, evidence_of, regroup, group_of, ignored)


def _present(files, left_out):
    """``(path, md5, dhash, (device, inode))`` of the files still on disk as they were hashed; the outcomes
    of the others go to ``left_out``."""
    for path, size, mtime, md5, dhash in files:
        try:
            status = os.stat(path)
        except OSError:
            left_out.append(Outcome(path, MISSING, message="no longer exists"))
            continue
        row = {"size": status.st_size if size is None else size, "mtime": status.st_mtime if mtime is None else mtime}
        if not unchanged_since_scan(row, status):
            left_out.append(Outcome(path, CHANGED, message="changed since it was hashed (run shashin-hash again)"))
            continue
        yield path, md5, dhash, (status.st_dev, status.st_ino)


def _fingerprint(store, md5s, jobs):
    """Derive and store the fingerprints missing for these contents, from their thumbnails."""
    total, batches = store.thumbnails_to_fingerprint(md5s, SAVE_EVERY)
    yield Fingerprinting(total)
    # fork, started in milliseconds: the commands load neither ImageMagick nor OpenCV in this process before
    # (small batches run here, and are the last), and the workers never use its SQLite connection.
    workers = Workers(jobs, _decoder_setup, died=_died, inline_below=INLINE_BELOW, chunksize=8, start_method="fork")
    with workers:
        for batch in batches:
            rows = []
            for md5, fingerprint in workers.map(_fingerprint_one, batch):
                if isinstance(fingerprint, str):  # a damaged thumbnail only costs that content its similar matches
                    yield Outcome("thumbnail " + md5, FAILED, message=fingerprint)
                else:
                    rows.append((md5, *fingerprint))
                    yield Outcome(md5, FINGERPRINTED)
            store.save_fingerprints(rows)


def _died(item):
    return item[0], "the worker process reading it died (killed, or crashed in the decoder)"


def _decoder_setup():
    # Imported here: a regrouping with every fingerprint stored never loads ImageMagick.
    from . import imaging

    imaging.configure()


def _fingerprint_one(item):
    from . import imaging, verify

    md5, jpeg = item
    try:
        view = imaging.view_from_thumbnail(jpeg)
    except imaging.ImageError as error:
        return md5, str(error)
    grey = verify.grey(jpeg)
    if grey is None:
        return md5, "the thumbnail could not be decoded"
    return md5, similarity.fingerprint(view, grey)
