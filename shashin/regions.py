"""Region hashes: difference hashes of the parts of a photo a copy may keep as its whole frame.

A copy cropped to another aspect ratio, or a photo inside a border, a frame, a screenshot or a slide, has an
upright hash nothing like the photo's: the squashed views line up different pixels. The photo's hash of the
region the copy kept, or the copy's hash of the photo it holds, does match the other's upright hash. The
regions, from the thumbnail with its aspect ratio kept:

* the *content box*: the largest block left after cutting, again and again, at rows and columns of the
  picture's background colour (a border, a frame and its mat, a screenshot's bars and caption, a slide's
  title, a collage's gutters): a framed copy's box is the photo it frames;
* the centre at 80%: a copy straightened and cropped, or cut more than the crop view's 5% a side;
* the largest 16:9, 1:1, 4:5 and 9:16 frames, at the middle and at a quarter and three quarters of the
  way along the side they can slide on: wallpapers, square posts, portrait posts and stories;
* matched against the same part of other pictures (:func:`shared_hashes`): the middle band (the full
  width, the middle 60% of the height), which large caption text at the top and bottom leaves alone, and
  the centre (the middle 70% both ways), which a filter's vignette darkens least.

These candidates are verified by :mod:`shashin.verify`, which does not need the region to be exact.
"""

import numpy

from .dhash import dhashes

#: (width, height) of the aspect-changing crops searched, and where along their free side.
ASPECTS = ((16, 9), (1, 1), (4, 5), (9, 16))
POSITIONS = (0.25, 0.5, 0.75)
CENTRE = 0.8
BAND = (0.2, 0.8)
SHARED_CENTRE = 0.7
#: Grey levels within which a row or column is the background colour, in its spread and its mean.
BACKGROUND_TOLERANCE = 6.0
#: Regions hashed, in the order of :func:`region_hashes`.
COUNT = 2 + len(ASPECTS) * len(POSITIONS)


def region_hashes(grey):
    """``COUNT`` uint64 dHashes of a grey thumbnail's regions: content box, centre, the aspect frames."""
    return numpy.array([int(dhashes(region)) for region in region_parts(grey)], numpy.uint64)


def region_parts(grey):
    """The ``COUNT`` regions of a grey thumbnail (views into it): content box, centre, the aspect frames."""
    height, width = grey.shape
    x, y, box_width, box_height = content_box(grey)
    margin = (1 - CENTRE) / 2
    regions = [
        grey[y : y + box_height, x : x + box_width],
        _part(grey, margin, margin, 1 - margin, 1 - margin),
    ]
    for aspect_width, aspect_height in ASPECTS:
        frame_width = min(width, height * aspect_width / aspect_height)
        frame_height = min(height, width * aspect_height / aspect_width)
        for position in POSITIONS:
            left, top = (width - frame_width) * position / width, (height - frame_height) * position / height
            regions.append(_part(grey, left, top, left + frame_width / width, top + frame_height / height))
    return regions


def shared_hashes(grey):
    """The dHashes of the :func:`shared_parts`, compared with the same parts of other pictures."""
    return numpy.array([int(dhashes(part)) for part in shared_parts(grey)], numpy.uint64)


def shared_parts(grey):
    """The middle band (the full width, the middle 60% of the height) and the centre (the middle 70% both
    ways) of a grey thumbnail."""
    margin = (1 - SHARED_CENTRE) / 2
    return [_part(grey, 0, BAND[0], 1, BAND[1]), _part(grey, margin, margin, 1 - margin, 1 - margin)]


def content_box(grey):
    """``(x, y, width, height)`` of the largest block left after cutting at background rows and columns."""
    edges = numpy.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    return _largest_block(grey, float(numpy.median(edges)), 0, 0)


def _largest_block(grey, background, x, y):
    height, width = grey.shape
    for axis in (0, 1):
        lines = grey if axis == 0 else grey.T
        gap = (lines.std(axis=1) < BACKGROUND_TOLERANCE) & (
            numpy.abs(lines.mean(axis=1) - background) < BACKGROUND_TOLERANCE
        )
        runs = _runs(~gap)
        if not runs:
            return x, y, width, height
        start, end = max(runs, key=lambda run: run[1] - run[0])
        if end - start < len(gap) and end - start >= 8:
            if axis == 0:
                return _largest_block(grey[start:end], background, x, y + start)
            return _largest_block(grey[:, start:end], background, x + start, y)
    return x, y, width, height


def _runs(mask):
    """``[(start, end)]`` of the runs of True in a boolean array."""
    padded = numpy.concatenate([[False], mask, [False]])
    changes = numpy.flatnonzero(padded[1:] != padded[:-1])
    return list(zip(changes[::2].tolist(), changes[1::2].tolist()))


def _part(grey, left, top, right, bottom):
    """The part of grey between these fractions of its width and height (at least 2 pixels each way)."""
    height, width = grey.shape
    x0, y0 = int(round(left * width)), int(round(top * height))
    return grey[y0 : max(y0 + 2, int(round(bottom * height))), x0 : max(x0 + 2, int(round(right * width)))]
