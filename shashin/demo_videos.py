"""Videos made from the sample photographs, and the copies an archive collects of them.

A *take* is a camera moving over a still: a window of the photo that pans and zooms from one place
to another. :func:`clip` films a take into an H.264 file; :func:`make_copy` makes one copy of a clip
the way archives collect them (re-encoded, resized, WhatsApp-compressed, its rotation flag set,
trimmed at the start or the end), with random parameters; :func:`other_take` is another take of the
same photo, which is not a copy; :func:`tripod` films a fixed camera's recordings of one scene, which
share their background and differ by what moves. The tests and ``benchmarks/bench_video.py`` are made of these.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy

from . import demo

#: The sample photographs takes are filmed over (a stereo pair's second half and the synthetic ones left out).
PHOTOS = demo.SAMPLES + (
    "brick.png",
    "coins.png",
    "grass.png",
    "gravel.png",
    "horse.png",
    "page.png",
    "text.png",
    "cell.png",
    "clock_motion.png",
    "microaneurysms.png",
)
COPY_KINDS = ("reencode", "resize", "whatsapp", "rotated", "trim_start", "trim_end")


@dataclass(frozen=True)
class Take:
    """A window over a photo moving from ``start`` to ``end``: each ``(centre x, centre y, size)`` in shares
    of the photo's width and height."""

    photo: str
    start: tuple
    end: tuple

    def window(self, share):
        """``(left, top, width, height)`` of the window at this share of the take, in shares of the photo."""
        x, y, size = (a + (b - a) * share for a, b in zip(self.start, self.end))
        return x - size / 2, y - size / 2, size, size


def random_take(rng, photo=None):
    """A take over a photo (a random one unless given): a pan of a twentieth to a fifth of it, zooming in or out
    a little, or not."""
    size = rng.uniform(0.45, 0.7)
    zoomed = size * rng.uniform(0.8, 0.95) if rng.random() < 0.5 else size
    start = (rng.uniform(0.05, 0.95 - size) + size / 2, rng.uniform(0.05, 0.95 - size) + size / 2, size)
    angle = rng.uniform(0, 2 * numpy.pi)
    distance = rng.uniform(0.05, 0.2)
    end = (
        float(numpy.clip(start[0] + distance * numpy.cos(angle), zoomed / 2, 1 - zoomed / 2)),
        float(numpy.clip(start[1] + distance * numpy.sin(angle), zoomed / 2, 1 - zoomed / 2)),
        zoomed,
    )
    photo = photo or rng.choice(PHOTOS)
    return Take(photo, start, end) if rng.random() < 0.5 else Take(photo, end, start)


def other_take(rng, take):
    """Another take of the same photo, as a second clip a minute later would be: the camera elsewhere,
    moving another way."""
    while True:
        other = random_take(rng, take.photo)
        if abs(other.start[0] - take.start[0]) + abs(other.start[1] - take.start[1]) > 0.15:
            return other


_pixels_of: dict[str, numpy.ndarray] = {}


def photo_pixels(name):
    """8-bit RGB pixels of a sample photograph."""
    import av

    if name not in _pixels_of:
        with av.open(str(demo.sample_folder() / name)) as image:
            frame = next(image.decode(video=0))
            _pixels_of[name] = frame.to_ndarray(format="rgb24")
    return _pixels_of[name]


def clip(path, take, width=320, height=180, seconds=4.0, fps=15, gop_seconds=1.0, crf=20, faststart=False, grain=0.0):
    """Film a take into an H.264 MP4 at path: ``width`` x ``height`` pixels, a keyframe every ``gop_seconds``;
    with ``faststart``, its index before its frames, as files made for streaming have it; ``grain``, the
    standard deviation of a sensor's noise added to each frame (which makes a camera's bit rates)."""
    import av

    pixels = photo_pixels(take.photo)
    photo_height, photo_width = pixels.shape[:2]
    count = max(1, round(seconds * fps))
    noise_source = numpy.random.default_rng(0)
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w", options={"movflags": "faststart"} if faststart else {}) as output:
        stream = _video_stream(output, "libx264", fps, width, height, max(1, round(gop_seconds * fps)), crf)
        for index in range(count):
            left, top, size_x, size_y = take.window(index / max(1, count - 1))
            # The window keeps the output's aspect ratio inside the photo.
            crop_width = max(16, round(size_x * photo_width))
            crop_height = max(16, min(photo_height, round(crop_width * height / width)))
            x = int(numpy.clip(round(left * photo_width), 0, photo_width - crop_width))
            y = int(numpy.clip(round(top * photo_height), 0, photo_height - crop_height))
            window = numpy.ascontiguousarray(pixels[y : y + crop_height, x : x + crop_width])
            frame = av.VideoFrame.from_ndarray(window, format="rgb24")
            if grain:
                shown = frame.reformat(width, height, interpolation="AREA").to_ndarray(format="rgb24")
                noise = noise_source.normal(0, grain, shown.shape)
                frame = av.VideoFrame.from_ndarray(
                    numpy.clip(shown + noise, 0, 255).astype(numpy.uint8), format="rgb24"
                )
            _encode(output, stream, frame, index, width, height)
        _flush(output, stream)
    return path


def tripod(path, photo, seed, width=320, height=180, seconds=4.0, fps=15, gop_seconds=1.0, crf=20, grain=3.0):
    """Film a fixed camera over a photo (a tripod: a lecture, a recital) with a small figure walking its own
    random path across it, into an H.264 MP4 at path: two recordings of one scene share their background every
    second, and differ only by what moves. The figure (``seed``): a 40th to a 12th of the photo's width, a 12th
    to a 4th of its height, dark or light, stepping a 300th to a 60th of the width a frame (a random walk)."""
    import av

    pixels = numpy.ascontiguousarray(photo_pixels(photo))
    photo_height, photo_width = pixels.shape[:2]
    rng = numpy.random.default_rng(seed)
    figure_width = max(2, int(photo_width * rng.uniform(1 / 40, 1 / 12)))
    figure_height = max(4, int(photo_height * rng.uniform(1 / 12, 1 / 4)))
    colour = rng.integers(0, 60, 3) if rng.random() < 0.5 else rng.integers(190, 256, 3)
    step = photo_width * rng.uniform(1 / 300, 1 / 60)
    x, y = rng.uniform(0.2, 0.8) * photo_width, rng.uniform(0.2, 0.7) * photo_height
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as output:
        stream = _video_stream(output, "libx264", fps, width, height, max(1, round(gop_seconds * fps)), crf)
        for index in range(max(1, round(seconds * fps))):
            x = float(numpy.clip(x + rng.normal(0, step), 0, photo_width - figure_width))
            y = float(numpy.clip(y + rng.normal(0, step * photo_height / photo_width), 0, photo_height - figure_height))
            shown = pixels.copy()
            shown[int(y) : int(y) + figure_height, int(x) : int(x) + figure_width] = colour
            shown = numpy.clip(shown + rng.normal(0, grain, shown.shape), 0, 255).astype(numpy.uint8)
            _encode(output, stream, av.VideoFrame.from_ndarray(shown, format="rgb24"), index, width, height)
        _flush(output, stream)
    return path


def make_copy(kind, original, path, rng, decoded=None):
    """One copy of a clip (``kind`` from COPY_KINDS), with random parameters; returns what was done, in words.
    ``decoded``: the original's :func:`decode`, when the caller makes several copies of it."""
    if kind == "rotated":
        turn = rng.choice((90, 180, 270))
        _remux(original, path, turn)
        return "rotation flag {}".format(turn)
    frames, fps, (width, height) = decoded or decode(original)
    duration = len(frames) / fps
    codec, crf, scale, new_fps, keep = "libx264", rng.choice((23, 26)), 1.0, fps, (0.0, duration)
    if kind == "reencode":
        codec, crf = rng.choice((("libx265", 28), ("libx264", 30), ("mpeg4", None)))
        new_fps = rng.choice((fps, fps * 2 // 3 or fps))
    elif kind == "resize":
        scale = rng.choice((2 / 3, 4 / 9))
    elif kind == "whatsapp":
        scale, crf, new_fps = rng.uniform(0.4, 0.6), rng.choice((32, 35)), rng.choice((fps, max(1, fps * 2 // 3)))
    elif kind in ("trim_start", "trim_end"):
        kept = duration * rng.uniform(0.5, 0.9)
        keep = (duration - kept, duration) if kind == "trim_start" else (0.0, kept)
    else:
        raise ValueError("unknown copy kind {!r}".format(kind))
    size = (_even(width * scale), _even(height * scale))
    _encode_frames(frames, fps, path, codec, crf, size, new_fps, keep, gop=max(1, round(new_fps * rng.choice((1, 2)))))
    return "{} {}x{} {} fps, {:.1f}-{:.1f} s".format(codec, *size, new_fps, *keep)


def audio_only(path, seconds=2.0):
    """An MP4 holding a sine tone and no picture."""
    import av

    rate = 16000
    with av.open(str(path), "w") as output:
        stream = output.add_stream("aac", rate=rate)
        stream.layout = "mono"
        samples = numpy.sin(numpy.arange(int(seconds * rate)) * 2 * numpy.pi * 440 / rate).astype(numpy.float32)
        for start in range(0, len(samples), 1024):
            frame = av.AudioFrame.from_ndarray(samples[None, start : start + 1024], format="fltp", layout="mono")
            frame.sample_rate, frame.pts = rate, start
            for packet in stream.encode(frame):
                output.mux(packet)
        for packet in stream.encode(None):
            output.mux(packet)
    return path


def _video_stream(output, codec, fps, width, height, gop, crf):
    stream = output.add_stream(codec, rate=fps)
    stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
    stream.codec_context.gop_size = gop
    if crf is not None:
        stream.options = {"crf": str(crf), "preset": "veryfast"}
        if codec == "libx265":
            stream.options = dict(stream.options, **{"x265-params": "log-level=none"})
    else:
        stream.bit_rate = width * height * fps // 8
    return stream


def _encode(output, stream, frame, index, width, height):
    frame = frame.reformat(width, height, format="yuv420p", interpolation="AREA")
    frame.pts = index
    for packet in stream.encode(frame):
        output.mux(packet)


def _flush(output, stream):
    for packet in stream.encode(None):
        output.mux(packet)


def decode(path):
    """Every frame of a clip as RGB pixels, its frame rate and its size."""
    import av

    with av.open(str(path)) as media:
        stream = media.streams.video[0]
        frames = [frame.to_ndarray(format="rgb24") for frame in media.decode(stream)]
        return frames, int(round(float(stream.average_rate))), (stream.codec_context.width, stream.codec_context.height)


def _encode_frames(frames, fps, path, codec, crf, size, new_fps, keep, gop):
    import av

    first, last = keep
    count = int((last - first) * new_fps)
    with av.open(str(path), "w") as output:
        stream = _video_stream(output, codec, new_fps, size[0], size[1], gop, crf)
        for index in range(count):
            source = frames[min(len(frames) - 1, int((first + index / new_fps) * fps))]
            _encode(output, stream, av.VideoFrame.from_ndarray(source, format="rgb24"), index, *size)
        _flush(output, stream)


def _remux(original, path, rotation):
    """A copy of a clip's packets, with a display rotation flag: the same pixels, shown turned."""
    import av

    with av.open(str(original)) as source, av.open(str(path), "w") as output:
        stream = output.add_stream_from_template(source.streams.video[0])
        stream.set_display_rotation(rotation)
        for packet in source.demux(source.streams.video[0]):
            if packet.dts is None:
                continue
            packet.stream = stream
            output.mux(packet)


def _even(value):
    return max(16, int(round(value / 2)) * 2)


def library(folder, count, seed=0, kinds=COPY_KINDS, fixed_camera=False, **clip_options):
    """``count`` originals over varied photos in folder/Camera, each with one copy of every kind and another
    take of it: ``[{"original": path, "copies": {kind: path}, "take": path}]``. With ``fixed_camera``, each
    original and its other take are :func:`tripod` recordings of one scene, else moving takes (:func:`clip`)."""
    rng = random.Random(seed)
    made = []
    for number in range(count):
        photo, named = PHOTOS[number % len(PHOTOS)], "VID_{:04}.mp4".format(number)
        if fixed_camera:
            original = tripod(folder / "Camera" / named, photo, rng.randrange(1 << 30), **clip_options)
        else:
            take = random_take(rng, photo)
            original = clip(folder / "Camera" / named, take, **clip_options)
        copies, decoded = {}, decode(original)
        for kind in kinds:
            target = folder / kind / "VID_{:04}.{}".format(number, "mp4")
            target.parent.mkdir(parents=True, exist_ok=True)
            make_copy(kind, original, target, rng, decoded)
            copies[kind] = target
        if fixed_camera:
            other = tripod(folder / "Takes" / named, photo, rng.randrange(1 << 30), **clip_options)
        else:
            other = clip(folder / "Takes" / named, other_take(rng, take), **clip_options)
        made.append({"original": original, "copies": copies, "take": other})
    return made
