"""Formats: what a file is from its bytes, what its extension promises, and what it may cost to read.

Only raster photo formats are read, each by its own ImageMagick coder (or, for RAW files, through
exiftool's preview): a file's bytes decide, never its name, and never ImageMagick's guess, which
would render an SVG, a PostScript or a text file named .jpg as a picture. Videos likewise: each
container is read by the FFmpeg demuxer its bytes name (shashin.video.DEMUXERS).
"""

import os
import struct
import zlib

RAW_EXTENSIONS = frozenset(
    ".dng .cr2 .cr3 .nef .nrw .arw .srf .sr2 .orf .rw2 .raf .pef .srw .x3f .3fr .erf .kdc .mrw".split()
)
#: The formats each image extension promises; RAW files are TIFF inside, or a maker's own container.
EXTENSION_FORMATS = {
    **{ext: frozenset({"TIFF", "RAW"}) for ext in RAW_EXTENSIONS},
    **{ext: frozenset({"JPEG"}) for ext in (".jpg", ".jpeg", ".jpe", ".jfif")},
    ".png": frozenset({"PNG"}),
    ".gif": frozenset({"GIF"}),
    ".tif": frozenset({"TIFF"}),
    ".tiff": frozenset({"TIFF"}),
    ".webp": frozenset({"WEBP"}),
    # One container (HEIF) for both codecs: phones and converters are loose about which name they give.
    **{ext: frozenset({"HEIC", "AVIF"}) for ext in (".heic", ".heif", ".avif")},
    ".bmp": frozenset({"BMP"}),
    ".jxl": frozenset({"JXL"}),
    ".jp2": frozenset({"JP2"}),
}
IMAGE_EXTENSIONS = frozenset(EXTENSION_FORMATS)
#: The formats :func:`video_format_of` names.
VIDEO_FORMATS = ("MP4", "MOV", "3GP", "MKV", "WEBM", "AVI", "MPEG-TS", "MPEG-PS", "WMV", "FLV")
VIDEO_EXTENSIONS = frozenset(".mov .mp4 .m4v .3gp .3g2 .avi .mts .m2ts .mkv .webm .wmv .mpg .mpeg .insv .lrv".split())

#: ImageMagick coder for each format it reads here; RAW files never reach ImageMagick.
CODERS = {
    "JPEG": "JPEG",
    "PNG": "PNG",
    "GIF": "GIF",
    "TIFF": "TIFF",
    "WEBP": "WEBP",
    "HEIC": "HEIC",
    "AVIF": "AVIF",
    "BMP": "BMP",
    "JXL": "JXL",
    "JP2": "JP2",
}


def is_raw(file_format):
    """Whether a recorded format is a camera's RAW: "RAW", or a RAW file's own (NEF, CR2, DNG...)."""
    return file_format == "RAW" or "." + file_format.lower() in RAW_EXTENSIONS


#: Every format a record may name: the images' (a RAW file's by its extension), the videos'.
FORMAT_NAMES = frozenset(CODERS) | {"RAW"} | {ext[1:].upper() for ext in RAW_EXTENSIONS} | set(VIDEO_FORMATS)

#: (offset, signature, format), first match wins: more specific signatures before the TIFF they extend.
_MAGIC = (
    (0, b"\xff\xd8\xff", "JPEG"),
    (0, b"\x89PNG\r\n\x1a\n", "PNG"),
    (0, b"GIF87a", "GIF"),
    (0, b"GIF89a", "GIF"),
    (0, b"IIRO", "RAW"),  # Olympus ORF
    (0, b"IIRS", "RAW"),
    (0, b"MMOR", "RAW"),
    (0, b"IIU\x00", "RAW"),  # Panasonic RW2
    (0, b"FUJIFILMCCD-RAW", "RAW"),
    (0, b"FOVb", "RAW"),  # Sigma X3F
    (0, b"\x00MRM", "RAW"),  # Minolta MRW
    (4, b"ftypcrx ", "RAW"),  # Canon CR3
    (0, b"II*\x00", "TIFF"),  # and the RAW formats built on TIFF (DNG, CR2, NEF, ARW...)
    (0, b"MM\x00*", "TIFF"),
    (0, b"II+\x00", "TIFF"),  # BigTIFF
    (0, b"MM\x00+", "TIFF"),
    (0, b"BM", "BMP"),
    (0, b"\xff\x0a", "JXL"),
    (0, b"\x00\x00\x00\x0cJXL \r\n\x87\n", "JXL"),
    (0, b"\x00\x00\x00\x0cjP  \r\n\x87\n", "JP2"),
    (0, b"\xff\x4f\xff\x51", "JP2"),  # a bare JPEG 2000 codestream
)
_HEIF_BRANDS = {
    b"heic": "HEIC",
    b"heix": "HEIC",
    b"hevc": "HEIC",
    b"hevx": "HEIC",
    b"heim": "HEIC",
    b"heis": "HEIC",
    b"mif1": "HEIC",
    b"msf1": "HEIC",
    b"avif": "AVIF",
    b"avis": "AVIF",
}

#: How much of a file's start :func:`sniff` and :func:`describe` look at.
HEAD_BYTES = 1 << 12


def extension(path):
    return os.path.splitext(path)[1].lower()


def sniff(head):
    """The raster format of a file from its first bytes ("JPEG", "PNG", ..., "RAW"), or None."""
    for offset, signature, format_ in _MAGIC:
        if head.startswith(signature, offset):
            return format_
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[4:8] == b"ftyp":
        return _HEIF_BRANDS.get(head[8:12])
    return None


#: ISO base media (ftyp) brands of audio, not video, files.
_AUDIO_BRANDS = frozenset({b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B "})
#: QuickTime atoms a .mov file without an ftyp atom starts with.
_QUICKTIME_ATOMS = frozenset({b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"})
_ASF = b"\x30\x26\xb2\x75\x8e\x66\xcf\x11\xa6\xd9\x00\xaa\x00\x62\xce\x6c"


def sniff_video(head):
    """The container format of a video from its first bytes ("MP4", "MOV", "3GP", "MKV", "WEBM", "AVI",
    "MPEG-TS", "MPEG-PS", "WMV", "FLV"), or None. An ISO file of an image or audio brand is none."""
    if head[4:8] == b"ftyp" and sniff(head) is None:
        brand = head[8:12]
        if brand in _AUDIO_BRANDS:
            return None
        return "MOV" if brand == b"qt  " else "3GP" if brand.startswith(b"3g") else "MP4"
    if head[4:8] in _QUICKTIME_ATOMS:
        return "MOV"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "WEBM" if b"webm" in head[:64] else "MKV"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "AVI"
    if len(head) > 392 and any(head[start : start + 377 : 188] == b"GGG" for start in (0, 4)):
        return "MPEG-TS"  # 188-byte packets, or 192 with a timecode before each (M2TS)
    if head.startswith(b"\x00\x00\x01\xba"):
        return "MPEG-PS"
    if head.startswith(_ASF):
        return "WMV"
    if head.startswith(b"FLV\x01"):
        return "FLV"
    return None


def is_video(path, head):
    """True when a file that is no image is worth a closer look as a video: a video extension or its bytes."""
    return extension(path) in VIDEO_EXTENSIONS or sniff_video(head) is not None


def video_format_of(path, head):
    """The container a video is read as, from its bytes; :class:`NotItsFormat` when they are no video."""
    found = sniff_video(head)
    if found is None:
        raise NotItsFormat("its bytes are {}, not a video; not scanned".format(describe(head)))
    return found


def is_image(path, head):
    """True when a file is worth a closer look: a known image extension, or image magic bytes."""
    return extension(path) in IMAGE_EXTENSIONS or sniff(head) is not None


class NotItsFormat(Exception):
    """A file whose bytes are not the format its extension promises; the message says what they are."""


def format_of(path, head):
    """The format to read a file as, from its bytes; None for a file that is not an image.

    A file with an image extension must hold that format (else :class:`NotItsFormat`); a file
    without one is read by its magic bytes.
    """
    found = sniff(head)
    promised = EXTENSION_FORMATS.get(extension(path))
    if promised is None or found in promised:
        return found
    raise NotItsFormat(
        "its bytes are {}, not {}; not scanned".format(found or describe(head), "/".join(sorted(promised)))
    )


def describe(head):
    """What bytes that are no raster format look like, for a message: "SVG", "text", ..."""
    start = head.lstrip()[:HEAD_BYTES].lower()
    if start.startswith(b"%pdf"):
        return "PDF"
    if start.startswith(b"%!"):
        return "PostScript"
    if b"<svg" in start:
        return "SVG"
    if start.startswith((b"<?xml", b"<!doctype", b"<html")):
        return "XML or HTML"
    if not head:
        return "empty"
    video = sniff_video(head)
    if video:
        return "a video ({})".format(video)
    if head[4:8] == b"ftyp":
        return "audio or another ISO media file"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return "no image format shashin reads"
    return "text"


#: What the text and profile chunks of one PNG may inflate to, together. ImageMagick and exiftool
#: inflate them whole, with no limit of their own: a 1 MB zTXt chunk of zeros becomes 1 GB.
PNG_TEXT_LIMIT = 16 << 20
_PNG_TEXT_CHUNKS = frozenset({b"tEXt", b"zTXt", b"iTXt", b"iCCP", b"eXIf"})
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_READ_BLOCK = 1 << 16


def png_text_problem(handle):
    """Why a PNG's text chunks are too big to read (they would inflate past the limit), or None.

    handle is the file open for binary reading, at any position. Reads the chunk headers and
    inflates compressed chunks up to the limit only, so a decompression bomb costs milliseconds
    and no memory. Not a PNG: None.
    """
    handle.seek(0)
    if handle.read(len(_PNG_SIGNATURE)) != _PNG_SIGNATURE:
        return None
    budget = PNG_TEXT_LIMIT
    while True:
        header = handle.read(8)
        if len(header) < 8 or header[4:] == b"IEND":
            return None
        length, kind = struct.unpack(">I4s", header)
        if kind not in _PNG_TEXT_CHUNKS:
            handle.seek(length + 4, os.SEEK_CUR)
            continue
        budget -= _text_chunk_size(handle, kind, length, budget)
        if budget < 0:
            return "its PNG {} metadata inflates to more than {} MB (a decompression bomb?); not read".format(
                kind.decode("ascii"), PNG_TEXT_LIMIT >> 20
            )
        handle.seek(4, os.SEEK_CUR)


def _text_chunk_size(handle, kind, length, budget):
    """The size a text chunk takes once read (inflated when compressed), counted up to budget + 1.

    Leaves the handle at the chunk's CRC.
    """
    end = handle.tell() + length
    head = handle.read(min(length, 160))
    compressed_from = _compressed_start(kind, head)
    if compressed_from is None or length > budget:
        handle.seek(end)
        return length
    inflater = zlib.decompressobj()
    size = compressed_from
    pending = head[compressed_from:]
    while size <= budget:
        try:
            size += len(inflater.decompress(pending, budget + 1 - size))
        except zlib.error:
            break  # corrupt: the readers give up on it too
        if inflater.unconsumed_tail:
            size += 1  # more output is waiting than the budget allows
            break
        if inflater.eof or handle.tell() >= end:
            break
        pending = handle.read(min(_READ_BLOCK, end - handle.tell()))
    handle.seek(end)
    return size


def _compressed_start(kind, head):
    """Where zlib data starts in a text chunk's data, or None when the chunk is stored as is."""
    keyword_end = head.find(b"\0")
    if keyword_end < 0 or kind in (b"tEXt", b"eXIf"):
        return None
    if kind in (b"zTXt", b"iCCP"):
        return keyword_end + 2  # the keyword's NUL, then the compression method
    # iTXt: keyword NUL, compression flag, method, language tag NUL, translated keyword NUL.
    if head[keyword_end + 1 : keyword_end + 2] != b"\x01":
        return None
    language_end = head.find(b"\0", keyword_end + 3)
    translated_end = head.find(b"\0", language_end + 1) if language_end >= 0 else -1
    return translated_end + 1 if translated_end >= 0 else None
