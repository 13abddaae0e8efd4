"""Grouping videos: byte-identical copies, and near-duplicates found by lining up their frame hashes.

Each video's fingerprint (:mod:`shashin.video`) is a dHash of the frame shown at every second, in four
quarter turns. Two videos are copies when, at one offset (a copy trimmed at the start begins later in
its original) and one turn (a rotation flag changed or dropped), most of the seconds they share show
the same frame, and they share at least half of the longer one (a copy trimmed down to half its
original's length). Each second is compared with its partner's second and the two beside it: only
keyframes are decoded, and two encodings place their keyframes differently.

Candidates come from the multi-index Hamming search (:mod:`shashin.hamming`) over every frame hash,
never from all pairs; each candidate pair is then lined up in full. Copies join a group through any
member they match (a copy trimmed at the start and one trimmed at the end share little, yet both are
their original's), except across a pair a person said were not duplicates: the verification is strict
enough (on gradients, not hashes alone) that different clips do not chain. Photos and videos never
meet: grouping hands this module the videos only. A Live Photo's movie is its photo's companion, and
is never grouped (:func:`live_photo_movies`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy

from .hamming import hamming_search
from .similarity import Group, pair_key

#: Largest dHash distance (bits of 64) at which a second of one video may show the frame of another's: the
#: candidates' search radius.
FRAME_DISTANCE = 12
#: Gradient correlation from which a second of one video shows the frame of another's.
FRAME_SCORE = 0.5
#: Share of the informative seconds two videos share that must show the same frame.
MIN_MATCHED = 0.8
#: Share of the longer video that the seconds two copies share must cover: a copy trimmed down to half its
#: original is still a copy, a shorter excerpt is not.
MIN_OVERLAP = 0.5
#: Spread of a frame's grey levels (video.Fingerprint.spreads) below which it is near-uniform: a black
#: or white frame, whose hash is noise, counts for nothing.
MIN_SPREAD = 6
#: Informative seconds two videos must share to be lined up (fewer when the longer one is shorter).
MIN_INFORMATIVE = 3
#: Seconds beside a second's partner compared with it: two encodings' keyframes fall up to a second apart.
SLACK = 1
#: Root mean square grey level (of 255) of what moves in a video (:meth:`Frames.moving`) from which what moves in
#: two videos, one of them at least, must move alike for them to be copies: below, it is compression noise.
#: Measured on 16x16 views: a still scene's copies 0.2-1.2 (a messenger copy the most), fixed-camera recordings
#: with a figure walking 0.3-14 (a small or slow figure the least), handheld clips 5-30.
MOTION_LEVEL = 1.5
#: Correlation of their moving parts from which two videos move alike. Measured on 70 fixed-camera scenes:
#: copies 0.15-1.0, other recordings of the scene -0.01-0.66: they overlap (docs/accuracy.md, known limit).
MIN_MOTION_AGREEMENT = 0.25
#: Pairs of seconds compared at a time when lining two videos up: about 60 MB of working memory, whatever their
#: lengths (docs/performance.md).
BLOCK_PAIRS = 1 << 20
#: Seconds a Live Photo's movie may last; a longer video beside a photo of its name is a video of its own.
LIVE_PHOTO_SECONDS = 4.0


@dataclass
class Match:
    """How video b lines up with video a: b's second i shows a's second ``i + offset`` turned ``turn`` quarters;
    ``matched`` is the share of their shared informative seconds that show the same frame, ``distance`` the
    median dHash distance of those seconds, ``shared`` how many seconds they share, ``motion`` how alike what
    moves in them moves (a correlation), None where nothing moves above compression noise."""

    offset: int
    turn: int
    matched: float
    distance: int
    shared: int
    motion: float | None = None


class Frames:
    """What lining up reads of one video's fingerprint, worked out once: its views and their median (a still
    scene's background), its seconds' dHashes in each quarter turn, and which seconds are informative.
    Gradients and moving parts are derived a block at a time as they are compared (:func:`line_up`): kept
    whole in four turns they would take 7.7 kB a second of every video."""

    def __init__(self, fingerprint):
        self.length = len(fingerprint.views)
        self.views = fingerprint.views
        self.hashes = fingerprint.hashes()
        self.informative = fingerprint.spreads() >= MIN_SPREAD
        self.still = numpy.median(fingerprint.views, axis=0).astype(numpy.float32)
        #: Root mean square grey level of what moves in it (:meth:`moving`).
        self.motion = float(numpy.sqrt(numpy.mean(numpy.square(self.moving(0)))))

    def features(self, turn, first=0, last=None):
        """The gradient features of seconds first..last (exclusive) turned ``turn`` quarters."""
        views = self.views[first:last].astype(numpy.float32)
        return _gradients(numpy.rot90(views, turn, axes=(1, 2)))

    def moving(self, turn, first=0, last=None):
        """What moves at seconds first..last (exclusive), turned ``turn`` quarters, flattened: each view less
        the median view, averaged with the seconds beside it (two encodings' keyframes fall up to a second
        apart), in grey levels."""
        last = self.length if last is None else last
        low, high = max(0, first - 1), min(self.length, last + 1)
        moving = self.views[low:high].astype(numpy.float32) - self.still
        padded = numpy.concatenate([moving[:1]] * (first == low) + [moving] + [moving[-1:]] * (last == high))
        smooth = (padded[:-2] + padded[1:-1] + padded[2:]) / 3
        return numpy.rot90(smooth, turn, axes=(1, 2)).reshape(len(smooth), -1)


def _gradients(views):
    """Each view's gradient image, mean removed, as a unit vector: what two frames' correlation compares."""
    gradients = numpy.concatenate(
        [numpy.diff(views, axis=2).reshape(len(views), -1), numpy.diff(views, axis=1).reshape(len(views), -1)], axis=1
    )
    gradients -= gradients.mean(axis=1, keepdims=True)
    return gradients / numpy.maximum(numpy.linalg.norm(gradients, axis=1, keepdims=True), 1e-6)


def line_up(frames_a, frames_b, rotations=True):
    """The best :class:`Match` of two videos' :class:`Frames`, or None when they share too little to be copies.
    Of the offsets and turns whose frames match (MIN_MATCHED), the one whose motion agrees most: two
    recordings of a still scene match at every offset, a copy's motion at one."""
    length_a, length_b = frames_a.length, frames_b.length
    least_shared = max(1, int(numpy.ceil(MIN_OVERLAP * max(length_a, length_b) - 1e-9)))
    offsets = numpy.arange(least_shared - length_b, length_a - least_shared + 1)
    seen_b = (frames_b.features(0), frames_b.moving(0))
    # Whether motion is compared is the pair's, not an offset's: else a few still seconds would win.
    moves = max(frames_a.motion, frames_b.motion) >= MOTION_LEVEL
    best, best_key = None, None
    for turn in range(4) if rotations else [0]:
        tally = _tally(frames_a, frames_b, seen_b, turn)
        # Index k of the tallies is offset k - (length_b - 1).
        tally = [column[offsets + length_b - 1] for column in tally]
        for offset, count, same, distances, dots, energy_a, energy_b in zip(offsets.tolist(), *tally):
            if count < min(MIN_INFORMATIVE, least_shared):
                continue
            motion = float(dots / max(1e-9, numpy.sqrt(energy_a * energy_b))) if moves else None
            match = Match(offset, turn, int(same) / int(count), _median(distances, count), int(count), motion)
            key = (match.matched >= MIN_MATCHED, 1.0 if motion is None else motion, match.matched, -match.distance)
            if best_key is None or key > best_key:
                best, best_key = match, key
    return best


def _tally(frames_a, frames_b, seen_b, turn):
    """For each offset of b in a (index: offset + length_b - 1), over the seconds both find informative: how
    many they share, how many show the same frame (b's second against a's partner second and the seconds
    beside it, as two encodings place keyframes up to a second apart), a histogram of their dHash distances,
    and the sums that correlate their moving parts (products, each one's energy). ``seen_b`` is b's gradient
    features and moving parts. Worked out over blocks of a's seconds, so that memory stays within BLOCK_PAIRS
    pairs of seconds however long the videos."""
    length_a, length_b = frames_a.length, frames_b.length
    features_b, moving_b = seen_b
    energy_of_b = numpy.einsum("ij,ij->i", moving_b, moving_b)
    span = length_a + length_b - 1
    shared, matched = numpy.zeros(span, numpy.int64), numpy.zeros(span, numpy.int64)
    histogram = numpy.zeros(span * 65, numpy.int64)
    dots, energy_a, energy_b = numpy.zeros(span), numpy.zeros(span), numpy.zeros(span)
    rows = max(1, BLOCK_PAIRS // length_b)
    for first in range(0, length_a, rows):
        last = min(length_a, first + rows)
        low, high = max(0, first - SLACK), min(length_a, last + SLACK)
        scores = frames_a.features(turn, low, high) @ features_b.T
        tolerant = scores[first - low : last - low].copy()
        for step in range(1, SLACK + 1):
            earlier, later = max(first, low + step), min(last, high - step)
            tolerant[earlier - first :] = numpy.maximum(
                tolerant[earlier - first :], scores[earlier - step - low : last - step - low]
            )
            tolerant[: later - first] = numpy.maximum(
                tolerant[: later - first], scores[first + step - low : later + step - low]
            )
        moving_a = frames_a.moving(turn, first, last)
        products = moving_a @ moving_b.T
        energy_of_a = numpy.einsum("ij,ij->i", moving_a, moving_a)
        seconds_a, seconds_b = numpy.nonzero(frames_a.informative[first:last, None] & frames_b.informative[None, :])
        index = seconds_a + first - seconds_b + length_b - 1
        shared += numpy.bincount(index, minlength=span)
        matched += numpy.bincount(index[tolerant[seconds_a, seconds_b] >= FRAME_SCORE], minlength=span)
        distances = numpy.bitwise_count(frames_a.hashes[first:last, turn][seconds_a] ^ frames_b.hashes[seconds_b, 0])
        histogram += numpy.bincount(index * 65 + distances, minlength=span * 65)
        dots += numpy.bincount(index, products[seconds_a, seconds_b], minlength=span)
        energy_a += numpy.bincount(index, energy_of_a[seconds_a], minlength=span)
        energy_b += numpy.bincount(index, energy_of_b[seconds_b], minlength=span)
    return shared, matched, histogram.reshape(span, 65), dots, energy_a, energy_b


def _median(histogram, count):
    """The median (as numpy.median, truncated to an int) of ``count`` distances given by their histogram."""
    cumulative = numpy.cumsum(histogram)
    lower, upper = numpy.searchsorted(cumulative, [(count + 1) // 2, count // 2 + 1])
    return int(lower + upper) // 2


def similar(frames_a, frames_b, rotations=True):
    """The :class:`Match` that makes two videos copies, or None: most seconds show the same frame, and what
    moves in them, if anything does, moves alike (two recordings from a fixed camera show the same background
    every second, and differ only by what moves)."""
    match = line_up(frames_a, frames_b, rotations)
    if match is None or match.matched < MIN_MATCHED:
        return None
    return match if match.motion is None or match.motion >= MIN_MOTION_AGREEMENT else None


def candidate_pairs(md5s, frames, rotations=True):
    """Pairs ``(i, j)``, i < j, of contents that show a frame within FRAME_DISTANCE of each other's and could
    share half of the longer one: the pairs worth lining up."""
    owners, index, queries, query_owners = [], [], [], []
    turns = 4 if rotations else 1
    for number, md5 in enumerate(md5s):
        hashes = frames[md5].hashes[frames[md5].informative]
        # A still scene shows one frame for many seconds: each distinct frame is searched once.
        upright = numpy.unique(hashes[:, 0])
        queries.append(upright)
        query_owners.append(numpy.full(len(upright), number))
        turned = numpy.unique(hashes[:, :turns])
        index.append(turned)
        owners.append(numpy.full(len(turned), number))
    if not md5s:
        return []
    index_owner, query_owner = numpy.concatenate(owners), numpy.concatenate(query_owners)
    query, entry, _ = hamming_search(numpy.concatenate(index), numpy.concatenate(queries), FRAME_DISTANCE)
    a, b = index_owner[entry], query_owner[query]
    lengths = numpy.array([frames[md5].length for md5 in md5s])
    first, second = numpy.minimum(a, b), numpy.maximum(a, b)
    keep = (first != second) & (
        numpy.minimum(lengths[first], lengths[second])
        >= MIN_OVERLAP * numpy.maximum(lengths[first], lengths[second]) - 1
    )
    pairs = numpy.unique(numpy.stack([first[keep], second[keep]], axis=1), axis=0)
    return [tuple(pair) for pair in pairs.tolist()]


def find_groups(files, prints, rotations=True, ignored=()):
    """Exact and similar groups of videos, sorted by first path; a file is in at most one group.

    ``files`` are ``(path, md5)``, ``prints`` maps an md5 to its :class:`shashin.video.Fingerprint` (a content
    without one forms exact groups only); ``ignored`` holds ``(md5_a, md5_b)`` pairs, md5_a < md5_b, never put
    in one group.
    """
    paths_of = {}
    for path, md5 in files:
        paths_of.setdefault(md5, []).append(path)
    md5s = sorted(md5 for md5 in paths_of if md5 in prints)
    frames = {md5: Frames(prints[md5]) for md5 in md5s}
    ignored = {tuple(pair) for pair in ignored}
    matches = {}
    for i, j in candidate_pairs(md5s, frames, rotations):
        if pair_key(md5s[i], md5s[j]) not in ignored:
            match = similar(frames[md5s[i]], frames[md5s[j]], rotations)
            if match is not None:
                matches[i, j] = match
    groups, grouped = [], set()
    for cluster in _clusters(md5s, matches, ignored):
        groups.append(_group(md5s, cluster, matches, frames, paths_of))
        grouped.update(md5s[i] for i in cluster)
    for md5, paths in paths_of.items():
        if len(paths) > 1 and md5 not in grouped:
            groups.append(Group("exact", [(path, md5, 0) for path in sorted(paths)]))
    groups.sort(key=lambda group: group.members[0][0])
    return groups


def _clusters(md5s, matches, ignored):
    """Clusters of matched contents (single linkage: a copy trimmed at the start and one trimmed at the end
    may share too little to match each other, yet both are their original's), the best matches joined first,
    never two clusters holding a pair said not to be duplicates."""
    cluster_of = {i: {i} for pair in matches for i in pair}
    for i, j in sorted(matches, key=lambda pair: (-matches[pair].matched, matches[pair].distance, pair)):
        first, second = cluster_of[i], cluster_of[j]
        if first is second or any(pair_key(md5s[x], md5s[y]) in ignored for x in first for y in second):
            continue
        first |= second
        for member in second:
            cluster_of[member] = first
    unique = {id(cluster): cluster for cluster in cluster_of.values()}
    return [sorted(cluster) for cluster in unique.values() if len(cluster) > 1]


def _group(md5s, cluster, matches, frames, paths_of):
    """The group of these contents (indexes into md5s): a member's distance is its median frame distance to
    the longest member (the one the others are most likely cut from) where the two were lined up, else the
    group's max_distance, the largest median distance of a matched pair."""
    members = set(cluster)
    distances = {pair: match.distance for pair, match in matches.items() if pair[0] in members and pair[1] in members}
    farthest = max(distances.values())
    centre = max(cluster, key=lambda i: (frames[md5s[i]].length, -i))
    to_centre = {centre: 0}
    for (i, j), distance in distances.items():
        if centre in (i, j):
            to_centre[j if i == centre else i] = distance
    return Group(
        "similar",
        sorted((path, md5s[i], to_centre.get(i, farthest)) for i in cluster for path in paths_of[md5s[i]]),
        farthest,
    )


def live_photo_movies(videos, photos, durations):
    """``{movie path: photo path}``: the videos (``(path, md5)``) that are a Live Photo's movie, a short clip
    (``durations`` by md5) beside a photo of the same name (IMG_0001.MOV and IMG_0001.HEIC), which goes with
    its photo and is no one's duplicate."""
    named = {}
    for path, _ in photos:
        named.setdefault(os.path.splitext(path)[0].casefold(), path)
    found = {}
    for path, md5 in videos:
        photo = named.get(os.path.splitext(path)[0].casefold())
        if photo is not None and (durations.get(md5) or 0) <= LIVE_PHOTO_SECONDS:
            found[path] = photo
    return found
