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
grouping written).

    python benchmarks/bench_group.py                  # N = 10^4, 10^5, 10^6
    python benchmarks/bench_group.py --quick          # N = 10^4, 10^5
    python benchmarks/bench_group.py --sizes 10000000 --brute-max 0 --fingerprint-max 0
"""

import argparse
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy

from shashin import hamming, similarity
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
        records, rows = [], []
        for offset in range(count):
            path = folder / "photos" / "{:07d}.jpg".format(start + offset)
            path.touch()
            md5 = "{:032x}".format(start + offset)
            stat = path.stat()
            records.append(
                {
                    "path": str(path),
                    "size": stat.st_size,
                    "mtime": stat.st_mtime,
                    "md5": md5,
                    "dhash": "{:016x}".format(int(prints[offset, 0])),
                }
            )
            rows.append((md5, views[offset], prints[offset], spreads[offset]))
        store.save_hashed(records, {})
        store.save_fingerprints(rows)
    store.close()
    seconds = []
    for _ in range(2):
        started = time.perf_counter()
        result = subprocess.run(
            [str(BIN / "shashin-group"), "-q", "--db", str(folder / "bench.db")],
            check=True,
            capture_output=True,
            text=True,
        )
        seconds.append(time.perf_counter() - started)
    return len(result.stdout.splitlines()), seconds


def full_prints(views):
    """Fingerprints of random views, every column: the views stand for the thumbnails' grey levels too."""
    return numpy.stack([similarity.fingerprint(view, view.astype(numpy.float32))[1] for view in views])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="sizes 10^4 and 10^5 only")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10**4, 10**5, 10**6])
    parser.add_argument("--threshold", type=int, default=4)
    parser.add_argument("--brute-max", type=int, default=10**5, help="largest size also brute-forced")
    parser.add_argument("--fingerprint-max", type=int, default=10**6, help="largest size of the 9-hash search")
    parser.add_argument(
        "--command-sizes", type=int, nargs="+", default=[10**4, 10**5], help="sizes of the whole-command run"
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
        "\npeak resident memory of this process: {:.0f} MB".format(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3
        )
    )


if __name__ == "__main__":
    main()
