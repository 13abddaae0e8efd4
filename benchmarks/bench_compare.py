"""Benchmark: the compare view's photos through a real Datasette, against reading the file and its md5.

Makes random 12 MP photos (a random scikit-image sample, randomly cropped, flipped and turned, saved
as JPEG at a random quality), each with a copy turned a quarter and a HEIC copy of a random size
(8-16 MP), hashes and groups them for real, starts `datasette serve`, then measures:

  * the compare page of each group (HTML);
  * each 12 MP JPEG's first full-size request, request to last byte, and the same repeated, against
    the baseline measured in the same run: reading that file and its md5 in this process (what the
    route must do at least: it sends the bytes only once their md5 is checked);
  * each HEIC copy converted for the browser (?edge=2048, the compare view's first request, and
    ?edge=4096, past a zoom), then asked again (from the conversions kept: only the md5 check);
  * the difference of a 12 MP pair, turned back: on a canvas in chromium (what the view does) against
    ImageMagick through Wand on the server (decode both, turn, scale, composite, encode).

  .venv/bin/python benchmarks/bench_compare.py             # 6 photos
  .venv/bin/python benchmarks/bench_compare.py --quick     # 2 photos
"""

import argparse
import contextlib
import hashlib
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from bench_review import free_port, timed
from wand.image import Image

from shashin import demo
from shashin.store import Store

BIN = Path(sys.executable).parent
SAMPLES = ["astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png", "retina.jpg"]
TARGET_MS = 300
CANVAS = "document.querySelector('.shashin-difference canvas')"


def random_photo(folder, number, rng, with_heic):
    """``(jpeg, turned, heic, degrees)``: a random 12 MP JPEG, its copy turned a quarter (by degrees
    clockwise) and, with_heic, a HEIC copy of 8 to 16 MP (else None)."""
    sample = demo.sample_folder() / rng.choice(SAMPLES)
    jpeg, turned = (folder / "{:02d}{}".format(number, suffix) for suffix in (".jpg", " turned.jpg"))
    degrees, heic = rng.choice([90, 270]), None
    with Image(filename=str(sample)) as image:
        keep = rng.uniform(0.6, 1.0)
        width, height = int(image.width * keep), int(image.height * keep)
        left, top = rng.randint(0, image.width - width), rng.randint(0, image.height - height)
        image.crop(left, top, width=width, height=height)
        if rng.random() < 0.5:
            image.flop()
        if rng.random() < 0.5:
            image.rotate(180)
        if with_heic:
            # Before the grain: a HEIC encoder takes minutes over noise.
            megapixels = rng.uniform(8, 16)
            with image.clone() as copy:
                copy.resize(int((megapixels * 1e6 * 4 / 3) ** 0.5), int((megapixels * 1e6 * 3 / 4) ** 0.5))
                copy.compression_quality = rng.randint(60, 90)
                heic = folder / "{:02d}.heic".format(number)
                copy.save(filename="heic:" + str(heic))
        image.resize(4000, 3000)
        # A camera's grain, so that the JPEG is the size of a camera's (3-6 MB), not a smooth upscale's.
        image.noise("gaussian", attenuate=rng.uniform(0.1, 0.35))
        image.compression_quality = rng.randint(80, 97)
        image.save(filename=str(jpeg))
        image.rotate(degrees)
        image.compression_quality = rng.randint(80, 97)
        image.save(filename=str(turned))
    return jpeg, turned, heic, degrees


@contextlib.contextmanager
def serving(db_path):
    """A real `datasette serve` over db_path (anyone may look: no sign-in); yields its base URL."""
    port = free_port()
    base = "http://127.0.0.1:{}".format(port)
    command = [BIN / "datasette", "serve", db_path, "--host", "127.0.0.1", "--port", str(port)]
    with subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as process:
        try:
            for _ in range(300):
                try:
                    httpx.get(base + "/-/versions.json", timeout=1)
                    break
                except httpx.TransportError:
                    time.sleep(0.2)
            yield base
        finally:
            process.terminate()


def read_and_md5(path):
    with open(path, "rb") as photo:
        return hashlib.md5(photo.read()).hexdigest()


def elapsed_ms(function, *args):
    started = time.perf_counter()
    function(*args)
    return (time.perf_counter() - started) * 1000


def wand_difference(path_a, path_b, turn_degrees):
    """The server-side alternative: the difference of two photos, b turned back, as a JPEG."""
    with Image(filename=str(path_a)) as a, Image(filename=str(path_b)) as b:
        b.rotate(turn_degrees)
        b.resize(a.width, a.height)
        a.composite(b, operator="difference")
        a.format = "jpeg"
        return a.make_blob()


def canvas_difference(base, group_ids, rounds):
    """Milliseconds the compare view takes to draw each group's difference (compare.js times it)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from browser import CHROMIUM, chromium

    if not os.path.exists(CHROMIUM):
        return None
    drawn = []
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        for group_id in group_ids:
            page.goto("{}/-/shashin/compare/{}".format(base, group_id))
            page.wait_for_function(
                "() => Array.from(document.querySelectorAll('.shashin-pane img')).every(i => i.complete)"
            )
            for _ in range(rounds):
                page.keyboard.press("x")  # on
                page.wait_for_function(
                    "() => document.querySelector('.shashin-difference canvas').dataset.milliseconds"
                )
                drawn.append(
                    float(page.evaluate("document.querySelector('.shashin-difference canvas').dataset.milliseconds"))
                )
                page.evaluate("delete document.querySelector('.shashin-difference canvas').dataset.milliseconds")
                page.keyboard.press("x")  # off
    return drawn


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=int, default=6)
    parser.add_argument("--repeat", type=int, default=5, help="Requests per photo after the first.")
    parser.add_argument("--heic", type=int, default=3, help="Photos with a HEIC copy (making one takes ~10 s).")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--quick", action="store_true", help="2 photos, 1 with a HEIC copy.")
    args = parser.parse_args()
    if args.quick:
        args.photos, args.heic = 2, 1
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    print("seed {}".format(seed))
    with tempfile.TemporaryDirectory() as folder:
        pictures, db_path = Path(folder) / "Pictures", Path(folder) / "shashin.db"
        pictures.mkdir()
        started = time.perf_counter()
        made = [random_photo(pictures, number, rng, number < args.heic) for number in range(args.photos)]
        print("made {} photos, turned and HEIC copies in {:.0f} s".format(args.photos, time.perf_counter() - started))
        for command, *options in (["shashin-hash", "-q", pictures], ["shashin-group", "-q"]):
            subprocess.run([BIN / command, "--db", db_path, *options], check=True, stdout=subprocess.DEVNULL)
        store = Store(db_path)
        md5s = {path: read_and_md5(path) for *paths, _ in made for path in paths if path}
        groups = store.groups_of_paths([str(jpeg) for jpeg, *_ in made])
        store.close()
        with serving(db_path) as base:
            with httpx.Client(base_url=base, timeout=60) as client:
                # The server's first photo (its worker threads, the route's first run) is not a photo's first view.
                timed(client, "/-/shashin/image/{}".format(md5s[made[0][1]]))
                page = [timed(client, "/-/shashin/compare/{}".format(group)) * 1000 for group in groups.values()]
                first, again, baseline = [], [], []
                for jpeg, *_ in made:
                    url = "/-/shashin/image/{}".format(md5s[jpeg])
                    first.append(timed(client, url) * 1000)
                    again.extend(timed(client, url) * 1000 for _ in range(args.repeat))
                    baseline.extend(elapsed_ms(read_and_md5, jpeg) for _ in range(args.repeat + 1))
                converted = {"2048 first": [], "2048 kept": [], "4096 first": [], "4096 kept": []}
                for heic in (heic for _, _, heic, _ in made if heic):
                    for edge in (2048, 4096):
                        url = "/-/shashin/image/{}?edge={}".format(md5s[heic], edge)
                        converted["{} first".format(edge)].append(timed(client, url) * 1000)
                        converted["{} kept".format(edge)].append(timed(client, url) * 1000)
            canvas = canvas_difference(base, list(groups.values()), rounds=3)
        sizes = [os.path.getsize(jpeg) / 1e6 for jpeg, *_ in made]
        wand = [elapsed_ms(wand_difference, jpeg, turned, -degrees) for jpeg, turned, _, degrees in made]

    base_ms = statistics.median(baseline)
    print("\nmedians over {} random 12 MP photos ({:.1f} to {:.1f} MB):".format(args.photos, min(sizes), max(sizes)))
    print("  compare page (HTML)                        {:7.1f} ms".format(statistics.median(page)))
    print("  baseline: read the JPEG and its md5        {:7.1f} ms".format(base_ms))
    for label, figures in (("first full-size JPEG, to last byte", first), ("the same JPEG again", again)):
        median = statistics.median(figures)
        print("  {:<42} {:7.1f} ms  {:4.2f}x baseline".format(label, median, median / base_ms))
    for label, figures in converted.items():
        print("  HEIC (8-16 MP) converted, edge {:<11} {:7.1f} ms".format(label, statistics.median(figures)))
    if canvas:
        print(
            "  difference of a 12 MP pair, canvas         {:7.1f} ms (chromium, drawn)".format(
                statistics.median(canvas)
            )
        )
    print(
        "  difference of a 12 MP pair, Wand           {:7.1f} ms (decode, turn, scale, composite, encode)".format(
            statistics.median(wand)
        )
    )
    ok = statistics.median(first) < TARGET_MS
    print("\n" + ("PASS" if ok else "FAIL") + ": first full-size 12 MP JPEG median under {} ms".format(TARGET_MS))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
