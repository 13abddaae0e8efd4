"""Scan throughput against baselines measured in the same run.

    python benchmarks/bench_hash.py [--count N] [--jobs 2] [--quick] [--mixed-count N] [--only-mixed]
        [--against CHECKOUT] [--czkawka PYTHON] [--rounds 3]

Prints, over N 12-megapixel camera JPEGs:
- shashin-hash -j JOBS images/s (cold), and the decode-only bound `djpeg -scale 1/8` in JOBS
  processes over the same files, with the ratio (target >= 0.8);
- a rescan of unchanged files in files/s (target >= 20,000), over 20,000 small files;
- shashin-meta files/s against one `exiftool -j -@ LIST` batch run over 5,000 of those files (target ratio >= 0.8);
- peak memory of one worker decoding a 100-megapixel JPEG (target < 300 MB);
- a mixed library like a real archive (N files of each kind: 2-3 MP camera JPEGs, 1600 px messenger copies,
  320 px thumbnails, PNG screenshots and exports, WebP): each kind's files/s against its decode bound
  (`djpeg -scale N/8` at the scale shashin's decode uses, one process a file; Pillow's full decode for PNG and
  WebP, as dwebp is not in Debian's bench packages), targets >= 0.7 on the 2-3 MP JPEGs; another checkout's
  shashin-hash beside it with --against; with --czkawka, the whole run (hash, meta, group) against czkawka's
  similar-image search of the same files, in alternating rounds, wall and CPU time (target: faster).
"""

import argparse
import multiprocessing
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image as PILImage
from wand.color import Color
from wand.drawing import Drawing
from wand.image import Image

from shashin import demo
from shashin.imaging import THUMBNAIL_EDGE

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


#: Colour photos among the samples: the sources of the mixed library.
MIXED_SOURCES = [
    "astronaut.png",
    "chelsea.png",
    "coffee.png",
    "hubble_deep_field.jpg",
    "ihc.png",
    "motorcycle_left.png",
    "motorcycle_right.png",
    "retina.jpg",
    "rocket.jpg",
]
#: Width:height of photos, either way up.
ASPECTS = (4 / 3, 3 / 2, 16 / 9, 1.0, 3 / 4, 2 / 3, 9 / 16)


def camera_photo(image, rng):
    """A 2-3 MP camera JPEG: sensor grain, high quality."""
    _resize_to(image, rng.randint(1700, 2100), rng)
    image.noise("gaussian", attenuate=rng.uniform(0.3, 1.0))
    image.blur(sigma=rng.uniform(0.5, 1.0))
    return "jpg", rng.randint(85, 95)


def messenger_copy(image, rng):
    """A messenger's copy: 1600 px on its long edge, clean, lower quality."""
    _resize_to(image, 1600, rng)
    return "jpg", rng.randint(65, 82)


def thumbnail_copy(image, rng):
    """A web or gallery thumbnail: 320 px on its long edge."""
    _resize_to(image, 320, rng)
    return "jpg", rng.randint(70, 90)


def screenshot(image, rng):
    """A PNG screenshot: the photo in a flat window, with bars of text-like blocks."""
    width, height = rng.choice(((1280, 800), (1920, 1080), (1440, 900), (1170, 2532), (1080, 2340)))
    _resize_to(image, min(width, height) - 200, rng)
    image.background_color = Color(rng.choice(("#ffffff", "#f2f2f2", "#202124")))
    image.extent(width, height, x=-50, y=-rng.randint(100, height - image.height - 20))
    with Drawing() as draw:
        draw.fill_color = Color(rng.choice(("#1a73e8", "#5f6368", "#e8eaed")))
        for row in range(rng.randint(3, 12)):
            draw.rectangle(
                left=rng.randint(10, width // 2), top=10 + 14 * row, width=rng.randint(20, width // 3), height=8
            )
        draw(image)
    return "png", None


def png_export(image, rng):
    """A photo exported as PNG, 1000-1600 px."""
    _resize_to(image, rng.randint(1000, 1600), rng)
    return "png", None


def webp_download(image, rng):
    """A WebP from the web, 1000-2000 px."""
    _resize_to(image, rng.randint(1000, 2000), rng)
    return "webp", rng.randint(70, 88)


#: The kinds of file an archive is full of: its files' name, and how each is made from a sample photo.
MIXED_KINDS = {
    "2-3 MP camera JPEG": ("IMG", camera_photo),
    "1600 px messenger JPEG": ("IMG-WA", messenger_copy),
    "320 px thumbnail JPEG": ("thumb", thumbnail_copy),
    "PNG screenshot": ("Screenshot", screenshot),
    "PNG export": ("export", png_export),
    "WebP": ("download", webp_download),
}


def _resize_to(image, edge, rng):
    """Crop a random 60-100% of the photo at a random aspect, then resize its long edge to edge."""
    aspect = rng.choice(ASPECTS)
    width = min(image.width, round(image.height * aspect))
    width = round(width * rng.uniform(0.6, 1.0))
    height = min(image.height, round(width / aspect))
    width = round(height * aspect)
    image.crop(
        left=rng.randint(0, image.width - width), top=rng.randint(0, image.height - height), width=width, height=height
    )
    scale = edge / max(width, height)
    image.resize(max(1, round(width * scale)), max(1, round(height * scale)))


def mixed_library(folder, count, seed=15):
    """count files of each kind of MIXED_KINDS, each a random crop of a random sample photo; {kind: paths}."""
    rng = random.Random(seed)
    library = {}
    for kind, (name, make) in MIXED_KINDS.items():
        paths = library[kind] = []
        for index in range(count):
            with Image(filename=str(SAMPLES / rng.choice(MIXED_SOURCES))) as image:
                suffix, quality = make(image, rng)
                if quality:
                    image.compression_quality = quality
                path = folder / "{}_{:04d}.{}".format(name, index, suffix)
                image.save(filename=str(path))
            paths.append(path)
    return library


def djpeg_scale(path):
    """The DCT scale (N/8) libjpeg decodes a JPEG at under shashin's size hint (imaging._hint_size)."""
    with Image.ping(filename=str(path)) as header:
        shortest = min(header.size)
    # ImageMagick asks for 1/denominator, libjpeg-turbo rounds it up to the next N/8.
    return "{}/8".format(-(-8 // (shortest // THUMBNAIL_EDGE)) if shortest > THUMBNAIL_EDGE else 8)


def djpeg_bound(paths, jobs):
    """Seconds djpeg takes to decode each JPEG at the scale shashin's decode uses, one process a file."""
    pairs = b"".join(djpeg_scale(p).encode() + b"\0" + os.fsencode(str(p)) + b"\0" for p in paths)
    loop = 'while [ $# -gt 0 ]; do djpeg -scale "$1" "$2" > /dev/null; shift 2; done'
    return timed(["xargs", "-0", "-P", str(jobs), "-n", "16", "sh", "-c", loop, "_"], input=pairs)


def pil_decode(path):
    with PILImage.open(path) as image:
        image.load()


def pil_bound(paths, jobs):
    """Seconds Pillow takes to decode each file at full size (neither PNG nor Pillow's WebP decodes smaller),
    in jobs processes started beforehand."""
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        pool.map(len, [()] * jobs)
        started = time.perf_counter()
        pool.map(pil_decode, paths, chunksize=4)
        return time.perf_counter() - started


def mixed_run(work, args):
    """shashin-hash on each kind of an everyday archive against that kind's decode bound, in the same run."""
    (work / "mixed").mkdir()
    library = mixed_library(work / "mixed", args.mixed_count)
    every = [path for paths in library.values() for path in paths]
    subprocess.run(["cat", *map(str, every)], stdout=subprocess.DEVNULL, check=True)
    trees = {"shashin-hash": None, "against": args.against} if args.against else {"shashin-hash": None}
    databases = iter(range(1 << 30))

    def scan(paths, tree):
        env = dict(os.environ, PYTHONPATH=str(tree)) if tree else None
        return costs(
            timed, hash_command(work / "mixed{}.db".format(next(databases)), args.jobs), input=nul_list(paths), env=env
        )

    # Each run's fixed cost (interpreter, imports, forking the workers): a run over as many thumbnails as jobs.
    start_up = {
        name: min((scan(library["320 px thumbnail JPEG"][: args.jobs], tree) for _ in range(3)), key=lambda c: c[0])
        for name, tree in trees.items()
    }
    print(
        "\nmixed library, {} files of each kind, {} jobs; each run's start-up (a run over {} thumbnails: {}) taken"
        " off its wall and CPU time; CPU ms a file are all processes' (the bound's too); load average {:.1f}".format(
            args.mixed_count,
            args.jobs,
            args.jobs,
            ", ".join("{} {:.2f} s".format(name, wall) for name, (wall, _) in start_up.items()),
            os.getloadavg()[0],
        )
    )
    bounds = {}
    for kind, paths in library.items():
        jpeg = paths[0].suffix == ".jpg"
        bounds[kind] = costs(djpeg_bound if jpeg else pil_bound, paths, args.jobs)
        per_file = {
            name: [(total - fixed) / len(paths) for total, fixed in zip(scan(paths, tree), start_up[name])]
            for name, tree in trees.items()
        }
        bound = [total / len(paths) for total in bounds[kind]]
        print(
            "{:24s} {:5.0f} kB  {} {:6.1f} files/s {:5.1f} CPU ms".format(
                kind,
                sum(p.stat().st_size for p in paths) / len(paths) / 1e3,
                "djpeg -scale N/8" if jpeg else "Pillow decode   ",
                1 / bound[0],
                1e3 * bound[1],
            )
            + "".join(
                "  {} {:6.1f} files/s {:5.1f} CPU ms, ratios {:.2f} {:.2f}".format(
                    name, 1 / wall, 1e3 * cpu, bound[0] / wall, bound[1] / cpu
                )
                for name, (wall, cpu) in per_file.items()
            )
        )
    random.Random(1).shuffle(every)
    wall, cpu = (sum(cost[index] for cost in bounds.values()) for index in (0, 1))
    print(
        "{:24s}        bounds' sum {:6.2f} s {:6.2f} CPU s".format("the whole library, mixed", wall, cpu)
        + "".join(
            "  {} {:6.2f} s {:6.2f} CPU s (start-up included), ratios {:.2f} {:.2f}".format(
                name, *cost, wall / cost[0], cpu / cost[1]
            )
            for name, cost in ((name, scan(every, tree)) for name, tree in trees.items())
        )
    )
    if args.czkawka:
        whole_run(work, args)


#: czkawka's similar-image search with its default settings, its cache in a folder of its own (a first run).
CZKAWKA = """
import sys
from czkawka import ImageSimilarity
search = ImageSimilarity()
search.set_directories([sys.argv[1]])
print(len(search.find_similar()), "groups")
"""


def whole_run(work, args):
    """The whole run (hash piped to meta, then group) on the mixed library against czkawka's search of it, in
    alternating rounds (the machine's load moves between them), and another checkout's whole run with --against;
    each round's wall and CPU seconds, and their medians. CPU seconds are every process's: shashin's workers and
    exiftool, czkawka's threads."""
    folder = work / "mixed"
    trees = {"shashin": None, "against": args.against} if args.against else {"shashin": None}
    files = len(list(folder.iterdir()))
    print("\nwhole run on the {} files of the mixed library, {} rounds:".format(files, args.rounds))
    runs: dict[str, list] = {name: [] for name in (*trees, "czkawka")}
    pipe = '"$0" -q -j "$1" --db "$2" "$3" | "$4" -q --db "$2"'
    for index in range(args.rounds):
        for name, tree in trees.items():
            db = work / "whole-{}-{}.db".format(name, index)
            env = dict(os.environ, PYTHONPATH=str(tree)) if tree else None
            hashing = costs(
                timed,
                ["sh", "-c", pipe, BIN / "shashin-hash", str(args.jobs), db, folder, BIN / "shashin-meta"],
                env=env,
            )
            grouping = costs(timed, [BIN / "shashin-group", "-q", "-j", str(args.jobs), "--db", db], env=env)
            runs[name].append(tuple(a + b for a, b in zip(hashing, grouping)))
            print(
                "  round {} {:8s} shashin-hash | shashin-meta {:5.2f} s ({:5.2f} CPU s), shashin-group {:5.2f} s"
                " ({:5.2f} CPU s)".format(index + 1, name, *hashing, *grouping)
            )
        cache = work / "czkawka-cache{}".format(index)
        env = dict(os.environ, HOME=str(cache), XDG_CACHE_HOME=str(cache))
        runs["czkawka"].append(costs(timed, [args.czkawka, "-c", CZKAWKA, folder], env=env))
        print(
            "  round {} czkawka  {:5.2f} s ({:5.2f} CPU s); load average {:.1f}".format(
                index + 1, *runs["czkawka"][-1], os.getloadavg()[0]
            )
        )
    theirs, theirs_cpu = medians(runs["czkawka"])
    print("czkawka's similar images, medians: {:.2f} s, {:.2f} CPU s".format(theirs, theirs_cpu))
    for name in trees:
        ours, ours_cpu = medians(runs[name])
        print(
            "whole run {} (shashin-hash | shashin-meta, then shashin-group), medians: {:.2f} s, {:.2f} CPU s;"
            " ratio to czkawka {:.2f} (target >= 1), CPU ratio {:.2f}".format(
                name, ours, ours_cpu, theirs / ours, theirs_cpu / ours_cpu
            )
        )


def medians(runs):
    """(median wall seconds, median CPU seconds) of (wall, CPU) pairs."""
    return tuple(statistics.median(column) for column in zip(*runs))


def costs(function, *args, **kwargs):
    """(wall-clock seconds function returns, CPU seconds of the child processes it ran and waited for)."""
    cpu = cpu_seconds()
    wall = function(*args, **kwargs)
    return wall, cpu_seconds() - cpu


def timed(command, **kwargs):
    """Wall-clock seconds of a command (its CPU seconds go to cpu_seconds' counter)."""
    started = time.perf_counter()
    result = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kwargs)
    if result.returncode:
        sys.exit("{} exited with {}:\n{}".format(command, result.returncode, result.stderr.decode(errors="replace")))
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
    parser.add_argument("--mixed-count", type=int, default=60, help="files of each kind in the mixed library")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--only-mixed", action="store_true", help="the mixed library alone")
    parser.add_argument("--against", type=Path, help="a checkout of shashin to time on the mixed library too")
    parser.add_argument(
        "--czkawka", type=Path, help="a Python with czkawka installed (pip install czkawka): the whole run against it"
    )
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds of the whole run and czkawka")
    parser.add_argument("--quick", action="store_true", help="small sizes, to check the script runs")
    args = parser.parse_args()
    if args.quick:
        args.count, args.rescan_count, args.meta_count, args.mixed_count = 24, 2000, 500, 6
    work = Path(tempfile.mkdtemp(prefix="bench-hash-"))
    try:
        if not args.only_mixed:
            run(work, args)
        mixed_run(work, args)
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
