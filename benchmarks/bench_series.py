"""Different captures against copies: how many brackets and bursts shashin-group merges into copy groups, and
how many true copies it splits off as series, against the same grouping without capture evidence.

A labelled archive (:func:`shashin.demo.archive`: random cameras, random crops of scikit-image's photographs,
and random copies of each: backups, PNG/WebP/TIFF exports, brightened Lightroom exports, watermarked,
date-shifted, messenger, web, upscaled and cropped edits) whose camera files also carry an exposure (random
exposure time, aperture, ISO and compensation; every copy that kept the camera's EXIF keeps it too, as
exporters do). Then, for many of its photos, other shots of the same scene with real EXIF by exiftool:

* brackets: 2 or 4 more frames, brighter and darker by a random step (1/3 to 2 EV), a second apart, the step
  in the exposure time, the ISO or the aperture (and the compensation);
* bursts: 1 to 3 more frames, moved by a few pixels, the same exposure, told apart by a random one of the
  sub-second time, the image number, or both;
* some of those shots get copies of their own (a backup, an export that kept the EXIF).

Everything goes through the real pipeline (shashin-hash, shashin-meta, the grouping of shashin-group). Pairs
of files are labelled by shot: two files of one shot are copies, two files of different shots of one scene
are look-alike negatives. Printed: pairs of different shots in one copy group (exact or similar: merged),
pairs of copies in one copy group (found) and copies put in a series group (split off), for the grouping
without capture evidence (the baseline, measured in the same run on the same database) and with it; and
the time the capture evidence adds.

    python benchmarks/bench_series.py                   # 60 photos, seed 7
    python benchmarks/bench_series.py --photos 150 --seed 8
    python benchmarks/bench_series.py --quick           # 12 photos
"""

import argparse
import contextlib
import itertools
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import exiftool
from wand.image import Image

from shashin import captures, demo, grouping
from shashin.store import Store

BIN = Path(sys.executable).parent
#: Shutter speeds, apertures and ISOs a camera's file carries.
EXPOSURE_TIMES = (1 / 2000, 1 / 1000, 1 / 500, 1 / 250, 1 / 125, 1 / 60, 1 / 30)
F_NUMBERS = (1.8, 2.8, 4.0, 5.6, 8.0, 11.0)
ISOS = (100, 200, 400, 800, 1600)
#: Makes of the cameras (not phones) that number their shots.
NUMBERING = ("Canon", "NIKON CORPORATION", "SONY")
#: Bracket steps, in EV.
STEPS = (1 / 3, 2 / 3, 1.0, 2.0)


def give_exposures(photos, rng):
    """Write a random exposure, and an image number where the camera numbers its shots, into each photo's
    camera file and every copy that kept the camera's EXIF (as the camera and the exporters would have)."""
    with exiftool.ExifToolHelper() as tool:
        for photo in photos:
            tags = {
                "ExposureTime": rng.choice(EXPOSURE_TIMES),
                "FNumber": rng.choice(F_NUMBERS),
                "ISO": rng.choice(ISOS),
                "ExposureCompensation": rng.choice((-1, -2 / 3, -1 / 3, 0, 0, 0, 1 / 3)),
            }
            rows = tool.get_tags([str(path) for path in photo["files"]], ["EXIF:Make"])
            with_camera = [row["SourceFile"] for row in rows if "EXIF:Make" in row]
            if any(row.get("EXIF:Make") in NUMBERING for row in rows):
                tags["ImageNumber"] = rng.randrange(100, 9000)
            photo["exposure"] = tags
            if with_camera:
                tool.set_tags(with_camera, tags, params=["-overwrite_original", "-P"])


def shot(tool, original, target, rng, brightness=100.0, shift=0, **tags):
    """Another shot of the original's scene: its picture brighter or darker and moved by shift pixels, the
    original's tags (maker notes too) with these changed."""
    with Image(filename=str(original)) as image:
        size = image.width, image.height
        image.modulate(brightness=brightness)
        if shift:
            image.crop(shift, shift // 2, width=image.width - 2 * shift, height=image.height - shift)
            image.resize(*size)
        image.format = "jpeg"
        image.compression_quality = rng.randint(88, 95)
        image.save(filename=str(target))
    arguments = ["-tagsFromFile", str(original), "-all:all"]
    arguments += ["-{}={}".format(tag, value) for tag, value in tags.items()]
    tool.execute(*arguments, "-overwrite_original", str(target))
    return target


def bracket(tool, photo, original, rng):
    """2 or 4 more frames around the original, each ``step`` EV apart, in exposure time, ISO or aperture."""
    step, field = rng.choice(STEPS), rng.choice(("ExposureTime", "ISO", "FNumber"))
    exposure = photo["exposure"]
    numbered = {"ImageNumber": exposure["ImageNumber"]} if "ImageNumber" in exposure else {}
    frames = []
    for number, ev in enumerate([ev for ev in (-2, -1, 1, 2) if rng.random() < 0.5 or abs(ev) == 1], 1):
        factor = 2 ** (ev * step)
        value = exposure[field] / factor**0.5 if field == "FNumber" else exposure[field] * factor
        value = round(value) if field == "ISO" else value
        target = original.with_name("{}_BKT{}.JPG".format(original.stem, number))
        tags = {
            field: value,
            "ExposureCompensation": exposure["ExposureCompensation"] + ev * step,
            "SubSecTimeOriginal": "{:03d}".format(rng.randrange(1000)),
            "DateTimeOriginal+": "0:0:{}".format(number),  # a second apart
            **{name: value + number for name, value in numbered.items()},
        }
        # One EV is about a factor 1.37 on sRGB levels.
        frames.append(shot(tool, original, target, rng, brightness=100 * 1.37 ** (ev * step), **tags))
    return frames


def burst(tool, photo, original, rng):
    """1 to 3 more frames a few pixels apart, the same exposure, told apart by their sub-seconds, their image
    numbers (a camera that numbers its shots), or both."""
    number = photo["exposure"].get("ImageNumber")
    evidence = rng.choice(("sub-second", "image number", "both")) if number else "sub-second"
    frames = []
    for later in range(1, rng.randint(2, 4)):
        tags = {}
        if evidence != "image number":
            tags["SubSecTimeOriginal"] = "{:03d}".format(rng.randrange(1000))
        if evidence != "sub-second":
            tags["ImageNumber"] = number + later
        target = original.with_name("{}_BURST{}.JPG".format(original.stem, later))
        frames.append(shot(tool, original, target, rng, shift=rng.randint(2, 6) * later, **tags))
    return frames


def copy_of(tool, frame, folder, rng):
    """A copy of one shot: a backup, or a brightened export that kept its EXIF."""
    if rng.random() < 0.5:
        target = folder / "Backup" / frame.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(frame, target)
        return target
    target = folder / "Exports" / (frame.stem + "-Edit.jpg")
    target.parent.mkdir(parents=True, exist_ok=True)
    with Image(filename=str(frame)) as image:
        image.modulate(brightness=rng.uniform(105, 120))
        image.save(filename=str(target))
    tool.execute("-tagsFromFile", str(frame), "-all:all", "--MakerNotes", "-overwrite_original", str(target))
    return target


def build(folder, count, seed):
    """``{path: (scene, shot)}`` of every file, and ``{scene: kind}`` (``copies``, ``bracket``, ``burst``)."""
    rng = random.Random(seed)
    photos = demo.archive(folder, count, seed)
    give_exposures(photos, rng)
    shots, kinds = {}, {}
    with exiftool.ExifToolHelper() as tool:
        for scene, photo in enumerate(photos):
            for path in photo["files"]:
                shots[path] = (scene, 0)
            kinds[scene] = "copies"
            originals = sorted(path for path in photo["originals"] if path.suffix == ".JPG")
            if not originals or rng.random() < 0.4:
                continue
            kinds[scene] = rng.choice(("bracket", "burst"))
            frames = (bracket if kinds[scene] == "bracket" else burst)(tool, photo, originals[0], rng)
            for number, frame in enumerate(frames, 1):
                shots[frame] = (scene, number)
                if rng.random() < 0.25:
                    shots[copy_of(tool, frame, folder, rng)] = (scene, number)
    for photo in photos:  # backups are byte-identical to the camera's file, tags written since included
        originals = sorted(photo["originals"])
        for path in originals[1:]:
            shutil.copyfile(originals[0], path)
    return shots, kinds


def grouping_of(db, evidence):
    """``({path: (group, kind)}, seconds)`` of one in-process grouping, with or without capture evidence."""
    split = captures.split
    if not evidence:
        captures.split = lambda groups, *args, **kwargs: groups
    try:
        with contextlib.closing(Store(db)) as store:
            files = list(store.hashed_files())
            start = time.perf_counter()
            outcomes = list(grouping.group_library(files, store, jobs=1))
            seconds = time.perf_counter() - start
    finally:
        captures.split = split
    found = {}
    for outcome in outcomes:
        if getattr(outcome, "record", None) and "kind" in outcome.record:
            for path in outcome.record["paths"]:
                found[path] = (outcome.record["group"], outcome.record["kind"])
    return found, seconds


def score(shots, kinds, found, baseline):
    """Counts of pairs and files by what the grouping (``found``) did with them; shots merged by the
    ``baseline`` grouping are those a series can hold."""
    names = ("merged", "negatives", "found", "copies", "split off", "copy files", "in series", "merged shots")
    counts = dict.fromkeys(names, 0)
    counts.update({"merged " + kind: 0 for kind in ("bracket", "burst")})
    counts.update({"found alone": 0, "copies alone": 0})
    by_scene = {}
    for path, label in shots.items():
        by_scene.setdefault(label[0], []).append((str(path), label[1]))
    for scene, files in by_scene.items():
        for (a, shot_a), (b, shot_b) in itertools.combinations(files, 2):
            group_a, group_b = found.get(a), found.get(b)
            together = group_a is not None and group_a == group_b and group_a[1] != captures.SERIES
            if shot_a != shot_b:
                counts["negatives"] += 1
                counts["merged"] += together
                if together:
                    counts["merged " + kinds[scene]] += 1
            else:
                counts["copies"] += 1
                counts["found"] += together
                if kinds[scene] == "copies":  # copies of a photo that has no other shot
                    counts["copies alone"] += 1
                    counts["found alone"] += together
        shot_sizes = {}
        for _, number in files:
            shot_sizes[number] = shot_sizes.get(number, 0) + 1
        for path, number in files:
            if shot_sizes[number] > 1:  # a file of a shot that has copies
                counts["copy files"] += 1
                counts["split off"] += (found.get(path) or (None, None))[1] == captures.SERIES
        # Shots without copies that the baseline merged with another such shot: the ones a series holds.
        lone = [(path, baseline.get(path)) for path, number in files if shot_sizes[number] == 1]
        merged = [group for _, group in lone if group is not None]
        for path, group in lone:
            if group is not None and merged.count(group) > 1:
                counts["merged shots"] += 1
                counts["in series"] += (found.get(path) or (None, None))[1] == captures.SERIES
    members = {}
    for path, group in found.items():
        if group[1] != captures.SERIES:
            members.setdefault(group, []).append(shots[Path(path)][0])
    # Two files of different photos (scenes) in one copy group: the look-alike photos the archive cuts
    # from one sample, another camera's.
    counts["other photos"] = sum(a != b for scenes in members.values() for a, b in itertools.combinations(scenes, 2))
    return counts


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=int, default=60, help="photos (scenes) in the archive")
    parser.add_argument("--seed", type=int, default=7, help="which random archive")
    parser.add_argument("--quick", action="store_true", help="12 photos (make bench)")
    arguments = parser.parse_args()
    if arguments.quick:
        arguments.photos = 12
    with tempfile.TemporaryDirectory(prefix="bench-series-") as temporary:
        folder, db = Path(temporary) / "archive", Path(temporary) / "shashin.db"
        start = time.perf_counter()
        shots, kinds = build(folder, arguments.photos, arguments.seed)
        built = time.perf_counter() - start
        hashed = subprocess.run([BIN / "shashin-hash", "--db", db, "-q", folder], capture_output=True, check=False)
        subprocess.run([BIN / "shashin-meta", "--db", db, "-q"], input=hashed.stdout, capture_output=True, check=False)
        grouping_of(db, True)  # fingerprints derived once, before anything is timed
        before, baseline_seconds = grouping_of(db, False)
        after, seconds = grouping_of(db, True)
    scenes = {kind: sum(value == kind for value in kinds.values()) for kind in ("copies", "bracket", "burst")}
    print(
        "{} files, {} scenes ({} copies only, {} brackets, {} bursts), built in {:.0f} s, seed {}".format(
            len(shots), len(kinds), scenes["copies"], scenes["bracket"], scenes["burst"], built, arguments.seed
        )
    )
    rows = [("without capture evidence (baseline)", score(shots, kinds, before, before), baseline_seconds)]
    rows.append(("with capture evidence (shashin-group)", score(shots, kinds, after, before), seconds))
    print()
    print(
        "| grouping | different shots merged (brackets, bursts) | copy pairs found (of photos without other shots) | "
        "copies split off | pairs of different photos in a copy group | "
        "lone shots merged together, now in a series | grouping time |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, counts, elapsed in rows:
        print(
            (
                "| {} | {} of {} ({} bracket, {} burst) | {} of {} ({:.3f}; {} of {}) | {} of {} files | {} | {} of {} "
                "| {:.2f} s |"
            ).format(
                name,
                counts["merged"],
                counts["negatives"],
                counts["merged bracket"],
                counts["merged burst"],
                counts["found"],
                counts["copies"],
                counts["found"] / max(1, counts["copies"]),
                counts["found alone"],
                counts["copies alone"],
                counts["split off"],
                counts["copy files"],
                counts["other photos"],
                counts["in series"],
                counts["merged shots"],
                elapsed,
            )
        )
    print()
    print("time with capture evidence / without: {:.2f}x".format(seconds / baseline_seconds))


if __name__ == "__main__":
    main()
