"""Video fingerprints: throughput against decoding bounds measured in the same run, and grouping accuracy.

    python benchmarks/bench_video.py [--clips N] [--originals N] [--fixed-camera N] [--quick]

Prints:
- over N 1080p H.264 clips (30 fps, a keyframe a second, as phones record), the fingerprint's seconds of
  video a second (shashin.video.analyse: keyframes decoded to 16x16, the poster, the facts) against the
  decode-only bound, PyAV decoding the same files' keyframes alone (target ratio >= 0.7), and against
  decoding every frame (target >= 20x faster); one process each, one decoder thread;
- over a labelled set made from varied photos (each original a take over another photo; one copy of each
  kind: re-encoded, resized, WhatsApp-compressed, rotation flag, trimmed at the start, at the end; and
  another take of the same photo, not a copy; as many recorded from a fixed camera, the same scene with a
  small figure of random size, shade and pace walking its own way in each recording, with the same
  copies), the recall of each copy kind (original and copy grouped together, target >= 0.95) and the
  precision over all pairs grouped together (target >= 0.99).
"""

import argparse
import collections
import itertools
import random
import sys
import tempfile
import time
from pathlib import Path

from shashin import demo_videos, video, video_groups


def hd_clips(folder, count, seconds):
    """count 1080p clips over different photos, a keyframe every second."""
    rng = random.Random(7)
    return [
        demo_videos.clip(
            folder / "hd{}.mp4".format(number),
            demo_videos.random_take(rng, demo_videos.PHOTOS[number % len(demo_videos.PHOTOS)]),
            width=1920,
            height=1080,
            seconds=seconds,
            fps=30,
            gop_seconds=1.0,
            crf=20,
            grain=3.0,
        )
        for number in range(count)
    ]


def decode(path, keyframes_only):
    """Frames decoded from a file, its keyframes alone or all of them, with one decoder thread and the options
    the fingerprint decodes with (so that both measures differ by which frames are decoded alone)."""
    import av

    with av.open(str(path)) as media:
        stream = media.streams.video[0]
        stream.codec_context.thread_count = 1
        stream.codec_context.options = video.DECODER_OPTIONS
        if keyframes_only:
            stream.codec_context.skip_frame = "NONKEY"
        count = 0
        for packet in media.demux(stream):
            if keyframes_only and not (packet.is_keyframe or packet.size == 0):
                continue
            count += len(packet.decode())
        return count


def timed(function, paths):
    start = time.perf_counter()
    for path in paths:
        function(path)
    return time.perf_counter() - start


def throughput(folder, count, seconds):
    paths = hd_clips(folder, count, seconds)
    footage = count * seconds
    for path in paths:  # read once, so every measure finds them in the page cache
        path.read_bytes()
    bound = timed(lambda path: decode(path, True), paths)
    fingerprint = timed(lambda path: video.analyse(str(path), "MP4"), paths)
    every = timed(lambda path: decode(path, False), paths)
    megabits = sum(path.stat().st_size for path in paths) * 8 / footage / 1e6
    print(
        "throughput over {} clips of {:.0f} s at 1920x1080, 30 fps, a keyframe a second, {:.0f} Mbit/s:".format(
            count, seconds, megabits
        )
    )
    print("  keyframes decoded (bound)   {:7.1f} s of video/s".format(footage / bound))
    print("  shashin fingerprint         {:7.1f} s of video/s".format(footage / fingerprint))
    print("  every frame decoded         {:7.1f} s of video/s".format(footage / every))
    print("  fingerprint / bound         {:7.2f}   (target >= 0.7)".format(bound / fingerprint))
    print("  fingerprint vs every frame  {:7.1f}x  (target >= 20x)".format(every / fingerprint))


def accuracy(folder, originals, fixed_originals, seconds):
    start = time.perf_counter()
    clip_options = {"width": 320, "height": 180, "seconds": seconds, "fps": 15}
    made = demo_videos.library(folder / "moving", originals, seed=11, **clip_options)
    fixed = demo_videos.library(folder / "fixed", fixed_originals, seed=12, fixed_camera=True, **clip_options)
    made += fixed
    label = {}
    for number, entry in enumerate(made):
        label[str(entry["original"])] = (number, "original")
        for kind, path in entry["copies"].items():
            label[str(path)] = (number, kind)
        label[str(entry["take"])] = (("take", number), "take")
    made_in = time.perf_counter() - start
    start = time.perf_counter()
    prints = {path: video.analyse(path, "MP4").fingerprint for path in label}
    fingerprinted_in = time.perf_counter() - start
    start = time.perf_counter()
    groups = video_groups.find_groups([(path, path) for path in label], prints)
    grouped_in = time.perf_counter() - start
    print(
        "accuracy over {} clips ({} originals over {} photos, {} of them from a fixed camera, {:.0f} s each; made"
        " in {:.0f} s, fingerprinted in {:.1f} s, grouped in {:.2f} s):".format(
            len(label),
            len(made),
            min(originals, len(demo_videos.PHOTOS)),
            len(fixed),
            seconds,
            made_in,
            fingerprinted_in,
            grouped_in,
        )
    )
    report(groups, label, made, len(fixed))
    # The baseline, in the same run: the frames alone, what moves never compared.
    level, video_groups.MOTION_LEVEL = video_groups.MOTION_LEVEL, float("inf")
    print("the frames alone (motion not compared):")
    report(video_groups.find_groups([(path, path) for path in label], prints), label, made, len(fixed))
    video_groups.MOTION_LEVEL = level


def report(groups, label, made, fixed):
    """Recall of each copy kind, other takes grouped (moving, then the last ``fixed`` originals' fixed-camera
    ones), precision."""
    group_of = {path: number for number, group in enumerate(groups) for path, _, _ in group.members}
    found, total = collections.Counter(), collections.Counter()
    together = right = 0
    for a, b in itertools.combinations(label, 2):
        joined = a in group_of and group_of[a] == group_of.get(b)
        same = label[a][0] == label[b][0]
        together += joined
        right += joined and same
        kinds = {label[a][1], label[b][1]}
        if same and "original" in kinds:
            (kind,) = kinds - {"original"}
            total[kind] += 1
            found[kind] += joined
    takes_grouped = [
        group_of.get(str(entry["take"])) is not None
        and group_of.get(str(entry["take"])) == group_of.get(str(entry["original"]))
        for entry in made
    ]
    for kind in demo_videos.COPY_KINDS:
        print("  recall {:<11} {:.3f} ({} of {})".format(kind, found[kind] / total[kind], found[kind], total[kind]))
    moving = len(made) - fixed
    print("  other takes grouped with their original: {} of {}".format(sum(takes_grouped[:moving]), moving))
    print(
        "  fixed camera: other recordings of the scene grouped with their original: {} of {}".format(
            sum(takes_grouped[moving:]), fixed
        )
    )
    print(
        "  precision {:.4f} ({} of {} pairs grouped together are copies)".format(
            right / max(1, together), right, together
        )
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clips", type=int, default=6, help="1080p clips for the throughput")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each 1080p clip")
    parser.add_argument("--originals", type=int, default=40, help="originals of the labelled set (8 clips each)")
    parser.add_argument(
        "--fixed-camera", type=int, default=40, help="originals recorded from a fixed camera (8 clips each)"
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, to check the script runs")
    args = parser.parse_args()
    if args.quick:
        args.clips, args.seconds, args.originals, args.fixed_camera = 2, 4.0, 13, 4
    with tempfile.TemporaryDirectory(prefix="bench-video-") as folder:
        throughput(Path(folder) / "hd", args.clips, args.seconds)
        sys.stdout.flush()
        accuracy(Path(folder) / "labelled", args.originals, args.fixed_camera, 8.0)


if __name__ == "__main__":
    main()
