"""Verifying copies that change the frame: local features, a geometric check, then the pixels of the whole frame.

A crop, a bordered or framed copy, a screenshot, a slide or a collage holding a photo, a captioned or a filtered
copy all show one photo's pixels inside another frame, which the squashed views of :mod:`shashin.similarity`
cannot line up. Here two thumbnails (aspect ratio kept) are matched by ORB keypoints (OpenCV), and RANSAC fits
the similarity (scale, a small turn, a shift) that carries one onto the other. The pair is a copy when:

* enough keypoints agree with that similarity, at a sane scale and a small turn;
* one frame lies inside the other (:data:`MIN_INSIDE` of it), and covers at least :data:`MIN_COVERAGE` of
  it: a copy shows only the other's pixels (and what was added around or over them). Two framings of one
  scene each show parts the other lacks: they are different photos, and so is a detail cut from a photo;
* over the inner frame, cell by cell, the other's pixels warped onto it agree in their gradients. A cell
  the inner frame has detail in but the outer one is flat there is *missing* (a framing that reaches past
  the photo into a slide's background); text or a frame painted over the photo only *differs*. Few cells
  may be missing, and most must agree.

Textures (brick, gravel, star fields) give keypoints that match many places: a consistent similarity with
the whole frame agreeing is what keeps them apart. Every figure is in docs/accuracy.md.
"""

import functools
from dataclasses import dataclass

import cv2
import numpy

from . import regions
from .similarity import overlap

#: Thumbnails are upsampled this much before ORB looks for keypoints: a 256 px thumbnail holds too few at
#: ORB's smallest patch, and a photo inside a screenshot is smaller still.
UPSAMPLE = 2.0
FEATURES = 500
#: Keypoints consistent with the fitted similarity, at least.
MIN_INLIERS = 8
#: Lowe's ratio: a match's distance under this share of the next nearest keypoint's.
RATIO = 0.85
#: Thumbnails whose short side is smaller are not verified across a change of frame: a copy of them that
#: changes the frame, or the photo inside them, would be too small for keypoints (icons, tiles). A wide or tall
#: picture's thumbnail keeps a 16:9 picture's short side (imaging.THUMBNAIL_SHORT), so this is a small image
#: or a panorama over 8:1; before, a collage's tiles, a gutter of a pixel or two apart, were too thin to tell
#: apart, and two collages of other photos that share their side tiles agreed on the tiles.
MIN_SIDE = 96
#: Scale between the two thumbnails, and turn in degrees, a copy may have.
SCALES = (0.2, 5.0)
MAX_TURN = 10.0
#: Share of the inner frame that must fall inside the outer one.
MIN_INSIDE = 0.95
#: Share of the outer frame the inner one must cover (a photo in a screenshot covers 40% or more of it).
MIN_COVERAGE = 0.3
#: The inner frame's cells compared (a GRID x GRID grid at CELL_SIDE pixels), the gradient correlation from
#: which a cell agrees, the gradient level under which a cell is flat (grey levels per pixel), how much
#: weaker the outer frame's gradient must be for a cell to be missing there.
GRID = 8
CELL_SIDE = 96
CELL_AGREES = 0.3
FLAT = 4.0
MISSING_RATIO = 0.15
MIN_AGREEING = 0.6
MAX_MISSING = 0.1
#: Cells with detail needed to judge at all.
MIN_CELLS = 8
#: Side of the squashed content box and photo compared when keypoints fail, and the gradient correlation from
#: which they are copies (the views' own measure and cut, shashin.similarity.MIN_SCORE).
BOX_SIDE = 32
BOX_SCORE = 0.7
#: Share of the inner frame from which its content box is the whole of it, and the least side (pixels) of a
#: content box checked on its own.
WHOLE_BOX = 0.9
MIN_BOX_SIDE = 32
#: :func:`likeness` under which a pair is no copy, before any keypoint: a region of one found in the other
#: (or a shared part) correlates at 0.15 or more in every copy of the accuracy set but some in collages.
MIN_LIKENESS = 0.15
#: Features kept in memory per run.
FEATURE_CACHE = 4096

_matcher = cv2.BFMatcher(cv2.NORM_HAMMING)


@functools.cache
def _detector():
    return cv2.ORB_create(nfeatures=FEATURES, edgeThreshold=15, patchSize=15, fastThreshold=7)


def grey(jpeg):
    """The thumbnail as float32 grey levels (its aspect ratio kept), or None if it cannot be decoded."""
    pixels = cv2.imdecode(numpy.frombuffer(jpeg, numpy.uint8), cv2.IMREAD_GRAYSCALE)
    return None if pixels is None else pixels.astype(numpy.float32)


def features(image):
    """``(points, descriptors)`` of a grey thumbnail's ORB keypoints; points in the thumbnail's pixels."""
    low, high = numpy.percentile(image, [1, 99])
    # Stretched, so that a low-contrast photo (a micrograph, a hazy scene) gets keypoints too.
    stretched = numpy.clip((image - low) * (255 / max(high - low, 1.0)), 0, 255).astype(numpy.uint8)
    larger = cv2.resize(stretched, None, fx=UPSAMPLE, fy=UPSAMPLE, interpolation=cv2.INTER_LINEAR)
    keypoints, descriptors = _detector().detectAndCompute(larger, None)
    points = numpy.float32([keypoint.pt for keypoint in keypoints]).reshape(-1, 2) / UPSAMPLE
    return points, descriptors


class FrameVerifier:
    """Says whether two contents are copies across a change of frame; ``thumbnail(i)`` gives content i's JPEG."""

    def __init__(self, thumbnail):
        self._thumbnail = thumbnail
        self._parts = functools.lru_cache(maxsize=FEATURE_CACHE)(self._load_parts)
        self._features = functools.lru_cache(maxsize=FEATURE_CACHE)(self._load_features)
        self._boxes = functools.lru_cache(maxsize=FEATURE_CACHE)(self._load_boxes)

    def _load_parts(self, index):
        """``(grey thumbnail, gradients of the whole, of its regions, of its shared parts)``, or None."""
        jpeg = self._thumbnail(index)
        image = None if jpeg is None else grey(jpeg)
        if image is None or min(image.shape) < MIN_SIDE:
            return None
        parts = (regions.region_parts(image), regions.shared_parts(image))
        return image, _squashed_gradients([image])[0], *(_squashed_gradients(group) for group in parts)

    def _load_features(self, index):
        return features(self._parts(index)[0])

    def _load_boxes(self, index):
        return regions.content_boxes(self._parts(index)[0])

    def match(self, a, b):
        """The :class:`Match` of a and b when they are copies across a change of frame, else None."""
        parts_a, parts_b = self._parts(a), self._parts(b)
        if parts_a is None or parts_b is None or likeness(parts_a[1:], parts_b[1:]) < MIN_LIKENESS:
            return None
        image_a, image_b = parts_a[0], parts_b[0]

        def boxes_of(first):
            return self._boxes(a if first else b)

        return frame_match(image_a, *self._features(a), image_b, *self._features(b), boxes_of) or box_match(
            image_a, image_b, boxes_of
        )

    def agrees_at(self, inner, outer, box):
        """Whether inner's frame laid at ``box`` of outer's (``(left, top, right, bottom)``, fractions of its
        sides: where a third says it lies) agrees with outer's pixels there, cell by cell (:func:`_cells_score`)
        both ways: outer may hold what inner lacks there (a sticker over a flat wall), which inner's cells alone
        would not see. Not when inner is too small or too flat to judge."""
        parts_inner, parts_outer = self._parts(inner), self._parts(outer)
        if parts_inner is None or parts_outer is None:
            return False
        image_inner, image_outer = parts_inner[0], parts_outer[0]
        height, width = image_outer.shape
        left, top, right, bottom = box
        region = image_outer[
            max(0, round(top * height)) : min(height, round(bottom * height)),
            max(0, round(left * width)) : min(width, round(right * width)),
        ]
        if min(region.shape) < GRID:
            return False
        return bool(_cells_score(image_inner, region, _onto(image_inner, region))) and (
            _cells_score(region, image_inner, _onto(region, image_inner)) != 0.0
        )


def _onto(image, other):
    """The transform taking image's frame onto other's whole frame."""
    return numpy.float32([[other.shape[1] / image.shape[1], 0, 0], [0, other.shape[0] / image.shape[0], 0]])


def likeness(parts_a, parts_b):
    """How much one picture's regions look like the other whole, or their shared parts alike: the best gradient
    correlation at BOX_SIDE pixels. Cheap, and enough to spare most pairs that are no copies the keypoints."""
    whole_a, regions_a, shared_a = parts_a
    whole_b, regions_b, shared_b = parts_b
    return float(max((regions_a @ whole_b).max(), (regions_b @ whole_a).max(), (shared_a * shared_b).sum(1).max()))


def _squashed_gradients(images):
    """``(len(images), values)``: each image squashed to BOX_SIDE x BOX_SIDE, its gradients, centred, unit."""
    rows = []
    for image in images:
        if min(image.shape) < 2:
            rows.append(numpy.zeros(2 * BOX_SIDE * (BOX_SIDE - 1), numpy.float32))
            continue
        small = cv2.resize(image, (BOX_SIDE, BOX_SIDE), interpolation=cv2.INTER_AREA)
        gradients = numpy.concatenate([numpy.diff(small, axis=1).ravel(), numpy.diff(small, axis=0).ravel()])
        gradients -= gradients.mean()
        rows.append(gradients / max(float(numpy.linalg.norm(gradients)), 1e-6))
    return numpy.stack(rows)


@dataclass
class Match:
    """Two copies across a change of frame: ``score``, the share of the inner frame's cells that agree;
    whether the inner frame is the first image's; ``box``, ``(left, top, right, bottom)`` of the inner frame
    in the outer one, as fractions of its width and height."""

    score: float
    inner_is_first: bool
    box: tuple


def frame_match(image_a, points_a, descriptors_a, image_b, points_b, descriptors_b, boxes_of):
    """The :class:`Match` when one image is a copy of the other across a change of frame, else None.
    ``boxes_of(first)``: the content boxes of image_a (first) or image_b, the largest first."""
    similarity = _fitted_similarity(points_a, descriptors_a, points_b, descriptors_b)
    if similarity is None:
        return None
    inverse = cv2.invertAffineTransform(similarity)
    a_inside, b_inside = _inside(image_a, similarity, image_b), _inside(image_b, inverse, image_a)
    matches = []
    for inner, outer, transform, inside, inner_is_first in (
        (image_a, image_b, similarity, a_inside, True),
        (image_b, image_a, inverse, b_inside, False),
    ):
        box = _box(inner, transform, outer)
        inner_block = boxes_of(inner_is_first)[0]
        # A photo may be any of a collage's largest tiles; a picture of blocks itself (another collage, a
        # slide) must lie on the largest: two collages that share a side tile are no copies.
        outer_blocks = boxes_of(not inner_is_first)[: 1 if _is_block(inner_block, inner) else None]
        if (
            inside >= MIN_INSIDE
            and inner.size * abs(numpy.linalg.det(transform[:, :2])) >= MIN_COVERAGE * outer.size
            and _keeps_to_a_block(box, outer_blocks, outer)
        ):
            score = _inner_score(inner, outer, transform, inner_block)
            matches.append(Match(score, inner_is_first, box))
    # When the frames coincide (a caption, a filter) either may be the inner one: the better is the verdict.
    best = max(matches, key=lambda match: match.score, default=None)
    return best if best is not None and best.score > 0 else None


def box_match(image_a, image_b, boxes_of):
    """The :class:`Match` when one image is the other's content box (a border, a frame, a screenshot's bars
    around it) and their gradients correlate, else None: for photos too soft or flat for keypoints.
    ``boxes_of(first)``: the content boxes of image_a (first) or image_b, found once a content; only the
    largest is tried (a collage's whole correlated at 0.75 with another's small side tile, by their gutters)."""
    for inner, outer, inner_is_first in ((image_a, image_b, True), (image_b, image_a, False)):
        x, y, width, height = boxes_of(not inner_is_first)[0]
        box = (x / outer.shape[1], y / outer.shape[0], (x + width) / outer.shape[1], (y + height) / outer.shape[0])
        if (box[2] - box[0]) * (box[3] - box[1]) > 0.9 or width < 8 or height < 8:
            continue
        pair = _squashed_gradients([inner, outer[y : y + height, x : x + width]])
        score = float(pair[0] @ pair[1])
        if score >= BOX_SCORE:
            return Match(score, inner_is_first, box)
    return None


def _fitted_similarity(points_a, descriptors_a, points_b, descriptors_b):
    """The similarity taking a's pixels to b's, fitted by RANSAC on matched keypoints, or None."""
    if descriptors_a is None or descriptors_b is None or len(points_a) < MIN_INLIERS or len(points_b) < MIN_INLIERS:
        return None
    best = _matches(descriptors_a, descriptors_b)
    if len(best) < MIN_INLIERS:
        return None
    source = points_a[[match.queryIdx for match in best.values()]]
    target = points_b[[match.trainIdx for match in best.values()]]
    # RANSAC draws from OpenCV's global generator: seeded, a pair's verdict does not depend on the pairs before.
    cv2.setRNGSeed(0)
    similarity, inliers = cv2.estimateAffinePartial2D(
        source, target, method=cv2.RANSAC, ransacReprojThreshold=3.0, maxIters=2000, confidence=0.999
    )
    if similarity is None or int(inliers.sum()) < MIN_INLIERS:
        return None
    scale = float(numpy.hypot(similarity[0, 0], similarity[1, 0]))
    turn = float(numpy.degrees(numpy.arctan2(similarity[1, 0], similarity[0, 0])))
    if not SCALES[0] < scale < SCALES[1] or abs(turn) > MAX_TURN:
        return None
    return similarity


def _matches(descriptors_a, descriptors_b):
    """``{b's keypoint: match}`` of a's keypoints whose nearest b keypoint is clearly nearer than the next."""
    best = {}
    for pair in _matcher.knnMatch(descriptors_a, descriptors_b, k=2):
        if len(pair) == 2 and pair[0].distance < RATIO * pair[1].distance:
            match = pair[0]
            # One a-keypoint per b-keypoint: many a-points piled on one b-point fit a degenerate transform.
            if match.trainIdx not in best or match.distance < best[match.trainIdx].distance:
                best[match.trainIdx] = match
    return best


def _frame(image):
    height, width = image.shape
    return numpy.float32([[0, 0], [width, 0], [width, height], [0, height]])


def _inside(image, transform, other):
    """Share of image's frame, carried by transform, that lies inside other's frame."""
    corners = _frame(image) @ transform[:, :2].T.astype(numpy.float32) + transform[:, 2].astype(numpy.float32)
    area = image.size * abs(numpy.linalg.det(transform[:, :2]))
    return cv2.intersectConvexConvex(corners, _frame(other))[0] / max(area, 1e-6)


def _box(image, transform, other):
    """``(left, top, right, bottom)`` of image's frame carried into other's, as fractions of other's sides."""
    corners = _frame(image) @ transform[:, :2].T + transform[:, 2]
    height, width = other.shape
    return (
        float(corners[:, 0].min() / width),
        float(corners[:, 1].min() / height),
        float(corners[:, 0].max() / width),
        float(corners[:, 1].max() / height),
    )


def _keeps_to_a_block(box, boxes, outer):
    """Whether an inner frame carried into outer (``box``, fractions of outer's sides) keeps to a block of
    outer, when some of its content boxes (``boxes``, ``(x, y, width, height)``) are blocks of their own
    (:func:`_is_block`): inside one, around all of it, or reaching past it only onto outer's flat background (a
    sky, a black margin). A framing of a text page that reaches past a collage's tile onto the tiles beside
    it, its lines matching the tile's a line off, shows what the tile does not."""
    blocks = [block for block in dict.fromkeys(boxes) if _is_block(block, outer)]
    return not blocks or any(_keeps_to(box, block, outer) for block in blocks)


def _keeps_to(box, block, outer):
    x, y, width, height = block
    outer_height, outer_width = outer.shape
    fractions = (x / outer_width, y / outer_height, (x + width) / outer_width, (y + height) / outer_height)
    if overlap(box, fractions) >= MIN_INSIDE:
        return True
    left, top = max(0, int(box[0] * outer_width)), max(0, int(box[1] * outer_height))
    right, bottom = min(outer_width, int(box[2] * outer_width) + 1), min(outer_height, int(box[3] * outer_height) + 1)
    beside = numpy.ones((bottom - top, right - left), bool)
    beside[max(0, y - top) : max(0, y + height - top), max(0, x - left) : max(0, x + width - left)] = False
    return not beside.any() or float(outer[top:bottom, left:right][beside].std()) < 2 * regions.BACKGROUND_TOLERANCE


def _inner_score(inner, outer, transform, block):
    """The inner frame's :func:`_cells_score`, or 0 when its content box (``block``, ``(x, y, width, height)``),
    if a block of its own (:func:`_is_block`), does not agree on its own: two slides of one template, two
    collages sharing their side tiles, agree on the title and the tiles and differ only in the photo the box
    holds."""
    score = _cells_score(inner, outer, transform) or 0.0
    if score == 0 or not _is_block(block, inner):
        return score
    x, y, width, height = block
    shifted = transform.copy()
    shifted[:, 2] += transform[:, :2] @ numpy.array([x, y], transform.dtype)
    # A box too flat to judge on its own (a sky) says nothing against the whole.
    return 0.0 if _cells_score(inner[y : y + height, x : x + width], outer, shifted) == 0 else score


def _is_block(block, image):
    """Whether a content box is a block of its own in image, as a photo in a collage, a screenshot or a slide
    is: a part of it, covering MIN_COVERAGE of it or more (not a star field's densest patch, nor the whole
    less a border)."""
    x, y, width, height = block
    return MIN_COVERAGE * image.size <= width * height <= WHOLE_BOX * image.size and min(width, height) >= MIN_BOX_SIDE


def _gradients(image):
    return numpy.stack([cv2.Sobel(image, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(image, cv2.CV_32F, 0, 1, ksize=3)])


def _cells_score(inner, outer, transform):
    """Share of inner's detailed cells whose gradients agree with outer's pixels carried onto them, 0 when too
    many are missing there or too few agree, None when too few have detail to judge; ``transform`` takes
    inner's pixels to outer's."""
    height, width = inner.shape
    scale = CELL_SIDE / max(height, width)
    # A whole number of pixels per cell, at least two each way.
    size = tuple(GRID * max(2, round(side * scale / GRID)) for side in (width, height))
    scale_x, scale_y = size[0] / width, size[1] / height
    # outer's pixels onto inner's frame, at CELL_SIDE
    onto = numpy.diag([scale_x, scale_y, 1.0]) @ numpy.vstack([cv2.invertAffineTransform(transform), [0, 0, 1]])
    warped = cv2.warpAffine(outer, onto[:2], size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    covered = cv2.warpAffine(numpy.ones_like(outer), onto[:2], size, flags=cv2.INTER_NEAREST, borderValue=0)
    a = _by_cell(_gradients(cv2.resize(inner, size, interpolation=cv2.INTER_AREA)))
    b = _by_cell(_gradients(warped))
    level_a, level_b = numpy.abs(a).mean(axis=1), numpy.abs(b).mean(axis=1)
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean(axis=1, keepdims=True)
    correlation = (a * b).sum(axis=1) / numpy.maximum(numpy.linalg.norm(a, axis=1) * numpy.linalg.norm(b, axis=1), 1e-6)
    detailed = level_a >= FLAT
    missing = detailed & ((_by_cell(covered[None]).mean(axis=1) < 0.5) | (level_b < MISSING_RATIO * level_a))
    agreeing = detailed & ~missing & (correlation >= CELL_AGREES)
    count = int(detailed.sum())
    if count < MIN_CELLS:
        return None
    if missing.sum() > MAX_MISSING * count or agreeing.sum() < MIN_AGREEING * count:
        return 0.0
    return float(agreeing.sum() / count)


def _by_cell(planes):
    """``(GRID * GRID, values)``: the values of each cell of planes shaped ``(k, height, width)``."""
    k, height, width = planes.shape
    cells = planes.reshape(k, GRID, height // GRID, GRID, width // GRID).transpose(1, 3, 0, 2, 4)
    return cells.reshape(GRID * GRID, -1)
