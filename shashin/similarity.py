"""Near-duplicate matching: fingerprints, candidate pairs, pair verification, grouping without chaining.

Two stages (the figures behind every constant are in docs/accuracy.md):

1. Candidates. Each distinct content gets a 64x64 greyscale *view*, derived once from its
   stored thumbnail. Its fingerprint is 64-bit difference hashes: the view in each of the
   8 rotations and mirrors, its central 90% (the *crop view*, which is what lets a 5%
   border crop be found at a small radius), then the thumbnail's *regions* with its aspect
   ratio kept (:mod:`shashin.regions`: the content box inside a border or a screenshot,
   centres, off-centre cuts, 16:9, 1:1, 4:5 and 9:16 frames at many places; soft hashes),
   then its middle band and its centre, then the soft hash of the whole thumbnail. A pair
   is a candidate when one image's query hashes come within ``threshold`` bits of the
   other's upright hash (a region's, of its whole soft hash), or their bands or centres
   do, found by the multi-index search of :mod:`shashin.hamming`, never all pairs.
2. Verification. A candidate pair is similar when the normalised cross-correlation of
   the two gradient images (32x32, the first turned by the matched orientation, either
   one centre-cropped by up to 15%) reaches :data:`MIN_SCORE`. Gradients, not grey
   levels, so that flat areas (sky, star fields) do not correlate by themselves. A pair
   found by a region or a band, or an upright one that correlates a little, is verified
   across the change of frame by local features (:mod:`shashin.verify`) when that fails.

Grouping rule: connected components of similar pairs, then complete linkage inside
each component, so every two members of a similar group score at least
:data:`MEMBER_SCORE` against each other (A~B and B~C never put A with C when A and C
are different photos, which score near zero). Near-uniform views (black or white frames)
are never similar to anything: their hashes are noise.
"""

import functools
import os
from dataclasses import dataclass, field

import numpy

from . import regions
from .dhash import area_resampler, dhashes
from .hamming import hamming_pairs, hamming_search

VIEW_SIDE = 64
SIDE = 32
CROPS = (1.0, 0.975, 0.95, 0.925, 0.9, 0.875, 0.85)
CROP_VIEW = 0.9
ORIENTATIONS = 8
#: Fingerprint column of the crop view; columns 0..7 are the orientations, 0 upright.
CROP_COLUMN = 8
#: Columns of the region hashes, then of the parts compared with the same part of others (band, centre),
#: then the soft hash of the whole thumbnail, which the regions' soft hashes are compared with.
REGION_COLUMNS = list(range(CROP_COLUMN + 1, CROP_COLUMN + 1 + regions.COUNT))
SHARED_COLUMNS = [REGION_COLUMNS[-1] + 1, REGION_COLUMNS[-1] + 2]
SOFT_COLUMN = SHARED_COLUMNS[-1] + 1
WIDTH = SOFT_COLUMN + 1
#: The orientation of a candidate pair found by a region or the band alone.
FRAMED = -1
#: Fingerprint columns indexed at once by the candidate search (the regions apart from the views' hashes).
INDEX_COLUMNS = CROP_COLUMN + 1
#: Bits beyond the threshold within which a region or a shared part's hash still makes a candidate, when
#: the search's lookups meet it (at no cost in lookups): a region's frame never quite lines up with the
#: copy's, and the frame verifier rejects what is not a copy.
FRAMED_SLACK = 5
#: Pairs within that slack (beyond the threshold) kept for each content: its nearest. Pictures of one layout
#: (a sky above, a field below) meet within 6 to 10 bits so often that the pairs grow with the square of the
#: library (161 a photo at 20,000 mosaics of sample photos, 4 of them within the threshold).
SLACK_NEIGHBOURS = 8
#: Verification score (gradient correlation) from which a candidate pair is similar.
MIN_SCORE = 0.7
#: Score every two members of a similar group must reach. Lower than MIN_SCORE: two
#: copies each degraded their own way (a crop and a watermark) are less alike than
#: either is to the original, while different photos score near zero.
MEMBER_SCORE = 0.5
#: Spread of a view's grey levels (0..255, see :func:`spreads`) below which it is near-uniform.
MIN_SPREAD = 6.0
#: Features kept in memory per run; sized for ~120 MB.
FEATURE_CACHE = 2048
#: Gradient correlation from which an upright candidate that failed is tried across a change of frame (a
#: filter, a caption): below it, pairs are different photos often enough that local features would cost
#: more than they find.
FRAME_RETRY_SCORE = 0.3
#: Share of the smaller of two frames inside a third that must overlap for them to be held together there.
HELD_TOGETHER = 0.5
#: Score from which a frame verified only to hold two members together through a third is kept (nine in ten
#: of the inner frame's cells agree): at the frame verifier's own cut, such frames put 64 px tiles and
#: look-alike framings in groups (docs/accuracy.md).
SURE_FRAME = 0.9
#: How one similar content's frame lies in another's (besides a box inside it): the whole of it, or around it.
WHOLE, OUTER = "whole", "outer"
#: Share of the other's frame from which a box inside it is its whole frame.
WHOLE_FRAME = 0.9


# Views and fingerprints


def fingerprint(view, grey):
    """``(view, hashes, spread)`` of one content, from its view (:func:`imaging.view_from_thumbnail`) and its
    thumbnail's grey levels, aspect ratio kept (:func:`verify.grey`): all grouping needs to know of it."""
    hashes = numpy.concatenate(
        [
            fingerprints(view[None])[0],
            regions.region_hashes(grey),
            regions.shared_hashes(grey),
            [regions.whole_hash(grey)],
        ]
    )
    # A flat photo in a white frame is still flat, and so is a black star-field tile whose few stars its content
    # box would stretch: the smaller of the two spreads.
    return view, hashes, float(min(spreads(view[None])[0], spreads(content_view(view)[None])[0]))


def orient(array, orientation):
    """The last two axes turned: 0-3 rotated by 90 degrees k times, 4-7 mirrored then rotated."""
    if orientation >= 4:
        array = array[..., ::-1]
    return numpy.rot90(array, orientation % 4, axes=(-2, -1))


def orientation_between(print_a, print_b):
    """The orientation that turns a's content into b's (:func:`orient` of a's view matches b's upright
    view): the one whose hash of a is nearest b's upright hash. 0 for an upright copy, 1-3 turned a
    quarter, half, three quarters counter-clockwise, 4-7 mirrored left-right, then turned so."""
    distances = numpy.bitwise_count(numpy.asarray(print_a[:ORIENTATIONS], numpy.uint64) ^ numpy.uint64(print_b[0]))
    return int(numpy.argmin(distances))


def inverse(orientation):
    """The orientation that undoes this one (mirrored ones undo themselves)."""
    return (4 - orientation) % 4 if orientation < 4 else orientation


def fingerprints(views):
    """``(n, 9)`` uint64: dHash of each view in the 8 orientations, then of its crop view."""
    views = numpy.asarray(views, numpy.float32).reshape(-1, VIEW_SIDE, VIEW_SIDE)
    columns = [dhashes(orient(views, o)) for o in range(ORIENTATIONS)] + [dhashes(views, CROP_VIEW)]
    return numpy.stack(columns, axis=1)


def spreads(views):
    """Range of the middle 80% of each view's grey levels: near zero for a near-uniform frame.

    A percentile range, not the standard deviation: a black frame with a bright corner
    (a vignette, the rim of a microscope field) has a large deviation but is still flat.
    """
    views = numpy.asarray(views, numpy.float32).reshape(len(views), -1)
    low, high = numpy.percentile(views, [10, 90], axis=1)
    return high - low


def hash_int(hex_digits):
    return numpy.uint64(int(hex_digits, 16))


# Candidates and verification


def query_columns(width, rotations):
    """Fingerprint columns searched: all orientations (or upright only), the crop view and the regions."""
    if width == 1:
        return [0]
    return list(range(ORIENTATIONS) if rotations else [0]) + [CROP_COLUMN] + (REGION_COLUMNS if width == WIDTH else [])


def candidate_pairs(prints, threshold, rotations=True):
    """Candidate pairs ``(a, b, orientation, distance)`` with a < b, as arrays.

    ``prints`` is ``(n, WIDTH)`` fingerprints (or their first 9 columns), or ``(n, 1)``
    upright hashes alone. ``orient(view a, orientation)`` is the alignment of a that
    matched b's upright hash; :data:`FRAMED` marks a pair found by a region (its soft hash
    near b's whole soft hash), the band or the centre alone, whose views need not line up.
    """
    prints = numpy.asarray(prints, numpy.uint64)
    columns = numpy.array(query_columns(prints.shape[1], rotations))
    if len(columns) == 1:
        a, b, distance = hamming_pairs(prints[:, 0], threshold)
        return a, b, numpy.zeros(len(a), numpy.int64), distance
    # The query hashes are the index and the upright ones the queries: many times fewer lookups. The index
    # is searched INDEX_COLUMNS columns at a time, so that its tables take no more memory than nine hashes.
    views, framed = columns[columns <= CROP_COLUMN], columns[columns > CROP_COLUMN]
    parts = [(views, None)] + [
        (framed[start : start + INDEX_COLUMNS], threshold + FRAMED_SLACK)
        for start in range(0, len(framed), INDEX_COLUMNS)
    ]
    found = []
    for part, beyond in parts:
        whole = prints[:, 0 if beyond is None else SOFT_COLUMN]
        b, entry, distance = hamming_search(prints[:, part].ravel(), whole, threshold, beyond)
        found.append((entry // len(part), b, part[entry % len(part)], distance))
    a, b, column, distance = (numpy.concatenate(arrays) for arrays in zip(*found))
    orientation = numpy.where(column < ORIENTATIONS, column, numpy.where(column == CROP_COLUMN, 0, FRAMED))
    for shared in SHARED_COLUMNS if prints.shape[1] == WIDTH else []:
        shared_a, shared_b, shared_distance = hamming_pairs(prints[:, shared], threshold, threshold + FRAMED_SLACK)
        a, b = numpy.concatenate([a, shared_a]), numpy.concatenate([b, shared_b])
        orientation = numpy.concatenate([orientation, numpy.full(len(shared_a), FRAMED)])
        distance = numpy.concatenate([distance, shared_distance])
    other = a != b
    a, b, orientation, distance = a[other], b[other], orientation[other], distance[other]
    swap = a > b
    inverted = numpy.array([inverse(o) for o in range(ORIENTATIONS)] + [FRAMED])
    orientation = numpy.where(swap, inverted[orientation], orientation)
    a, b = numpy.where(swap, b, a), numpy.where(swap, a, b)
    # Keep the closest match of each pair, one whose views line up first.
    order = numpy.lexsort((distance, orientation == FRAMED, b, a))
    a, b, orientation, distance = a[order], b[order], orientation[order], distance[order]
    first = numpy.ones(len(a), bool)
    first[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])
    a, b, orientation, distance = a[first], b[first], orientation[first], distance[first]
    kept = distance <= threshold
    beyond = numpy.flatnonzero(~kept)
    kept[beyond] = _nearest(a[beyond], b[beyond], distance[beyond], SLACK_NEIGHBOURS)
    return a[kept], b[kept], orientation[kept], distance[kept]


def _nearest(a, b, distance, count):
    """Whether each pair ``(a, b)`` is among the ``count`` nearest pairs of a or of b (ties by order)."""
    content, twice = numpy.concatenate([a, b]), numpy.concatenate([distance, distance])
    order = numpy.lexsort((twice, content))
    starts = numpy.flatnonzero(numpy.r_[True, content[order][1:] != content[order][:-1]])
    ranks = numpy.empty(len(order), numpy.int64)
    ranks[order] = numpy.arange(len(order)) - numpy.repeat(starts, numpy.diff(numpy.r_[starts, len(order)]))
    return (ranks[: len(a)] < count) | (ranks[len(a) :] < count)


def hash_distance(print_a, print_b, rotations=True):
    """Smallest distance between either fingerprint's query hashes and the other's upright hash (its soft
    hash for the regions')."""
    columns = numpy.array(query_columns(len(print_a), rotations))
    whole = numpy.where(columns > CROP_COLUMN, SOFT_COLUMN, 0)
    return int(
        min(
            numpy.bitwise_count(print_a[columns] ^ print_b[whole]).min(),
            numpy.bitwise_count(print_b[columns] ^ print_a[whole]).min(),
        )
    )


class Verifier:
    """Scores pairs by gradient correlation; ``view(i)`` gives image i's uint8 view."""

    def __init__(self, view):
        # Cached too: a pair tried in all 8 orientations would read one view from the database 8 times.
        self.view = functools.lru_cache(maxsize=FEATURE_CACHE)(lambda index: content_view(view(index)))
        self._cached = functools.lru_cache(maxsize=FEATURE_CACHE)(self._features)

    def score(self, a, b, orientation=0):
        """Best correlation of a (turned by orientation) and b, whole against centre-cropped either way."""
        scores = self._cached(a, orientation) @ self._cached(b, 0).T
        return float(max(scores[0].max(), scores[:, 0].max()))

    def _features(self, index, orientation=0):
        view = orient(self.view(index), orientation)
        resamplers = _crop_resamplers()
        small = resamplers @ view @ resamplers.transpose(0, 2, 1)
        gradients = numpy.concatenate(
            [numpy.diff(small, axis=2).reshape(len(CROPS), -1), numpy.diff(small, axis=1).reshape(len(CROPS), -1)],
            axis=1,
        )
        gradients -= gradients.mean(axis=1, keepdims=True)
        norms = numpy.linalg.norm(gradients, axis=1, keepdims=True)
        return gradients / numpy.maximum(norms, 1e-6)


def content_view(view):
    """The view's content box (:func:`regions.content_box`) stretched back to the view's size: two photos in
    white borders would otherwise correlate by their borders, and a bordered copy not with its photo."""
    view = numpy.asarray(view, numpy.float32)
    x, y, width, height = regions.content_box(view)
    if width == VIEW_SIDE and height == VIEW_SIDE or min(width, height) < VIEW_SIDE // 4:
        return view
    # A pixel less each side: the box's edge rows blend the border in, and would correlate by themselves.
    box = view[y + 1 : y + height - 1, x + 1 : x + width - 1]
    height, width = box.shape
    return area_resampler(VIEW_SIDE, height) @ box @ area_resampler(VIEW_SIDE, width).T


@functools.cache
def _crop_resamplers():
    return numpy.stack([area_resampler(SIDE, VIEW_SIDE, crop) for crop in CROPS])


# Grouping


@dataclass
class Group:
    """Files that are copies of each other: ``members`` are ``(path, md5, distance)``.

    distance is the hash distance from the group's centre (the member whose farthest
    member is nearest), max_distance the largest distance between two members.
    """

    kind: str
    members: list = field(default_factory=list)
    max_distance: int = 0

    @functools.cached_property
    def identical_to(self):
        """For each member, the path of the first member with its md5, or None for that first one."""
        first, found = {}, []
        for path, md5, *_ in self.members:
            earlier = first.setdefault(md5, path)
            found.append(None if earlier == path else earlier)
        return found


def one_path_per_file(files):
    """``(files, same)``: one path per file, and ``[(path, path kept)]`` for the others.

    ``files`` are ``(path, md5, dhash, identity)``, identity the file's ``(device, inode)``;
    the files returned are ``(path, md5, dhash)``. Two paths to one file (a hard link, a
    folder reached through a symbolic link and by its real path) are never two copies of
    it: the path kept is one with no link on the way, else the first in order.
    """
    paths_of = {}
    for path, md5, dhash, identity in files:
        paths_of.setdefault(identity, []).append((path, md5, dhash))
    kept, same = [], []
    for entries in paths_of.values():
        if len(entries) > 1:
            entries = sorted(entries, key=lambda entry: (os.path.realpath(entry[0]) != entry[0], entry[0]))
            same += [(entry[0], entries[0][0]) for entry in entries[1:]]
        kept.append(entries[0])
    return kept, same


def find_groups(files, prints, threshold, rotations=True, view=None, spread=None, ignored=(), thumbnail=None):
    """Exact and similar groups of files, sorted by first path; a file is in at most one group.

    ``files`` are ``(path, md5)``. ``prints`` maps an md5 to its fingerprint; contents
    without one only form exact groups. ``view(md5)`` gives a content's view for
    verification and ``spread`` maps an md5 to its view's spread; without ``view``
    pairs are grouped by hash distance alone (upright hashes, complete linkage within
    ``threshold``: no verification, so lower precision). ``thumbnail(md5)`` gives a
    content's JPEG thumbnail, for verifying copies that change the frame (without it,
    they are not found). ``ignored`` holds ``(md5_a, md5_b)`` pairs, md5_a < md5_b,
    never put in one group.
    """
    paths_of = {}
    for path, md5 in files:
        paths_of.setdefault(md5, []).append(path)
    contents = sorted(md5 for md5 in paths_of if md5 in prints and (view is None or spread[md5] >= MIN_SPREAD))
    width = 1 if view is None else WIDTH
    table = numpy.zeros((len(contents), width), numpy.uint64)
    for row, md5 in enumerate(contents):
        table[row] = numpy.asarray(prints[md5], numpy.uint64)[:width]
    matcher = _Matcher(contents, table, threshold, rotations, view, {tuple(pair) for pair in ignored}, thumbnail)
    groups, similar = [], set()
    for cluster in matcher.clusters():
        md5s = [contents[i] for i in cluster]
        groups.append(similar_group(md5s, table[cluster], paths_of, rotations))
        similar.update(md5s)
    for md5, paths in paths_of.items():
        if len(paths) > 1 and md5 not in similar:
            groups.append(Group("exact", [(path, md5, 0) for path in sorted(paths)]))
    groups.sort(key=lambda group: group.members[0][0])
    return groups


class _Matcher:
    """Similar pairs among contents, and their clusters."""

    def __init__(self, contents, prints, threshold, rotations, view, ignored, thumbnail=None):
        self.contents, self.prints, self.threshold, self.rotations = contents, prints, threshold, rotations
        self.ignored = ignored
        self.verifier = Verifier(lambda i: view(contents[i])) if view else None
        self.frames = None
        if view and thumbnail:
            # Imported here: OpenCV is loaded only when a grouping verifies changes of frame.
            from .verify import FrameVerifier

            self.frames = FrameVerifier(lambda i: thumbnail(contents[i]))
        self.min_score = MIN_SCORE if view else -threshold
        self.member_score = MEMBER_SCORE if view else -threshold
        #: (a, b) -> how a's frame lies in b's, for similar pairs: WHOLE (the same frame: a resize, a
        #: filter, a caption), OUTER (a holds b), or the box of a's frame inside b's.
        self.frames_of = {}

    def score(self, a, b, orientation=None, framed=False, frames=True):
        """How alike a and b are: gradient correlation, or minus the hash distance without views.

        Without an orientation (a pair that was no candidate, met inside a component)
        every allowed orientation is tried: hashes of a crop and a turned copy can be
        too far apart to say which one aligns them. A pair found by a region or a shared
        part (orientation FRAMED) is the frame verifier's alone; a ``framed`` pair, or an
        upright one that correlates a little, gets the frame verifier's score when that is
        higher (unless ``frames`` is false: the views alone).
        """
        if self._ignored(a, b):
            return -numpy.inf
        if self.verifier is None:
            return -hash_distance(self.prints[a], self.prints[b], self.rotations)
        if orientation == FRAMED:
            # Found by a region or a shared part alone: the views do not line up, and textures (star fields,
            # gravel) correlate by chance often enough at this many more pairs. The frame verifier decides.
            score, framed = 0.0, True
        elif orientation is not None:
            score = self.verifier.score(a, b, orientation)
        else:
            score = max(self.verifier.score(a, b, o) for o in (range(ORIENTATIONS) if self.rotations else [0]))
        if score >= MIN_SCORE:
            self.frames_of[a, b] = self.frames_of[b, a] = WHOLE
        elif frames and self.frames is not None and (framed or score >= FRAME_RETRY_SCORE):
            match = self.frames.match(a, b)
            if match is not None and match.score > score:
                inner, outer = (a, b) if match.inner_is_first else (b, a)
                box = WHOLE if _area(match.box) >= WHOLE_FRAME else match.box
                self.frames_of[inner, outer], self.frames_of[outer, inner] = box, WHOLE if box == WHOLE else OUTER
                score = match.score
        return score

    def held_together(self, a, b, component):
        """Whether a and b, not similar to each other, are copies of one photo through a third member they are
        both similar to: a mirrored copy and a crop of one original, a crop of a photo and a screenshot of
        it, two slides of it. Two photos side by side in one collage are not held together by it: two
        boxes inside a third must overlap by half of the smaller."""
        for third in component:
            frame_a, frame_b = self.frames_of.get((a, third)), self.frames_of.get((b, third))
            if frame_a is None or frame_b is None:
                continue
            if isinstance(frame_a, str) or isinstance(frame_b, str) or overlap(frame_a, frame_b) >= HELD_TOGETHER:
                return True
        return False

    def _hub(self, component):
        """The place in component of the member most others are known to be similar to, of those turned as
        most of the others are: the frame verifier compares upright pictures alone, so a copy turned a
        quarter would fail every crop of its original."""
        known = [sum((i, j) in self.frames_of for j in component) for i in component]
        first = int(numpy.argmax(known))
        if not self.rotations:
            return first
        turns = [orientation_between(self.prints[component[first]], self.prints[j]) for j in component]
        most = max(set(turns), key=turns.count)
        return max((x for x in range(len(component)) if turns[x] == most), key=known.__getitem__)

    def _held_once_placed(self, a, b, component, verified):
        """Whether a and b are held together through a third that one of them is known to lie in, once the
        other's frame there is verified: two crops of one original whose pairs with it were never verified,
        as they were joined through other copies first. A frame verified here is kept only when it is sure
        (SURE_FRAME); ``verified`` holds the (member, third) pairs already tried."""
        for placed, other in ((a, b), (b, a)):
            for third in component:
                if third in (a, b) or (other, third) in self.frames_of or (other, third) in verified:
                    continue
                if self.frames_of.get((placed, third)) in (None, OUTER):
                    continue
                verified.add((other, third))
                if self.score(other, third, framed=True) < SURE_FRAME:
                    self.frames_of.pop((other, third), None)
                    self.frames_of.pop((third, other), None)
                elif self.held_together(a, b, component):
                    return True
        return False

    def _placed_through_a_whole(self, a, b, component):
        """Whether a's frame is known in a third member whose frame is b's whole, and b's pixels agree with a's
        there (a third alike in frame may differ inside it: a sticker over a wall); if so, a and b's frames are
        recorded as a's and b's in that third."""
        if self.frames is None or self._ignored(a, b):
            return False
        for third in component:
            if third in (a, b) or self.frames_of.get((third, b)) != WHOLE or (a, third) not in self.frames_of:
                continue
            frame_a, frame_third = self.frames_of[a, third], self.frames_of[third, a]
            inner, outer, box = (b, a, frame_third) if frame_a == OUTER else (a, b, frame_a)
            if self.frames.agrees_at(inner, outer, (0.0, 0.0, 1.0, 1.0) if box == WHOLE else box):
                self.frames_of[a, b], self.frames_of[b, a] = frame_a, frame_third
                return True
        return False

    def _ignored(self, a, b):
        return bool(self.ignored) and pair_key(self.contents[a], self.contents[b]) in self.ignored

    def clusters(self):
        """Lists of content indexes, every two of which are similar."""
        if len(self.contents) < 2:
            return
        a, b, orientation, _ = candidate_pairs(self.prints, self.threshold, self.rotations)
        known = {}
        joined = _Joined()
        # Pairs whose views line up first (cheap); a framed pair already joined through others is left to the
        # complete linkage, which mostly holds it together through a third without verifying its frames.
        for i, j, o in sorted(zip(a.tolist(), b.tolist(), orientation.tolist()), key=lambda pair: pair[2] == FRAMED):
            if o == FRAMED and joined.find(i) == joined.find(j):
                continue
            score = self.score(i, j, o)
            if score >= self.min_score:
                known[i, j] = score
                joined.join(i, j)
        if not known:
            return
        # Imported here: the review page imports this module for orientation_between alone, at start-up.
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components

        pairs = numpy.array(list(known), numpy.int64)
        size = len(self.contents)
        _, labels = connected_components(
            coo_matrix((numpy.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(size, size)), directed=False
        )
        components = {}
        for i in numpy.unique(pairs).tolist():
            components.setdefault(labels[i], []).append(i)
        for component in components.values():
            yield from self._complete_linkage(component, known)

    def _complete_linkage(self, component, known):
        """Split a component so every two members of a cluster score at least member_score.

        Agglomerative complete linkage: repeatedly join the two clusters whose weakest
        cross pair is strongest, while that pair is still similar.
        """
        size = len(component)
        if size == 2:
            yield component
            return
        position = {member: x for x, member in enumerate(component)}
        linkage = numpy.full((size, size), -numpy.inf)
        for (i, j), score in known.items():
            if i in position and j in position:
                linkage[position[i], position[j]] = linkage[position[j], position[i]] = score
        # Each member's place in the hub (verified across a change of frame if need be, once a member), so that
        # the other pairs can be held together through it.
        hub = self._hub(component)
        for x in range(size):
            if x != hub and (component[x], component[hub]) not in self.frames_of:
                linkage[x, hub] = linkage[hub, x] = self.score(component[x], component[hub], framed=True)
        # Not found in the hub (a collage whose photo is too unlike it to look for), yet placed in it through a
        # third of the hub's very frame (the brightened copy the collage was verified against).
        for x in numpy.flatnonzero(linkage[:, hub] < self.member_score).tolist():
            if x != hub and self._placed_through_a_whole(component[x], component[hub], component):
                linkage[x, hub] = linkage[hub, x] = self.member_score
        # The other pairs: held together through a third, else scored (by their views, then their frames).
        verified = set()
        for x, y in zip(*numpy.nonzero(numpy.triu(linkage == -numpy.inf, 1))):
            i, j = component[x], component[y]
            if self._ignored(i, j):
                continue
            held = self.held_together(i, j, component) or self._held_once_placed(i, j, component, verified)
            linkage[x, y] = linkage[y, x] = self.member_score if held else self.score(i, j, framed=True)
        clusters = [[x] for x in range(size)]
        alive = numpy.ones(size, bool)
        while True:
            masked = numpy.where(alive[:, None] & alive[None, :], linkage, -numpy.inf)
            c, d = numpy.unravel_index(numpy.argmax(masked), masked.shape)
            if masked[c, d] < self.member_score:
                break
            clusters[c] += clusters[d]
            alive[d] = False
            linkage[c] = linkage[:, c] = numpy.minimum(linkage[c], linkage[d])
            linkage[c, c] = -numpy.inf
        for c in numpy.flatnonzero(alive):
            if len(clusters[c]) > 1:
                yield sorted(component[x] for x in clusters[c])


def similar_group(md5s, prints, paths_of, rotations, kind="similar"):
    """The :class:`Group` of these contents (``prints`` their fingerprints, in order), every path of each."""
    size = len(md5s)
    distances = numpy.zeros((size, size), numpy.int64)
    for x in range(size):
        for y in range(x + 1, size):
            distances[x, y] = distances[y, x] = hash_distance(prints[x], prints[y], rotations)
    centre = int(numpy.argmin(distances.max(axis=1)))
    members = sorted((path, md5, int(distances[centre, x])) for x, md5 in enumerate(md5s) for path in paths_of[md5])
    return Group(kind, members, int(distances.max()))


class _Joined:
    """Union-find over content indexes: which have been joined by similar pairs so far."""

    def __init__(self):
        self.parent = {}

    def find(self, index):
        root = index
        while self.parent.get(root, root) != root:
            root = self.parent[root]
        while index != root:
            self.parent[index], index = root, self.parent.get(index, index)
        return root

    def join(self, a, b):
        self.parent[self.find(a)] = self.find(b)


def _area(box):
    return (box[2] - box[0]) * (box[3] - box[1])


def overlap(box_a, box_b):
    """Area shared by two boxes ``(left, top, right, bottom)``, as a share of the smaller one."""
    width = min(box_a[2], box_b[2]) - max(box_a[0], box_b[0])
    height = min(box_a[3], box_b[3]) - max(box_a[1], box_b[1])
    if width <= 0 or height <= 0:
        return 0.0
    return width * height / max(min(_area(box_a), _area(box_b)), 1e-9)


def pair_key(md5_a, md5_b):
    """The two contents of a pair, in one order: the key of their pair."""
    return (md5_a, md5_b) if md5_a < md5_b else (md5_b, md5_a)
