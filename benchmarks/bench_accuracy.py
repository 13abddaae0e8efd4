"""How right shashin-group is: pairwise precision, recall and F1 on a labelled set of real photographs.

The set is built from the photographs shipped in scikit-image:

* originals: 4:3 and 3:2 crops (landscape or portrait) of 70% of each photo's width or
  height, three per photo, each shifted 15% from the last, so originals of one photo are
  look-alike negatives (same scene, different framings: each shows parts the other lacks);
  each original gets the copies a real archive holds (transforms), and the copies that
  change the frame (shashin.frame_copies), each with its own random parameters;
* singles: non-overlapping 64 px tiles of the same photos, which must stay alone.

Files go through the real pipeline (shashin-hash into a SQLite file, shashin-group for
the fingerprints), then the grouping is scored at thresholds 0..12 with rotations on
and off, against plain dHash (the upright hash alone, complete linkage) as baseline.

    python benchmarks/bench_accuracy.py            # the full set, 2,933 files (about 7 minutes)
    python benchmarks/bench_accuracy.py --quick    # a third of the originals, 300 singles
"""

import argparse
import itertools
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy
from wand.color import Color
from wand.drawing import Drawing
from wand.image import Image

from shashin import demo, frame_copies, hamming, similarity, verify
from shashin.store import Store

BIN = Path(sys.executable).parent
SAMPLES = demo.sample_folder()
PHOTOS = [
    "astronaut.png",
    "chelsea.png",
    "coffee.png",
    "rocket.jpg",
    "motorcycle_left.png",
    "retina.jpg",
    "hubble_deep_field.jpg",
    "moon.png",
    "camera.png",
    "coins.png",
    "grass.png",
    "gravel.png",
    "brick.png",
    "ihc.png",
    "cell.png",
    "clock_motion.png",
    "page.png",
]
#: scikit-image's pictures that are not in PHOTOS: the other tiles of collages.
FILLERS = ["color.png", "text.png", "logo.png", "phantom.png", "microaneurysms.png", "chessboard_RGB.png"]
#: Aspect ratios of the originals, (width, height) of a landscape one; photo i gets ASPECTS[i % 2].
ASPECTS = [(4, 3), (3, 2)]
TILE = 64
#: Thresholds scored (each a grouping with every verification: about a minute).
THRESHOLDS = (3, 4, 5, 6, 8)
#: Transforms the targets name: recall at least 0.97 on these at the default threshold.
CORE = [
    "resize50",
    "resize25",
    "jpeg60",
    "png",
    "webp",
    "exif_stripped",
    "exif_edited",
    "brightness",
    "contrast",
    "crop5",
    "watermark",
    "greyscale",
    "copy",
]
TURNS = ["rotate90", "mirror"]
#: Copies that change the frame (issue 14): recall at least 0.95 on each.
FRAME = list(frame_copies.KINDS)


def transforms():
    """name -> (suffix, function(image) editing a clone of the original in place, or None)."""

    def resize(factor):
        return lambda image: image.resize(max(1, round(image.width * factor)), max(1, round(image.height * factor)))

    def crop(image):
        dx, dy = round(image.width * 0.05), round(image.height * 0.05)
        image.crop(dx, dy, width=image.width - 2 * dx, height=image.height - 2 * dy)

    def watermark(image):
        with Drawing() as draw:
            draw.font_size = max(10, image.height // 16)
            draw.fill_color = Color("white")
            draw.text(image.width // 20, image.height - image.height // 20, "(c) shashin 2024")
            draw(image)

    return {
        "resize50": (".jpg", resize(0.5)),
        "resize25": (".jpg", resize(0.25)),
        "jpeg60": (".jpg", lambda image: setattr(image, "compression_quality", 60)),
        "png": (".png", lambda image: None),
        "webp": (".webp", lambda image: None),
        "exif_stripped": (".jpg", None),
        "exif_edited": (".jpg", None),
        "brightness": (".jpg", lambda image: image.modulate(brightness=110)),
        "contrast": (".jpg", lambda image: image.brightness_contrast(0, 10)),
        "crop5": (".jpg", crop),
        "watermark": (".jpg", watermark),
        "greyscale": (".jpg", lambda image: setattr(image, "type", "grayscale")),
        "rotate90": (".jpg", lambda image: image.rotate(90)),
        "mirror": (".jpg", lambda image: image.flop()),
        "copy": (".jpg", None),
    }


def build(folder, quick):
    """Write the labelled set; return ``{file name: label}`` (group number, or None for a single)."""
    folder.mkdir(parents=True)
    labels = {}
    originals = []
    seen = set()
    for number, photo in enumerate(PHOTOS):
        with Image(filename=str(SAMPLES / photo)) as image:
            long, short = ASPECTS[number % 2]
            if number % 4 < 2:  # landscape
                width = image.width * 7 // 10
                height = min(image.height * 9 // 10, width * short // long)
            else:
                height = image.height * 7 // 10
                width = min(image.width * 9 // 10, height * short // long)
            for step in range(1 if quick else 3):
                left = (image.width - width) * step // 2
                top = (image.height - height) * (2 - step) // 2
                with image.clone() as original:
                    original.crop(left, top, width=width, height=height)
                    original.format = "jpeg"
                    original.compression_quality = 92
                    name = "g{:03d}_original.jpg".format(len(originals))
                    original.save(filename=str(folder / name))
                    originals.append(name)
            tiles = [
                (x, y) for y in range(0, image.height - TILE + 1, TILE) for x in range(0, image.width - TILE + 1, TILE)
            ]
            for x, y in tiles[:: 3 if quick else 1]:
                with image[x : x + TILE, y : y + TILE] as tile:
                    if tile.signature in seen:  # identical pixels (all-black corners) would be exact copies
                        continue
                    seen.add(tile.signature)
                    name = "s{:04d}.png".format(sum(1 for label in labels.values() if label is None))
                    tile.save(filename=str(folder / name))
                    labels[name] = None
    subprocess.run(
        [
            "exiftool",
            "-q",
            "-overwrite_original",
            "-Make=Shashin",
            "-Model=Bench 1",
            "-DateTimeOriginal=2019:07:14 10:00:00",
            *[str(folder / name) for name in originals],
        ],
        check=True,
    )
    fillers = [SAMPLES / filler for filler in FILLERS]
    for name in originals:
        labels[name] = label_of(name)
        for transform, (suffix, edit) in transforms().items():
            target = folder / name.replace("original.jpg", transform + suffix)
            if edit is None:
                shutil.copyfile(folder / name, target)
            else:
                with Image(filename=str(folder / name)) as image:
                    edit(image)
                    image.format = suffix.lstrip(".").replace("jpg", "jpeg")
                    image.save(filename=str(target))
            labels[target.name] = label_of(target.name)
        with Image(filename=str(folder / name)) as image:
            for number, kind in enumerate(FRAME):
                with frame_copies.make(kind, image, label_of(name) * 100 + number, fillers) as copy:
                    copy.format = "jpeg"
                    copy.compression_quality = 90
                    target = folder / name.replace("original", kind)
                    copy.save(filename=str(target))
                labels[target.name] = label_of(target.name)
    for transform, changes in [
        ("exif_stripped", ["-all="]),
        ("exif_edited", ["-DateTimeOriginal=2020:01:01 00:00:00", "-Artist=Someone"]),
    ]:
        copies = [str(folder / name) for name in labels if name.endswith("_{}.jpg".format(transform))]
        subprocess.run(["exiftool", "-q", "-overwrite_original", *changes, *copies], check=True)
    return labels


def label_of(name):
    return int(name[1:4]) if name.startswith("g") else None


def transform_of(name):
    return name.split("_", 1)[1].rsplit(".", 1)[0] if name.startswith("g") else "single"


def score(groups, labels):
    """Pairwise (precision, recall, F1) overall, and recall and precision per transform."""
    predicted = set()
    for group in groups:
        names = sorted(os.path.basename(path) for path, _, _ in group.members)
        predicted.update(itertools.combinations(names, 2))
    members = {}
    for name, label in labels.items():
        if label is not None:
            members.setdefault(label, []).append(name)
    truth = {pair for names in members.values() for pair in itertools.combinations(sorted(names), 2)}
    hits = len(predicted & truth)
    precision = hits / len(predicted) if predicted else 1.0
    recall = hits / len(truth)
    f1 = 2 * precision * recall / (precision + recall) if hits else 0.0
    per = {}
    found, total = Counter(), Counter()
    for names in members.values():
        original = next(name for name in names if name.endswith("_original.jpg"))
        for name in names:
            if name != original:
                total[transform_of(name)] += 1
                found[transform_of(name)] += tuple(sorted((original, name))) in predicted
    false = Counter()
    involved = Counter()
    for pair in predicted:
        for name in set(pair):
            involved[transform_of(name)] += 1
            if pair not in truth:
                false[transform_of(name)] += 1
    for transform in total:
        per[transform] = (
            found[transform] / total[transform],
            1 - false[transform] / involved[transform] if involved[transform] else 1.0,
        )
    return (precision, recall, f1, len(predicted) - hits), per


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smaller set (one original per photo)")
    parser.add_argument("--keep", metavar="DIR", help="build the set in DIR and keep it (or reuse the set there)")
    options = parser.parse_args()
    folder = Path(options.keep or tempfile.mkdtemp(prefix="shashin-accuracy-"))
    folder.mkdir(parents=True, exist_ok=True)
    database = folder / "bench.db"
    started = time.monotonic()
    if (folder / "photos").exists():  # a set kept by an earlier run: hash it again, afresh
        labels = {path.name: label_of(path.name) for path in (folder / "photos").iterdir()}
        for stale in folder.glob("bench.db*"):
            stale.unlink()
    else:
        labels = build(folder / "photos", options.quick)
    singles = sum(1 for label in labels.values() if label is None)
    print(
        "labelled set: {} originals x {} transforms, {} singles, {} files; built in {:.0f} s".format(
            len(set(labels.values()) - {None}),
            len(transforms()) + len(FRAME),
            singles,
            len(labels),
            time.monotonic() - started,
        )
    )
    started = time.monotonic()
    subprocess.run(
        [str(BIN / "shashin-hash"), "-q", "--db", str(database), str(folder / "photos")],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    hashed = time.monotonic() - started
    runs = []
    for _ in range(2):  # the first derives fingerprints from thumbnails, the second reuses them
        started = time.monotonic()
        subprocess.run([str(BIN / "shashin-group"), "-q", "--db", str(database)], check=True, stdout=subprocess.DEVNULL)
        runs.append(time.monotonic() - started)
    print(
        "shashin-hash {:.1f} s; shashin-group {:.1f} s, again with stored fingerprints {:.1f} s".format(hashed, *runs)
    )

    store = Store(database)
    files = [(path, md5) for path, _, _, md5, _ in store.hashed_files()]
    dhashes = {md5: [similarity.hash_int(dhash)] for _, _, _, md5, dhash in store.hashed_files()}
    prints, spreads = store.fingerprints()
    modes = {
        "rotations": dict(prints=prints, rotations=True, view=store.view, spread=spreads, thumbnail=store.thumbnail),
        "no rotations": dict(
            prints=prints, rotations=False, view=store.view, spread=spreads, thumbnail=store.thumbnail
        ),
        "plain dHash": dict(prints=dhashes, rotations=False),
    }
    results = {}
    print("\npairwise precision / recall / F1 (false pairs) by threshold")
    print("| threshold | " + " | ".join(modes) + " |")
    print("|---:|" + "---|" * len(modes))
    for threshold in THRESHOLDS:
        cells = []
        for mode, arguments in modes.items():
            overall, per = score(similarity.find_groups(files, threshold=threshold, **arguments), labels)
            results[mode, threshold] = overall, per
            cells.append("{:.3f} / {:.3f} / {:.3f} ({})".format(*overall))
        print("| {} | {} |".format(threshold, " | ".join(cells)))

    print("\nrecall (precision) per transform at the default threshold {}".format(hamming.DEFAULT_HASH_DISTANCE))
    print("| transform | " + " | ".join(modes) + " |")
    print("|---|" + "---|" * len(modes))
    for transform in CORE + TURNS + FRAME:
        cells = [
            "{:.3f} ({:.3f})".format(*results[mode, hamming.DEFAULT_HASH_DISTANCE][1][transform]) for mode in modes
        ]
        print("| {} | {} |".format(transform, " | ".join(cells)))
    for mode in ("rotations", "no rotations"):
        overall, per = results[mode, hamming.DEFAULT_HASH_DISTANCE]
        core = min(per[transform][0] for transform in CORE)
        turns = min(per[transform][0] for transform in TURNS)
        frame = min(per[transform][0] for transform in FRAME)
        print(
            "{} at {}: precision {:.4f}, lowest recall on core transforms {:.3f}, on rotation/mirror {:.3f},"
            " on frame changes {:.3f}".format(mode, hamming.DEFAULT_HASH_DISTANCE, overall[0], core, turns, frame)
        )
    _score_margin(files, prints, spreads, store, labels, hamming.DEFAULT_HASH_DISTANCE)
    _score_margin(files, prints, spreads, store, labels, max(THRESHOLDS))
    if not options.keep:
        shutil.rmtree(folder)


def _score_margin(files, prints, spreads, store, labels, threshold):
    """Verification scores of original-copy pairs and of false candidate pairs at this threshold: the views'
    gradient correlation of pairs whose views line up, the frame verifier's verdicts on the others."""
    names = {md5: os.path.basename(path) for path, md5 in files}
    contents = sorted(md5 for md5 in prints if md5 in names and spreads[md5] >= similarity.MIN_SPREAD)
    table = numpy.array([prints[md5] for md5 in contents], numpy.uint64)
    a, b, orientation, _ = similarity.candidate_pairs(table, threshold, True)
    verifier = similarity.Verifier(lambda i: store.view(contents[i]))
    frames = verify.FrameVerifier(lambda i: store.thumbnail(contents[i]))
    true, false = [], []
    framed = Counter()
    for i, j, o in zip(a.tolist(), b.tolist(), orientation.tolist()):
        name_i, name_j = names[contents[i]], names[contents[j]]
        copy = labels[name_i] is not None and labels[name_i] == labels[name_j]
        if o == similarity.FRAMED:
            if copy and "_original." not in name_i + name_j:
                continue
            framed["original-copy" if copy else "false", frames.match(i, j) is not None] += 1
        elif not copy:
            false.append((verifier.score(i, j, o), name_i, name_j))
        elif "_original." in name_i + name_j:
            true.append((verifier.score(i, j, o), name_i, name_j))
    true.sort()
    false.sort(reverse=True)
    print("\nverification scores of candidate pairs at threshold {} (rotations on)".format(threshold))
    print(
        "{} original-copy pairs, lowest: {}".format(
            len(true), ", ".join("{:.3f} ({} ~ {})".format(*t) for t in true[:3])
        )
    )
    print("{} false pairs, highest: {}".format(len(false), ", ".join("{:.3f} ({} ~ {})".format(*f) for f in false[:3])))
    print("| score from | original-copy pairs below | false pairs at or above |")
    print("|---:|---:|---:|")
    for cut in (0.4, 0.5, 0.6, 0.7, 0.8, 0.9):
        print("| {} | {} | {} |".format(cut, sum(t[0] < cut for t in true), sum(f[0] >= cut for f in false)))
    print(
        "pairs found by a region or a shared part alone, verified across a change of frame: original-copy {} of {},"
        " false {} of {}".format(
            framed["original-copy", True],
            framed["original-copy", True] + framed["original-copy", False],
            framed["false", True],
            framed["false", True] + framed["false", False],
        )
    )


if __name__ == "__main__":
    main()
