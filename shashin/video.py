"""Videos: decoded at their keyframes only, at a reduced size, into what shashin keeps of them.

What a video yields (:func:`analyse`): its facts (duration, size as displayed, frame rate, codec, bit
rate, display rotation), a poster frame as its thumbnail, and its fingerprint: a 16x16 grey view of the
frame shown at every :data:`INTERVAL` of the clip, upright as displayed, from which grouping derives
each second's dHash and gradients in any quarter turn (a copy whose rotation flag was changed or
dropped shows its frames turned). Only keyframes are decoded, and only to that view: a frame between
keyframes costs nothing, which makes the fingerprint about as fast as reading the keyframes
(docs/performance.md). The fixed grid, each point taking the nearest keyframe, is what lets a
re-encode with other keyframes, or a copy trimmed at any instant, line up with its original
(:mod:`shashin.video_groups`).

PyAV (FFmpeg's libraries, inside its wheel) is imported by the functions that decode, so that a
rescan of unchanged files never loads it. Each file is read by the demuxer its bytes name
(:func:`shashin.formats.video_format_of`), never by FFmpeg's guess, which would follow a playlist's
links to other files or hosts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy

from . import similarity
from .dhash import dhashes

#: Seconds between two points of a fingerprint.
INTERVAL = 1.0
#: Side of the grey view each keyframe is reduced to: what is kept of it, 256 bytes a second.
VIEW_SIDE = 16
#: Quarter turns a frame is compared in (counter-clockwise, as numpy.rot90 turns).
TURNS = 4
#: Longest edge of the poster frame handed to the thumbnail maker (which makes it 256 px).
POSTER_EDGE = 512
#: Largest coded frame decoded (an 8K frame is 33 megapixels).
MAX_PIXELS = 80_000_000
#: Longest video fingerprinted (a day): a fingerprint holds a view per second, so a file whose timestamps jump
#: by months would otherwise ask for gigabytes.
MAX_SECONDS = 24 * 3600
#: Share of its announced duration a video must reach to be whole: less is a truncated file.
WHOLE_SHARE = 0.9
#: The FFmpeg demuxer of each container format shashin reads (formats.VIDEO_FORMATS' names).
DEMUXERS = {
    "MP4": "mov",
    "MOV": "mov",
    "3GP": "mov",
    "MKV": "matroska",
    "WEBM": "matroska",
    "AVI": "avi",
    "MPEG-TS": "mpegts",
    "MPEG-PS": "mpeg",
    "WMV": "asf",
    "FLV": "flv",
}
#: The decoder's options: no deblocking and FFmpeg's non-conforming shortcuts, which change nothing a 16x16
#: view shows and halve the cost of an H.264 keyframe (docs/performance.md).
DECODER_OPTIONS = {"skip_loop_filter": "all", "flags2": "+fast"}
#: FFmpeg's options for every file: no protocol but a plain file, whatever a container points to.
_OPEN_OPTIONS = {"protocol_whitelist": "file", "enable_drefs": "0"}


class VideoError(Exception):
    """A file that looks like a video but cannot be read as one; the message says why."""


@dataclass
class Fingerprint:
    """A video's frames on a grid of :data:`INTERVAL` seconds: ``views`` (n, VIEW_SIDE, VIEW_SIDE) uint8, the
    grey view of the keyframe shown nearest each point, upright as displayed."""

    views: numpy.ndarray

    def hashes(self, turns=TURNS):
        """``(n, turns)`` uint64: each view's dHash, turned 0, 1, 2, 3 quarters counter-clockwise."""
        views = self.views.astype(numpy.float32)
        return numpy.stack([dhashes(numpy.rot90(views, turn, axes=(1, 2))) for turn in range(turns)], axis=1)

    def spreads(self):
        """Range of the middle 80% of each view's grey levels: near zero for a black or white frame."""
        return similarity.spreads(self.views)

    def hex(self):
        """The upright hashes as 16 hex digits each: the record's ``frame_hashes``."""
        return ["{:016x}".format(int(value)) for value in self.hashes(1)[:, 0]]


@dataclass
class Analysis:
    """What :func:`analyse` makes of a video: its record's fields, its poster as 8-bit RGB pixels, its
    fingerprint."""

    fields: dict
    poster: numpy.ndarray
    fingerprint: Fingerprint


def analyse(path, format_):
    """Read a video (format_ as :func:`shashin.formats.video_format_of` names it): :class:`Analysis`, or
    :class:`VideoError` saying why not."""
    import av

    try:
        with av.open(path, format=DEMUXERS[format_], options=_OPEN_OPTIONS) as media:
            return _analyse(media, format_)
    except av.FFmpegError as error:
        raise VideoError(ffmpeg_message(error)) from None
    except (EOFError, UnicodeDecodeError, ValueError) as error:
        raise VideoError("FFmpeg cannot read it ({})".format(error)) from None
    except (AttributeError, TypeError, ArithmeticError, IndexError, KeyError) as error:
        # A file cut inside its header can leave PyAV a stream with parts missing (no codec context, no
        # time base): whatever is missing, it is the file's fault, not a reason to stop the run.
        raise VideoError(
            "FFmpeg cannot make sense of its header ({}: {})".format(type(error).__name__, error)
        ) from None


def ffmpeg_message(error):
    """FFmpeg's reason for an error, without the file name PyAV adds."""
    reason = getattr(error, "strerror", None) or str(error)
    return "FFmpeg cannot read it: {}".format(str(reason).strip().rstrip(".").lower() or type(error).__name__)


def _analyse(media, format_):
    stream = _picture_stream(media)
    context = stream.codec_context
    if context.width * context.height > MAX_PIXELS:
        raise VideoError(
            "{}x{} pixels per frame is too large to decode (at most {:.0f} megapixels)".format(
                context.width, context.height, MAX_PIXELS / 1e6
            )
        )
    # Workers are processes, one per core: a decoder thread each.
    context.thread_count = 1
    context.options = DECODER_OPTIONS
    context.skip_frame = "NONKEY"
    start = float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0
    announced = _duration(media, stream)
    times, views, rotation, poster, last = [], [], 0, None, 0.0
    for packet in media.demux(stream):
        if packet.pts is not None:
            last = max(last, float((packet.pts + (packet.duration or 0)) * packet.time_base) - start)
        # The flush packet at the end (size 0) gets out the frames a decoder holds back to reorder them.
        if not (packet.is_keyframe or packet.size == 0):
            continue
        for frame in _decoded(packet):
            moment = float(frame.time) - start if frame.time is not None else last
            rotation = _quarter_turns(frame.rotation)
            view = frame.reformat(VIEW_SIDE, VIEW_SIDE, format="gray", interpolation="AREA").to_ndarray()
            times.append(moment)
            views.append(numpy.rot90(view, rotation))
            # The poster: the keyframe nearest the middle of the clip.
            if poster is None or abs(moment - announced / 2) < abs(poster[0] - announced / 2):
                poster = (moment, frame)
    if not times:
        raise VideoError("no picture could be decoded (a damaged or truncated file?)")
    duration = announced or last
    if announced and last < announced * WHOLE_SHARE:
        raise VideoError("truncated file: its frames stop at {:.1f} s of {:.1f} s".format(last, announced))
    width, height = (context.width, context.height) if rotation % 2 == 0 else (context.height, context.width)
    fields = {
        "width": width,
        "height": height,
        "format": format_,
        "dhash": None,
        "duration": round(duration, 3),
        "frame_rate": _rate(stream),
        "video_codec": context.name,
        "bitrate": context.bit_rate or media.bit_rate or None,
        "rotation": (rotation * 270) % 360,
    }
    print_ = fingerprint(numpy.array(times), numpy.stack(views), duration)
    fields["frame_hashes"] = print_.hex()
    return Analysis(fields, _pixels(poster[1], rotation), print_)


def _picture_stream(media):
    """The video stream of a file (the first that is not cover art), or VideoError saying what it holds."""
    for stream in media.streams.video:
        context = stream.codec_context
        if context is not None and not stream.disposition & stream.disposition.attached_pic and context.width:
            return stream
    if any(stream.codec_context is None for stream in media.streams.video):
        raise VideoError("its video track says nothing of its codec (a file cut inside its header?)")
    if media.streams.audio:
        raise VideoError("audio only: it has no picture")
    raise VideoError("no video stream in it")


def _decoded(packet):
    """The frames of one packet; none when it is damaged (the next keyframe may still decode)."""
    import av

    try:
        return packet.decode()
    except av.FFmpegError:
        return []


def _duration(media, stream):
    """Seconds the file says it lasts (its stream's, else the container's), 0 when it does not say."""
    if stream.duration is not None:
        return float(stream.duration * stream.time_base)
    if media.duration is not None:
        return media.duration / 1_000_000
    return 0.0


def _rate(stream):
    rate = stream.average_rate or stream.guessed_rate
    return round(float(rate), 3) if rate else None


def _quarter_turns(degrees):
    """The display matrix's counter-clockwise rotation, in quarter turns 0-3."""
    return round((degrees or 0) / 90) % 4


def _pixels(frame, turns):
    """8-bit RGB pixels of a frame as displayed, its longest edge at most POSTER_EDGE."""
    scale = min(1.0, POSTER_EDGE / max(frame.width, frame.height))
    width, height = max(2, round(frame.width * scale)), max(2, round(frame.height * scale))
    rgb = frame.reformat(width, height, format="rgb24", interpolation="AREA").to_ndarray()
    return numpy.ascontiguousarray(numpy.rot90(rgb, turns))


def fingerprint(times, views, duration):
    """The :class:`Fingerprint` of keyframes shown at ``times`` (seconds) as grey ``views``: at every grid
    point of the clip, the keyframe nearest it; :class:`VideoError` past :data:`MAX_SECONDS`."""
    if duration > MAX_SECONDS:
        raise VideoError(
            "its frames span {:.0f} s, longer than the {:.0f} hours shashin fingerprints"
            " (a timestamp jump, or a recording to split)".format(duration, MAX_SECONDS / 3600)
        )
    order = numpy.argsort(times, kind="stable")
    times, views = times[order], views[order]
    points = numpy.arange(max(1, math.ceil(duration / INTERVAL - 1e-6))) * INTERVAL
    after = numpy.clip(numpy.searchsorted(times, points), 0, len(times) - 1)
    before = numpy.clip(after - 1, 0, len(times) - 1)
    nearest = numpy.where(numpy.abs(times[before] - points) <= numpy.abs(times[after] - points), before, after)
    return Fingerprint(numpy.ascontiguousarray(views[nearest], numpy.uint8))
