"""Region hashes: soft difference hashes of the parts of a photo a copy may keep as its whole frame.

A copy cropped to another aspect ratio, or a photo inside a border, a frame, a screenshot or a slide, has an
upright hash nothing like the photo's: the squashed views line up different pixels. The photo's hash of the
region the copy kept, or the copy's hash of the photo it holds, does match the other's whole-frame hash. The
regions, from the thumbnail with its aspect ratio kept:

* the *content boxes*: the two largest blocks left after cutting, again and again, at rows and columns of
  the picture's background colour (a border, a frame and its mat, a screenshot's bars and caption, a slide's
  title, a collage's gutters): a framed copy's box is the photo it frames, and a collage's photo is one of
  its two largest tiles (a single tile beside it may be larger);
* the centre at 90% and 80%: a copy straightened and cropped, or cut evenly on every side;
* the sixteen frames cut by 4% or 11% on each side, independently: a crop off-centre by up to 15% a side
  lies within 4% of one of them on every side;
* the largest 16:9, 1:1, 4:5 and 9:16 frames, at :data:`ASPECT_PLACES` places along the sides they can
  slide on, shared among the four by how far each slides (wallpapers, square posts, portrait posts, stories);
* matched against the same part of other pictures (:func:`shared_hashes`): the middle band (the full
  width, the middle 60% of the height), which large caption text at the top and bottom leaves alone, and
  the centre (the middle 70% both ways), which a filter's vignette darkens least.

A region never lines up exactly with the copy's frame, and a dHash of 9x8 cells moves 6 to 12 bits when the
frame is off by 5%: the regions and the whole frame they are compared with are hashed *soft*
(:func:`soft_dhashes`, each cell blurred into its neighbours), which moves about half as much. These
candidates are verified by :mod:`shashin.verify`, which does not need the region to be exact.
"""

import functools
import itertools

import numpy

from .dhash import area_resampler, dhashes

#: (width, height) of the aspect-changing crops searched.
ASPECTS = ((16, 9), (1, 1), (4, 5), (9, 16))
#: Places of the aspect frames in all, shared among them by how far each slides. A slide across counts
#: double: a dHash's bits compare neighbours across, which a shift across moves most.
ASPECT_PLACES = 40
ACROSS_WEIGHT = 2.0
CENTRES = (0.9, 0.8)
#: What an off-centre frame cuts off each side (each side one of these, independently).
CUTS = (0.04, 0.11)
BAND = (0.2, 0.8)
SHARED_CENTRE = 0.7
#: Soft hashes: the region area-averaged to SOFT_SAMPLES, blurred by SOFT_BLUR samples (a Gaussian's sigma,
#: half a hash cell), then area-averaged to the hash's 9x8.
SOFT_SAMPLES = (36, 32)
SOFT_BLUR = 2.0
#: Grey levels within which a row or column is the background colour, in its spread and its mean.
BACKGROUND_TOLERANCE = 6.0
#: Content boxes hashed: the largest blocks (the largest repeated when there are fewer).
BOXES = 2
#: Regions hashed, in the order of :func:`region_hashes`.
COUNT = BOXES + len(CENTRES) + len(CUTS) ** 4 + ASPECT_PLACES


def region_hashes(grey):
    """``COUNT`` uint64 soft dHashes of a grey thumbnail's regions: content boxes, centres, cuts, aspect frames."""
    height, width = grey.shape
    boxes = [(x / width, y / height, (x + w) / width, (y + h) / height) for x, y, w, h in content_boxes(grey)]
    return soft_dhashes(_halved(grey), [*boxes, *_frame_boxes(height, width)])


def whole_hash(grey):
    """The soft dHash of the whole grey thumbnail, which other pictures' region hashes are compared with."""
    return soft_dhashes(_halved(grey), [(0.0, 0.0, 1.0, 1.0)])[0]


def _halved(grey):
    """The grey thumbnail at half its size (2x2 means), when both its sides are 128 pixels or more: what a
    36x32 soft hash samples is still there, at a quarter of the cost of resampling each region."""
    height, width = grey.shape
    if min(height, width) < 128:
        return numpy.asarray(grey, numpy.float32)
    even = numpy.asarray(grey[: height // 2 * 2, : width // 2 * 2], numpy.float32)
    return (even[0::2, 0::2] + even[1::2, 0::2] + even[0::2, 1::2] + even[1::2, 1::2]) * 0.25


def soft_dhashes(grey, boxes):
    """uint64 difference hashes of these boxes ``(left, top, right, bottom)`` (fractions) of a grey image, each
    cell blurred into its neighbours: a frame a little off moves fewer bits than :func:`dhashes` would."""
    rows, columns = SOFT_SAMPLES[1], SOFT_SAMPLES[0]
    height, width = grey.shape
    # A frame the whole height (or width) of the picture slides across (or down) it: its rows (columns) are
    # resampled once for all of them.
    across = area_resampler(rows, height) @ grey
    down = grey @ area_resampler(columns, width).T
    samples = []
    for box in boxes:
        x0, y0, x1, y1 = _pixels(grey.shape, *box)
        if y0 == 0 and y1 == height:
            samples.append(across[:, x0:x1] @ area_resampler(columns, x1 - x0).T)
        elif x0 == 0 and x1 == width:
            samples.append(area_resampler(rows, y1 - y0) @ down[y0:y1])
        else:
            samples.append(area_resampler(rows, y1 - y0) @ grey[y0:y1, x0:x1] @ area_resampler(columns, x1 - x0).T)
    return dhashes(_blur(rows) @ numpy.stack(samples) @ _blur(columns).T)


@functools.cache
def _blur(size):
    """The matrix of a Gaussian blur of SOFT_BLUR samples over ``size`` samples, its edges reflected."""
    offsets = numpy.arange(size)
    weights = numpy.exp(-0.5 * ((numpy.arange(-size, 2 * size)[None, :] - offsets[:, None]) / SOFT_BLUR) ** 2)
    blur = numpy.zeros((size, size))
    for column, sample in enumerate(numpy.concatenate([offsets[::-1], offsets, offsets[::-1]])):
        blur[:, sample] += weights[:, column]
    return (blur / blur.sum(axis=1, keepdims=True)).astype(numpy.float32)


def region_parts(grey):
    """The ``COUNT`` regions of a grey thumbnail (views into it): content boxes, centres, cuts, aspect frames."""
    boxes = [grey[y : y + height, x : x + width] for x, y, width, height in content_boxes(grey)]
    return [*boxes, *(_part(grey, *box) for box in _frame_boxes(*grey.shape))]


def _frame_boxes(height, width):
    """The regions but the content boxes, ``(left, top, right, bottom)`` as fractions: centres, cuts, aspect
    frames."""
    boxes = [((1 - centre) / 2, (1 - centre) / 2, (1 + centre) / 2, (1 + centre) / 2) for centre in CENTRES]
    boxes += [(left, top, 1 - right, 1 - bottom) for left, top, right, bottom in itertools.product(CUTS, repeat=4)]
    return boxes + aspect_frames(height, width)


def aspect_frames(height, width):
    """``ASPECT_PLACES`` boxes ``(left, top, right, bottom)``, as fractions: the largest frame of each of
    ASPECTS, at places evenly spread along the side it slides on, each given places in proportion to how far
    it slides (measured in its own length); a frame that cannot slide is hashed once, in the middle."""
    frames, reach = [], []
    for aspect_width, aspect_height in ASPECTS:
        frame_width = min(width, height * aspect_width / aspect_height)
        frame_height = min(height, width * aspect_height / aspect_width)
        frames.append((frame_width / width, frame_height / height))
        across, down = (width - frame_width) / frame_width, (height - frame_height) / frame_height
        reach.append(max(across * ACROSS_WEIGHT, down))
    places = [1] * len(ASPECTS)
    for _ in range(ASPECT_PLACES - len(ASPECTS)):
        # The next place to the frame whose places are farthest apart.
        places[max(range(len(ASPECTS)), key=lambda frame: reach[frame] / places[frame])] += 1
    boxes = []
    for (frame_width, frame_height), count in zip(frames, places):
        for place in numpy.linspace(0, 1, count).tolist() if count > 1 else [0.5]:
            left, top = (1 - frame_width) * place, (1 - frame_height) * place
            boxes.append((left, top, left + frame_width, top + frame_height))
    return boxes


def shared_hashes(grey):
    """The dHashes of the :func:`shared_parts`, compared with the same parts of other pictures."""
    return numpy.array([int(dhashes(part)) for part in shared_parts(grey)], numpy.uint64)


def shared_parts(grey):
    """The middle band (the full width, the middle 60% of the height) and the centre (the middle 70% both
    ways) of a grey thumbnail."""
    margin = (1 - SHARED_CENTRE) / 2
    return [_part(grey, 0, BAND[0], 1, BAND[1]), _part(grey, margin, margin, 1 - margin, 1 - margin)]


def content_box(grey):
    """``(x, y, width, height)`` of the largest block left after cutting, again and again, at background rows
    and columns (a collage's photo, not the column of smaller tiles beside it, however long that column is)."""
    return content_boxes(grey)[0]


def content_boxes(grey):
    """``BOXES`` blocks ``(x, y, width, height)`` left after cutting, again and again, at background rows and
    columns, the largest first (the largest repeated when fewer are left; the whole picture when nothing is
    cut)."""
    edges = numpy.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    blocks = sorted(_blocks(grey, float(numpy.median(edges)), 0, 0), key=lambda block: -block[2] * block[3])
    return (blocks + blocks[:1] * BOXES)[:BOXES]


def _blocks(grey, background, x, y):
    """The blocks a cut at background rows, else columns, leaves of grey (at x, y), each cut again in turn."""
    height, width = grey.shape
    for axis in (0, 1):
        lines = grey if axis == 0 else grey.T
        gap = (lines.std(axis=1) < BACKGROUND_TOLERANCE) & (
            numpy.abs(lines.mean(axis=1) - background) < BACKGROUND_TOLERANCE
        )
        runs = _runs(~gap)
        if not runs:
            return [(x, y, width, height)]
        if max(end - start for start, end in runs) == len(gap):
            continue
        blocks = [
            block
            for start, end in runs
            if end - start >= 8
            for block in (
                _blocks(grey[start:end], background, x, y + start)
                if axis == 0
                else _blocks(grey[:, start:end], background, x + start, y)
            )
        ]
        if blocks:
            return blocks
    return [(x, y, width, height)]


def _runs(mask):
    """``[(start, end)]`` of the runs of True in a boolean array."""
    padded = numpy.concatenate([[False], mask, [False]])
    changes = numpy.flatnonzero(padded[1:] != padded[:-1])
    return list(zip(changes[::2].tolist(), changes[1::2].tolist()))


def _part(grey, left, top, right, bottom):
    """The part of grey between these fractions of its width and height (at least 2 pixels each way)."""
    x0, y0, x1, y1 = _pixels(grey.shape, left, top, right, bottom)
    return grey[y0:y1, x0:x1]


def _pixels(shape, left, top, right, bottom):
    """``(x0, y0, x1, y1)``: the pixels of an image of this shape between these fractions of its sides."""
    height, width = shape
    x0, y0 = int(round(left * width)), int(round(top * height))
    return x0, y0, max(x0 + 2, int(round(right * width))), max(y0 + 2, int(round(bottom * height)))
