"""Scan throughput against baselines measured in the same run.

    python benchmarks/bench_hash.py [--count N] [--jobs 2] [--quick]

Prints, over N 12-megapixel camera JPEGs:
- shashin-hash -j JOBS images/s (cold), and the decode-only bound `djpeg -scale 1/8` in JOBS
  processes over the same files, with the ratio (target >= 0.8);
- a rescan of unchanged files in files/s (target >= 20,000), over 20,000 small files;
- shashin-meta files/s against one `exiftool -j -@ LIST` batch run over 5,000 of those files (target ratio >= 0.8);
- peak memory of one worker decoding a 100-megapixel JPEG (target < 300 MB).
"""

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from wand.image import Image

from shashin import demo

BIN = Path(sys.executable).parent
SAMPLES = demo.sample_folder()
SOURCES = ["astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png", "retina.jpg"]


def camera_jpegs(folder, count):
    """count distinct 4000x3000 JPEGs: a few real photos blown up, made unique by a trailer after EOI."""
    bases = []
    for index, name in enumerate(SOURCES):
        base = folder / "base{}.jpg".format(index)
        with Image(filename=str(SAMPLES / name)) as image:
            image.resize(4000, 3000)
            # Sensor-like grain, softened: files of about 4.5 MB, like a 12 MP camera's.
            image.noise("gaussian")
            image.blur(sigma=0.8)
            image.compression_quality = 92
            image.save(filename=str(base))
        bases.append(base.read_bytes())
    paths = []
    for index in range(count):
        path = folder / "DSC{:05d}.JPG".format(index)
        path.write_bytes(bases[index % len(bases)] + index.to_bytes(4, "big"))
        paths.append(path)
    for index in range(len(SOURCES)):
        (folder / "base{}.jpg".format(index)).unlink()
    return paths


def timed(command, **kwargs):
    """Wall-clock seconds of a command (its CPU seconds go to cpu_seconds' counter)."""
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kwargs)
    return time.perf_counter() - started


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def hash_command(db, jobs):
    return [str(BIN / "shashin-hash"), "-q", "-0", "-j", str(jobs), "--db", str(db)]


def nul_list(paths):
    return b"".join(os.fsencode(str(p)) + b"\0" for p in paths)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--rescan-count", type=int, default=20000)
    parser.add_argument("--meta-count", type=int, default=5000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="small sizes, to check the script runs")
    args = parser.parse_args()
    if args.quick:
        args.count, args.rescan_count, args.meta_count = 24, 2000, 500
    work = Path(tempfile.mkdtemp(prefix="bench-hash-"))
    try:
        run(work, args)
    finally:
        shutil.rmtree(work)


def run(work, args):
    (work / "photos").mkdir()
    photos = camera_jpegs(work / "photos", args.count)
    listing = nul_list(photos)
    mb = sum(p.stat().st_size for p in photos) / len(photos) / 1e6
    print("{} camera JPEGs, 4000x3000, {:.1f} MB each, {} jobs".format(len(photos), mb, args.jobs))

    # Warm the page cache once so neither side pays for disk reads the other did not.
    subprocess.run(["cat", *map(str, photos)], stdout=subprocess.DEVNULL, check=True)
    djpeg = timed(
        [
            "xargs",
            "-0",
            "-P",
            str(args.jobs),
            "-n",
            "8",
            "sh",
            "-c",
            'for f; do djpeg -scale 1/8 "$f" > /dev/null; done',
            "_",
        ],
        input=listing,
    )
    cold = timed(hash_command(work / "a.db", args.jobs), input=listing)
    rate, bound = len(photos) / cold, len(photos) / djpeg
    print("shashin-hash cold     {:8.1f} images/s".format(rate))
    print("djpeg -scale 1/8      {:8.1f} images/s   ratio {:.2f} (target >= 0.8)".format(bound, rate / bound))

    small = work / "small"
    small.mkdir()
    template = photos[0].with_name("small.jpg")
    with Image(filename=str(SAMPLES / "rocket.jpg")) as image:
        image.resize(64, 48)
        image.save(filename=str(template))
    many = []
    for index in range(args.rescan_count):
        path = small / "{:03d}".format(index % 200) / "IMG_{:05d}.jpg".format(index)
        path.parent.mkdir(exist_ok=True)
        shutil.copyfile(template, path)
        many.append(path)
    listing = nul_list(many)
    subprocess.run(hash_command(work / "b.db", args.jobs), input=listing, check=True, stdout=subprocess.DEVNULL)
    cpu = cpu_seconds()
    rescan = timed(hash_command(work / "b.db", args.jobs), input=listing)
    cpu = cpu_seconds() - cpu
    print(
        "rescan, unchanged     {:8.0f} files/s   (target >= 20,000; {} files; {:.0f} files per CPU second;"
        " load average {:.1f})".format(len(many) / rescan, len(many), len(many) / cpu, os.getloadavg()[0])
    )

    sample = many[: args.meta_count]
    exiftool_list = work / "list.txt"
    exiftool_list.write_text("".join(str(p) + "\n" for p in sample))
    batch = timed(["exiftool", "-j", "-@", str(exiftool_list)])
    meta = timed(
        [str(BIN / "shashin-meta"), "-q", "--db", str(work / "b.db")], input=nul_list(sample).replace(b"\0", b"\n")
    )
    print("shashin-meta          {:8.1f} files/s".format(len(sample) / meta))
    print(
        "exiftool -j -@ LIST   {:8.1f} files/s    ratio {:.2f} (target >= 0.8; {} files)".format(
            len(sample) / batch, batch / meta, len(sample)
        )
    )

    huge = work / "huge.jpg"
    subprocess.run(
        ["/usr/bin/convert", "-size", "10000x10000", "gradient:navy-orange", "-quality", "90", str(huge)], check=True
    )
    peak = subprocess.run(
        [sys.executable, "-c", WORKER_PEAK, str(huge)], check=True, capture_output=True, text=True
    ).stdout.split()[-1]
    print("one worker, 100 MP JPEG: peak memory {:.0f} MB (target < 300)".format(int(peak) / 1024))


# VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the (large) benchmark process.
WORKER_PEAK = """
import os, sys
from shashin import hashing
hashing._worker_setup(None)
outcome = hashing.hash_file((sys.argv[1], os.path.getsize(sys.argv[1]), 0))
assert outcome.status == "hashed", outcome
print(next(line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM:")))
"""

if __name__ == "__main__":
    main()
