"""Decoding with Wand (ImageMagick): dimensions, difference hash and thumbnail from one decode."""

import ctypes
import os
import re

import numpy
from wand.api import libmagick, library
from wand.exceptions import WandException
from wand.image import ORIENTATION_TYPES as ORIENTATIONS
from wand.image import Image
from wand.resource import limits

from .dhash import dhashes
from .exif import Session
from .files import RAW_EXTENSIONS, extension

THUMBNAIL_EDGE = 256
THUMBNAIL_QUALITY = 80
#: Largest image decoded at full size. JPEGs are decoded scaled down by libjpeg, so
#: this bounds PNG, TIFF and the like: a 16000x16000 PNG is refused, not decoded.
MAX_PIXELS = 120_000_000

#: EXIF orientations (as Wand names them) that swap width and height on display.
_TRANSPOSING = frozenset({"left_top", "right_top", "right_bottom", "left_bottom"})


class ImageError(Exception):
    """A file that looks like an image but cannot be decoded; the message says why."""


def configure(threads=1, memory=256 << 20):
    """Bound ImageMagick in this process: one thread (workers are processes), bounded memory."""
    limits["thread"] = threads
    limits["memory"] = memory
    limits["map"] = 2 * memory
    limits["width"] = limits["height"] = 1 << 20
    limits["area"] = MAX_PIXELS * 2


def _magick_name(path):
    # The frame suffix makes ImageMagick read only the first frame of a GIF, TIFF or HEIC
    # sequence; it still opens a file whose own name ends in brackets.
    return os.fsencode(path) + b"[0]"


def analyse(path, head):
    """Decode an image file once; return ``(fields, thumbnail_jpeg)``.

    head is the file's first bytes (at least 12). fields holds width and height as
    displayed (after EXIF orientation), the format, and the 64-bit difference hash as
    16 hex digits.
    """
    try:
        if extension(path) in RAW_EXTENSIONS:
            return _analyse_raw(path)
        return _analyse(path, head)
    except WandException as error:
        raise ImageError(_first_line(error)) from None


def _analyse(path, head):
    with Image.ping(filename=_magick_name(path)) as header:
        format_ = _avif_or(header.format, head)
        width, height = header.width, header.height
        orientation = header.orientation
    if format_ != "JPEG" and width * height > MAX_PIXELS:
        raise ImageError(
            "{}x{} pixels ({:.0f} megapixels) is over the {:.0f}-megapixel decode limit".format(
                width, height, width * height / 1e6, MAX_PIXELS / 1e6
            )
        )
    with Image() as image:
        _hint_size(image, width, height)
        image.read(filename=_magick_name(path))
        warning = _decode_warning(image)
        if warning and "Premature end" in warning:
            raise ImageError("truncated file ({})".format(warning))
        return _finish(image, width, height, orientation, format_)


def _avif_or(format_, head):
    # ImageMagick 6 reads AVIF with its HEIC coder and calls it HEIC; the file's brand says which it is.
    return "AVIF" if format_ == "HEIC" and head[8:12] == b"avif" else format_


#: exiftool for RAW previews, started on the first RAW file this process meets.
_raw_previews = Session()


def _analyse_raw(path):
    # Debian's ImageMagick hands RAW files to ufraw, which is long gone; and developing a RAW file
    # would cost seconds. Cameras embed a full-size or large JPEG preview: that is what is hashed.
    preview = _raw_previews.preview(path)
    if preview is None:
        raise ImageError("RAW file without an embedded JPEG preview (ImageMagick cannot develop RAW files here)")
    with Image.ping(blob=preview.jpeg) as header:
        size = header.size
    width, height = (preview.width, preview.height) if preview.width and preview.height else size
    with Image() as image:
        _hint_size(image, *size)
        image.read(blob=preview.jpeg)
        # The preview is stored as the sensor sees it; the RAW file's own tag says how to turn it.
        image.orientation = ORIENTATIONS[preview.orientation if 1 <= preview.orientation <= 8 else 1]
        return _finish(image, width, height, image.orientation, preview.format)


def _hint_size(image, width, height):
    if min(width, height) > THUMBNAIL_EDGE:
        # libjpeg then decodes at 1/2, 1/4 or 1/8 scale (DCT scaling), never below this size.
        # Not for smaller images: there the hint makes libjpeg scale up.
        image.options["jpeg:size"] = "{0}x{0}".format(THUMBNAIL_EDGE)


def _finish(image, width, height, orientation, format_):
    """Orientation, colour space, thumbnail and hash of a decoded image; dimensions as displayed."""
    if orientation in _TRANSPOSING:
        width, height = height, width
    image.auto_orient()
    if image.alpha_channel:
        image.background_color = "white"
        image.alpha_channel = "remove"
    if image.colorspace != "srgb":
        # CMYK, greyscale and the rest: one colour space, so a copy's hash matches its original's.
        image.transform_colorspace("srgb")
    image.depth = 8
    scale = THUMBNAIL_EDGE / max(image.width, image.height)
    if scale < 1:
        # Area averaging: a third of the cost of the Lanczos resize thumbnail() does, the same grouping
        # at the default threshold (docs/accuracy.md).
        image.scale(max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    image.strip()
    fields = {"width": width, "height": height, "format": format_, "dhash": dhash(image)}
    image.format = "jpeg"
    image.compression_quality = THUMBNAIL_QUALITY
    return fields, image.make_blob()


#: Weights of the luma of gamma-encoded RGB (Rec. 601): a colour file and its greyscale copy agree.
_LUMA = numpy.array([0.299, 0.587, 0.114], numpy.float32)


def dhash(image):
    """The 64-bit difference hash of an 8-bit image, as 16 hex digits."""
    rgb = numpy.frombuffer(image.make_blob("RGB"), numpy.uint8).reshape(image.height, image.width, 3)
    return "{:016x}".format(int(dhashes(rgb @ _LUMA)))


class _ExceptionInfo(ctypes.Structure):
    _fields_ = [
        ("severity", ctypes.c_int),
        ("error_number", ctypes.c_int),
        ("reason", ctypes.c_char_p),
        ("description", ctypes.c_char_p),
    ]


library.GetImageFromMagickWand.argtypes = [ctypes.c_void_p]
library.GetImageFromMagickWand.restype = ctypes.c_void_p
libmagick.AcquireExceptionInfo.restype = ctypes.POINTER(_ExceptionInfo)
libmagick.GetImageException.argtypes = [ctypes.c_void_p, ctypes.POINTER(_ExceptionInfo)]
libmagick.DestroyExceptionInfo.argtypes = [ctypes.POINTER(_ExceptionInfo)]


def _decode_warning(image):
    """The decoder's warning for an image that did decode, or None.

    ImageMagick 6 keeps a truncated JPEG's "Premature end of JPEG file" on the image,
    not on the wand, so Wand never raises it; MagickCore's GetImageException finds it.
    """
    info = libmagick.AcquireExceptionInfo()
    try:
        libmagick.GetImageException(library.GetImageFromMagickWand(image.wand), info)
        reason = info.contents.reason
        return _first_line(reason.decode("utf-8", "replace")) if reason else None
    finally:
        libmagick.DestroyExceptionInfo(info)


def _first_line(error):
    """ImageMagick's message without its source location and the repeated file name."""
    lines = str(error).strip().splitlines()
    if not lines:
        return type(error).__name__
    return re.sub(r" @ \S+$", "", re.sub(r" `[^`]*'", "", lines[0])).strip()
