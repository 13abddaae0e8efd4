"""Decoding with Wand (ImageMagick): dimensions, difference hash and thumbnail from one decode."""

import ctypes
import os
import re
import tempfile
import threading

import numpy
from wand.api import libmagick, library
from wand.exceptions import ResourceLimitError, WandException, WandRuntimeError
from wand.image import ORIENTATION_TYPES as ORIENTATIONS
from wand.image import Image
from wand.resource import limits

from .dhash import dhashes
from .exif import Session
from .formats import CODERS, RAW_EXTENSIONS, extension, sniff
from .similarity import VIEW_SIDE

THUMBNAIL_EDGE = 256
#: Short side a thumbnail keeps at least (a 16:9 picture's), its long edge growing for it up to
#: THUMBNAIL_LONGEST: 256 px long, the photo inside a wide collage or a tall screenshot is too small to verify
#: across a change of frame (docs/accuracy.md).
THUMBNAIL_SHORT = THUMBNAIL_EDGE * 9 // 16
THUMBNAIL_LONGEST = 3 * THUMBNAIL_EDGE
THUMBNAIL_QUALITY = 80
#: Longest edge of a photo converted for a browser that cannot show its format.
FULL_IMAGE_EDGE = 4096
#: Largest image decoded at full size, unless ImageMagick's own limits allow less (decode_limit).
#: JPEGs are decoded scaled down by libjpeg, so this bounds PNG, TIFF and the like.
MAX_PIXELS = 120_000_000
#: Pixel cache bytes a decode takes per pixel, measured on the worst case: ImageMagick 6 (Q16) keeps
#: 8 bytes a pixel, and a greyscale PNG needs a second image on the way (one of 59 MP decodes within a
#: 1 GiB disk limit, one of 60 MP does not; RGB ones decode up to 133 MP).
CACHE_BYTES_PER_PIXEL = 18

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


def magick_name(path, format_):
    """The name ImageMagick is given for a file of a known format (formats.format_of).

    The coder prefix makes ImageMagick use that coder and never guess from the content;
    the frame suffix makes it read only the first frame of a GIF, TIFF or HEIC sequence
    (it still opens a file whose own name ends in brackets).
    """
    return coder(format_).encode("ascii") + b":" + os.fsencode(path) + b"[0]"


def coder(format_):
    """The ImageMagick coder that reads a format (as formats.sniff names it); ImageError for any other."""
    if format_ not in CODERS:
        raise ImageError("{} is not a format shashin decodes with ImageMagick".format(format_ or "this"))
    return CODERS[format_]


def analyse(path, format_, source=None):
    """Decode an image file once; return ``(fields, thumbnail_jpeg)``.

    format_ is the file's format as its bytes say (formats.format_of). fields holds width
    and height as displayed (after EXIF orientation), the format, and the 64-bit
    difference hash as 16 hex digits. ``source``: where its bytes are read, when not from
    path (the scan's own open descriptor of it, ``/proc/PID/fd/N``).
    """
    try:
        if format_ == "RAW" or extension(path) in RAW_EXTENSIONS:
            return _analyse_raw(path, source)
        return _analyse(source or path, format_)
    except ResourceLimitError as error:
        raise ImageError("over ImageMagick's resource limits ({})".format(magick_message(error))) from None
    except WandRuntimeError as error:
        if "returns false" not in str(error):
            raise ImageError(magick_message(error)) from None
        # ImageMagick 6 drops some coders' reasons on the way to Wand; its size limits are the usual one.
        raise ImageError("ImageMagick refused it without saying why ({})".format(_limits_text())) from None
    except WandException as error:
        raise ImageError(magick_message(error)) from None


def _analyse(path, format_):
    # Read from the header where it is simple: a ping costs a third of a small JPEG's decode, and ImageMagick 6
    # decodes a WebP whole to ping it.
    size = _header_size(path, format_)
    if size is None:
        with Image.ping(filename=magick_name(path, format_)) as header:
            size = header.size
    width, height = size
    if not width or not height:
        raise ImageError("ImageMagick's {} coder found no picture in it".format(coder(format_)))
    if format_ != "JPEG":
        _check_size(width, height)
    with Image() as image:
        _hint_size(image, width, height)
        image.read(filename=magick_name(path, format_))
        warning = _decode_warning(image)
        if warning and "Premature end" in warning:
            raise ImageError("truncated file ({})".format(warning))
        return _finish(image, width, height, image.orientation, format_)


#: JPEG markers that start a frame (SOF0-SOF15 but DHT, JPG and DAC), its size in the bytes after them.
_JPEG_FRAMES = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_JPEG_SEGMENTS = 64


def _header_size(path, format_):
    """A JPEG's or WebP's size as its header says, or None (another format, or a header not read here)."""
    if format_ not in ("JPEG", "WEBP"):
        return None
    with open(path, "rb") as handle:
        if format_ == "WEBP":
            return _webp_size(handle.read(30))
        handle.seek(2)
        # Metadata segments come first; past a few dozen, the file is left to ImageMagick's ping.
        for _ in range(_JPEG_SEGMENTS):
            segment = handle.read(9)
            if len(segment) < 9 or segment[0] != 0xFF:
                return None
            if segment[1] in _JPEG_FRAMES:
                return int.from_bytes(segment[7:9], "big"), int.from_bytes(segment[5:7], "big")
            handle.seek(int.from_bytes(segment[2:4], "big") - 7, os.SEEK_CUR)
    return None


def _webp_size(head):
    """A WebP's canvas size as its first chunk says (VP8X, lossy VP8 or lossless VP8L), or None."""
    if len(head) < 30:
        return None
    chunk = head[12:16]
    if chunk == b"VP8X":
        return 1 + int.from_bytes(head[24:27], "little"), 1 + int.from_bytes(head[27:30], "little")
    if chunk == b"VP8 " and head[23:26] == b"\x9d\x01\x2a":
        return int.from_bytes(head[26:28], "little") & 0x3FFF, int.from_bytes(head[28:30], "little") & 0x3FFF
    if chunk == b"VP8L" and head[20] == 0x2F:
        bits = int.from_bytes(head[21:25], "little")
        return 1 + (bits & 0x3FFF), 1 + (bits >> 14 & 0x3FFF)
    return None


def thumbnail_of_pixels(rgb):
    """``(fields, thumbnail_jpeg)`` of a picture held as 8-bit RGB pixels (a video's poster frame), made as a
    photo's are."""
    try:
        with Image.from_array(rgb, channel_map="RGB", storage="char") as image:
            return _finish(image, image.width, image.height, None, None)
    except WandException as error:
        raise ImageError(magick_message(error)) from None


def decode_limit():
    """The most pixels decoded at full size: MAX_PIXELS, or less when ImageMagick's policy allows less.

    Checked before decoding, because a decode that runs out of pixel cache leaves ImageMagick 6's
    resource counts raised, and the process then refuses every large image after it.
    """
    return min(MAX_PIXELS, limits["disk"] // CACHE_BYTES_PER_PIXEL)


def _limits_text():
    """ImageMagick's size limits in this process, as a person reads them."""
    return "at most {:.1f} megapixels and {}x{} pixels here; ImageMagick's policy.xml sets its limits".format(
        decode_limit() / 1e6, limits["width"], limits["height"]
    )


def _check_size(width, height):
    """Refuse, with the reason, an image too large to decode at full size."""
    if width * height > decode_limit() or width > limits["width"] or height > limits["height"]:
        raise ImageError(
            "{}x{} pixels ({:.1f} megapixels) is too large to decode ({})".format(
                width, height, width * height / 1e6, _limits_text()
            )
        )


def view_from_thumbnail(jpeg):
    """The 64x64 greyscale view (uint8) of a JPEG thumbnail, aspect ratio not kept; ImageError if damaged."""
    try:
        with Image() as image:
            # libjpeg decodes at 1/2 scale (DCT scaling) where both sides stay 128 px or more (a 256 px
            # thumbnail; not a wide one's 144 px short side).
            image.options["jpeg:size"] = "{0}x{0}".format(2 * VIEW_SIDE)
            image.read(blob=jpeg)
            image.transform_colorspace("gray")
            image.resize(VIEW_SIDE, VIEW_SIDE)
            pixels = image.export_pixels(channel_map="R", storage="char")
    except WandException as error:
        raise ImageError(magick_message(error)) from None
    return numpy.frombuffer(bytes(pixels), numpy.uint8).reshape(VIEW_SIDE, VIEW_SIDE)


#: exiftool for RAW previews, started on the first RAW file this process meets.
_raw_previews = Session()


def _analyse_raw(path, source):
    # Debian's ImageMagick hands RAW files to ufraw, which is long gone; and developing a RAW file
    # would cost seconds. Cameras embed a full-size or large JPEG preview: that is what is hashed.
    preview = _raw_previews.preview(path, source)
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
    if image.colorspace != "srgb":
        # CMYK, greyscale and the rest: one colour space, so a copy's hash matches its original's.
        image.transform_colorspace("srgb")
    image.depth = 8
    scale = thumbnail_scale(image.width, image.height)
    if scale < 1:
        # Area averaging: a third of the cost of the Lanczos resize thumbnail() does, the same grouping
        # at the default threshold (docs/accuracy.md).
        image.scale(max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    if image.alpha_channel:
        # After the reduction, which weighs colours by their opacity: 12 ms less on a 3 MP screenshot,
        # the same pixels when opaque, within one level when not.
        image.background_color = "white"
        image.alpha_channel = "remove"
    image.strip()
    fields = {"width": width, "height": height, "format": format_, "dhash": dhash(image)}
    image.format = "jpeg"
    image.compression_quality = THUMBNAIL_QUALITY
    return fields, image.make_blob()


def thumbnail_scale(width, height):
    """The scale of a picture's thumbnail: THUMBNAIL_EDGE long, or THUMBNAIL_SHORT on its short side if that is
    larger (at most THUMBNAIL_LONGEST long)."""
    longest, shortest = max(width, height), min(width, height)
    return min(max(THUMBNAIL_EDGE / longest, THUMBNAIL_SHORT / shortest), THUMBNAIL_LONGEST / longest)


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
        return magick_message(reason.decode("utf-8", "replace")) if reason else None
    finally:
        libmagick.DestroyExceptionInfo(info)


def magick_message(error):
    """ImageMagick's message (an exception's, or text) as one line, without its source location and the
    repeated file name."""
    lines = str(error).strip().splitlines()
    if not lines:
        return type(error).__name__
    return re.sub(r" @ \S+$", "", re.sub(r" `[^`]*'", "", lines[0])).strip()


def browser_jpeg(blob, edge=FULL_IMAGE_EDGE, format_=None):
    """A JPEG of an image a browser cannot show (HEIC, TIFF, RAW...), from its file's bytes: the first
    frame, upright, its longest edge at most edge pixels (and never above FULL_IMAGE_EDGE).

    format_ is the format recorded at scan time: a RAW file's (CR2, NEF... anything ImageMagick is not
    given) is shown from the JPEG preview it embeds, as it was hashed.
    """
    edge = min(edge, FULL_IMAGE_EDGE)
    try:
        if format_ is not None and format_ not in CODERS:
            return _raw_browser_jpeg(blob, edge, format_)
        with Image(blob=blob, format=coder(sniff(blob))) as frames, Image(image=frames.sequence[0]) as image:
            return _scaled_jpeg(image, edge)
    except WandException as error:
        raise ImageError(magick_message(error)) from None


#: One request at a time to the RAW previews' exiftool, which the review server's threads share.
_raw_previews_lock = threading.Lock()


def _raw_browser_jpeg(blob, edge, format_):
    # exiftool reads files: the bytes already checked go to a private temporary copy, so that the
    # photo's path is never opened again (it may hold other bytes by now).
    with tempfile.TemporaryDirectory(prefix="shashin-raw-") as folder:
        copy = os.path.join(folder, "photo." + re.sub(r"[^a-z0-9]", "", format_.lower()))
        with open(copy, "wb") as raw:
            raw.write(blob)
        with _raw_previews_lock:
            preview = _raw_previews.preview(copy)
    if preview is None:
        raise ImageError("RAW file without an embedded JPEG preview (ImageMagick cannot develop RAW files here)")
    with Image(blob=preview.jpeg) as image:
        image.orientation = ORIENTATIONS[preview.orientation if 1 <= preview.orientation <= 8 else 1]
        return _scaled_jpeg(image, edge)


def _scaled_jpeg(image, edge):
    """A decoded image upright, its longest edge at most edge, as a JPEG."""
    image.auto_orient()
    scale = edge / max(image.width, image.height)
    if scale < 1:
        # Area averaging: a third of the time of the default (Lanczos) resize of a 12 MP photo.
        image.scale(max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    image.format = "jpeg"
    image.compression_quality = 90
    return image.make_blob()
