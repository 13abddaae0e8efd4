"""How fast shashin-group's Hamming search is: multi-index hashing against a numpy brute force.

Random 64-bit hashes, 1% of them planted near-duplicates of others (1 to threshold bits
flipped). For each size the search's wall and CPU time and peak memory (numpy's
allocations, as tracemalloc sees them, in a second run); up to --brute-max a plain numpy
brute force over the same hashes in the same run, the ratio, and a check that both found the same pairs. Then the search
as shashin-group runs it, at the default threshold: every photo's query hashes (8
rotations/mirrors and the crop view against every upright hash, the region hashes of
shashin.regions against every whole soft hash), and the middle bands and centres against each
other; beside it, in the same run,
the search before the region hashes (the first nine columns alone). Last, the whole
command over a database of stored photos (stat of every file, search, verification, the
grouping written), and over a library of real JPEG thumbnails, where the fingerprints are derived, the
regions proposed and the frame verifier runs as on a scanned library.

    python benchmarks/bench_group.py                  # N = 10^4, 10^5, 10^6
    python benchmarks/bench_group.py --sizes 10000 --brute-max 0 --command-sizes --thumbnail-sizes 100000
    python benchmarks/bench_group.py --quick          # N = 10^4, 10^5
    python benchmarks/bench_group.py --sizes 10000000 --brute-max 0 --fingerprint-max 0
"""

import argparse
import collections
import itertools
import json
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import cv2
import numpy

from shashin import demo, hamming, imaging, similarity
from shashin.dhash import dhashes
from shashin.store import Store

BIN = Path(sys.executable).parent


def planted(size, threshold, rng):
    """size hashes: 99% random, 1% copies of random others with 1..threshold bits flipped."""
    copies = size // 100
    hashes = rng.integers(0, 2**64 - 1, size, dtype=numpy.uint64, endpoint=True)
    sources = rng.integers(0, size - copies, copies)
    flipped = hashes[sources].copy()
    for row, bits in enumerate(rng.integers(1, max(1, threshold) + 1, copies)):
        for bit in rng.choice(64, bits, replace=False):
            flipped[row] ^= numpy.uint64(1) << numpy.uint64(bit)
    hashes[size - copies :] = flipped
    return hashes


def pairs_of(a, b):
    keep = a < b
    return set(zip(a[keep].tolist(), b[keep].tolist()))


def measured(function, *args, memory=True):
    """(result, wall seconds, CPU seconds, peak MB): timed, then run again under tracemalloc."""
    started, cpu = time.perf_counter(), time.process_time()
    result = function(*args)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    peak = None
    if memory:  # tracing slows numpy's allocations, so it gets a run of its own
        tracemalloc.start()
        function(*args)
        peak = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
    return result, seconds, cpu, peak


def brute_force(hashes, threshold, block=128):
    """Every pair within threshold, comparing each hash with all later ones."""
    found_a, found_b = [], []
    distances = numpy.empty((block, len(hashes)), numpy.uint8)
    for start in range(0, len(hashes), block):
        rows = hashes[start : start + block, None]
        out = distances[: len(rows), : len(hashes) - start]
        numpy.bitwise_count(rows ^ hashes[None, start:], out=out)
        a, b = numpy.nonzero(out <= threshold)
        later = b > a
        found_a.append(a[later] + start)
        found_b.append(b[later] + start)
    return numpy.concatenate(found_a), numpy.concatenate(found_b)


def whole_command(size, rng, folder, batch=10_000):
    """(groups printed, [seconds of a run, of a re-run]) of shashin-group over size stored photos.

    The photos are empty files with rows in a real database, as shashin-hash would leave
    them, and random 64x64 views as fingerprints; 1% are copies of others with noise added.
    """
    store = Store(folder / "bench.db")
    (folder / "photos").mkdir()
    for start in range(0, size, batch):
        count = min(batch, size - start)
        views = rng.integers(0, 256, (count, 64, 64)).astype(numpy.uint8)
        copies = count // 100
        noise = rng.integers(-3, 4, (copies, 64, 64))
        views[count - copies :] = numpy.clip(views[:copies].astype(int) + noise, 0, 255).astype(numpy.uint8)
        prints, spreads = full_prints(views), similarity.spreads(views)
        records = [stored_file(folder, start + offset, prints[offset, 0]) for offset in range(count)]
        store.save_hashed(records, {})
        store.save_fingerprints(
            [
                (record["md5"], view, hashes, spread)
                for record, view, hashes, spread in zip(records, views, prints, spreads)
            ]
        )
    store.close()
    runs = [grouped(folder) for _ in range(2)]
    return len(runs[-1][0].splitlines()), [seconds for _, seconds, _ in runs]


def stored_file(folder, number, dhash, **fields):
    """The record shashin-hash would leave of photo number (an empty file in folder/photos; its md5 is its number
    in hex) with this dHash."""
    path = folder / "photos" / "{:07d}.jpg".format(number)
    path.touch()
    stat = path.stat()
    record = {"path": str(path), "size": stat.st_size, "mtime": stat.st_mtime, "md5": "{:032x}".format(number)}
    return dict(record, dhash="{:016x}".format(int(dhash)), **fields)


def thumbnail_library(size, rng, folder, batch=10_000):
    """The planted pairs ``{(md5, md5)}`` of a database of size photos as shashin-hash leaves them, with real
    JPEG thumbnails: each a mosaic of four random cuts of the sample photos (a random place, size, mirroring and
    exposure each, the mosaic's aspect ratio one a camera or a phone gives), 1% of them a copy of an earlier one
    that changes its frame (cropped to 16:9 or 1:1, or in a white border)."""
    sources = [cv2.imread(str(demo.sample_folder() / name)) for name in demo.ARCHIVE_SAMPLES]
    aspects = [(4, 3), (3, 2), (16, 9), (1, 1), (3, 4), (2, 3)]
    store = Store(folder / "bench.db")
    (folder / "photos").mkdir()
    # Copies are made from the latest originals, kept at a quarter of their size (a crop still has more pixels
    # than its thumbnail).
    planted, made = set(), collections.deque(maxlen=1000)
    for start in range(0, size, batch):
        records, thumbnails = [], {}
        for index in range(start, min(size, start + batch)):
            md5 = "{:032x}".format(index)  # as stored_file names it
            if made and rng.random() < 0.01:
                original_md5, original = made[rng.integers(len(made))]
                pixels = _frame_copy(original, rng)
                planted.add((original_md5, md5))
            else:
                aspect = aspects[rng.integers(len(aspects))]
                pixels = _mosaic(sources, aspect, rng)
                made.append((md5, cv2.resize(pixels, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)))
            height, width = pixels.shape[:2]
            scale = imaging.thumbnail_scale(width, height)
            pixels = cv2.resize(pixels, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
            thumbnails[md5] = cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, imaging.THUMBNAIL_QUALITY])[1]
            grey = cv2.cvtColor(pixels, cv2.COLOR_BGR2GRAY)
            records.append(stored_file(folder, index, dhashes(grey), width=width, height=height, format="JPEG"))
        store.save_hashed(records, {md5: jpeg.tobytes() for md5, jpeg in thumbnails.items()})
    store.close()
    return planted


def _mosaic(sources, aspect, rng, long_edge=1024):
    """Four random cuts of the sources, split at a random place each way, in a picture of this aspect ratio."""
    scale = long_edge / max(aspect)
    width, height = round(aspect[0] * scale), round(aspect[1] * scale)
    mosaic = numpy.empty((height, width, 3), numpy.uint8)
    across, down = int(width * rng.uniform(0.3, 0.7)), int(height * rng.uniform(0.3, 0.7))
    for top, left in itertools.product(((0, down), (down, height)), ((0, across), (across, width))):
        cell = mosaic[top[0] : top[1], left[0] : left[1]]
        source = sources[rng.integers(len(sources))]
        cut_height = int(min(source.shape[:2]) * rng.uniform(0.2, 0.6))
        cut_width = min(source.shape[1], max(8, cut_height * cell.shape[1] // max(1, cell.shape[0])))
        y, x = rng.integers(0, source.shape[0] - cut_height + 1), rng.integers(0, source.shape[1] - cut_width + 1)
        cut = source[y : y + cut_height, x : x + cut_width]
        cut = cut[:, ::-1] if rng.random() < 0.5 else cut
        cell[:] = numpy.clip(cv2.resize(cut, cell.shape[1::-1]) * rng.uniform(0.7, 1.3), 0, 255)
    return mosaic


def _frame_copy(pixels, rng):
    """A copy that changes the frame: a 16:9 or 1:1 crop at a random place, or a white border of 5 to 10%."""
    height, width = pixels.shape[:2]
    kind = rng.integers(3)
    if kind == 2:
        side = int(min(height, width) * rng.uniform(0.05, 0.1))
        return cv2.copyMakeBorder(pixels, side, side, side, side, cv2.BORDER_CONSTANT, value=(255, 255, 255))
    ratio = 16 / 9 if kind == 0 else 1.0
    crop_width, crop_height = min(width, int(height * ratio)), min(height, int(width / ratio))
    y, x = rng.integers(0, height - crop_height + 1), rng.integers(0, width - crop_width + 1)
    return pixels[y : y + crop_height, x : x + crop_width]


def found_together(planted, stdout):
    """How many planted pairs one printed group holds (a photo's md5 is its file's number, in hex)."""
    group_of = {}
    for number, line in enumerate(stdout.splitlines()):
        for path in json.loads(line)["paths"]:
            group_of["{:032x}".format(int(Path(path).stem))] = number
    return sum(1 for a, b in planted if a in group_of and group_of.get(a) == group_of.get(b))


def grouped(folder):
    """(stdout, seconds, CPU seconds) of one shashin-group run over the database in folder."""
    started, before = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run(
        [str(BIN / "shashin-group"), "-q", "--db", str(folder / "bench.db")], check=True, capture_output=True, text=True
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return result.stdout, time.perf_counter() - started, cpu


def full_prints(views):
    """Fingerprints of random views, every column: the views stand for the thumbnails' grey levels too."""
    return numpy.stack([similarity.fingerprint(view, view.astype(numpy.float32))[1] for view in views])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="sizes 10^4 and 10^5 only, 2,000 real thumbnails")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10**4, 10**5, 10**6])
    parser.add_argument("--threshold", type=int, default=4)
    parser.add_argument("--brute-max", type=int, default=10**5, help="largest size also brute-forced")
    parser.add_argument("--fingerprint-max", type=int, default=10**6, help="largest size of the 9-hash search")
    parser.add_argument(
        "--command-sizes", type=int, nargs="*", default=[10**4, 10**5], help="sizes of the whole-command run"
    )
    parser.add_argument(
        "--thumbnail-sizes", type=int, nargs="*", default=[10**4], help="sizes of the run over real thumbnails"
    )
    parser.add_argument("--seed", type=int, default=1)
    options = parser.parse_args()
    sizes = [10**4, 10**5] if options.quick else options.sizes
    rng = numpy.random.default_rng(options.seed)

    print("pairs within {} bits of random 64-bit hashes, 1% planted near-duplicates".format(options.threshold))
    print("| N | pairs | multi-index s (CPU s) | peak MB | brute force s | brute/multi-index | same pairs |")
    print("|---:|---:|---:|---:|---:|---:|---|")
    for size in sizes:
        hashes = planted(size, options.threshold, rng)
        (a, b, _), seconds, cpu, peak = measured(hamming.hamming_pairs, hashes, options.threshold)
        found = pairs_of(a, b)
        row = [size, len(found), "{:.2f} ({:.2f})".format(seconds, cpu), "{:.0f}".format(peak)]
        if size <= options.brute_max:
            (brute_a, brute_b), brute_seconds, _, _ = measured(brute_force, hashes, options.threshold, memory=False)
            same = pairs_of(brute_a, brute_b) == found
            row += ["{:.2f}".format(brute_seconds), "{:.0f}x".format(brute_seconds / seconds), "yes" if same else "NO"]
        else:
            row += ["-", "-", "-"]
        print("| " + " | ".join(map(str, row)) + " |")

    threshold = hamming.DEFAULT_HASH_DISTANCE
    print(
        "\ncandidate search as shashin-group runs it: {} hashes a photo, rotations on, threshold {};"
        " before: the first 9 alone".format(similarity.WIDTH, threshold)
    )
    print("| N photos | candidate pairs | s (CPU s) | peak MB | before: s (CPU s) | peak MB | time, memory x before |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for size in (size for size in sizes if size <= options.fingerprint_max):
        prints = numpy.stack([planted(size, threshold, rng) for _ in range(similarity.WIDTH)], axis=1)
        (a, _, _, _), seconds, cpu, peak = measured(similarity.candidate_pairs, prints, threshold, True)
        nine = numpy.ascontiguousarray(prints[:, : similarity.CROP_COLUMN + 1])
        _, before, before_cpu, before_peak = measured(similarity.candidate_pairs, nine, threshold, True)
        print(
            "| {} | {} | {:.2f} ({:.2f}) | {:.0f} | {:.2f} ({:.2f}) | {:.0f} | {:.1f}, {:.1f} |".format(
                size, len(a), seconds, cpu, peak, before, before_cpu, before_peak, seconds / before, peak / before_peak
            )
        )

    print("\nthe whole command, shashin-group --db, over photos whose fingerprints are stored (1% near-duplicates)")
    print("| N photos | groups | run s | re-run s |")
    print("|---:|---:|---:|---:|")
    for size in [10**4] if options.quick else options.command_sizes:
        with tempfile.TemporaryDirectory(prefix="shashin-bench-group-") as folder:
            groups, seconds = whole_command(size, rng, Path(folder))
        print("| {} | {} | {:.1f} | {:.1f} |".format(size, groups, *seconds))
    print(
        "\nthe whole command over real JPEG thumbnails (mosaics of the sample photos, 1% copies that change the"
        " frame): the first run derives the fingerprints"
    )
    print("| N photos | planted pairs grouped | groups | first run s (CPU s) | re-run s (CPU s) |")
    print("|---:|---:|---:|---:|---:|")
    for size in [2000] if options.quick else options.thumbnail_sizes:
        with tempfile.TemporaryDirectory(prefix="shashin-bench-thumbnails-") as folder:
            copies = thumbnail_library(size, rng, Path(folder))
            runs = [grouped(Path(folder)) for _ in range(2)]
        print(
            "| {} | {} of {} | {} | {:.1f} ({:.1f}) | {:.1f} ({:.1f}) |".format(
                size,
                found_together(copies, runs[0][0]),
                len(copies),
                len(runs[0][0].splitlines()),
                *runs[0][1:],
                *runs[1][1:],
            )
        )
    print(
        "\npeak resident memory of this process: {:.0f} MB".format(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3
        )
    )


if __name__ == "__main__":
    main()
