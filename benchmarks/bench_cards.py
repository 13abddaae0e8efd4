"""How often a card's badges say what a copy is, and how often a group gets a burst warning it should not.

A labelled archive (:func:`shashin.demo.archive`, random cameras, photos and copies: backups, PNG/WebP/TIFF
exports, Lightroom exports, watermarked, date-shifted, messenger, web, upscaled and cropped edits), plus,
for half the photos, a copy turned and/or mirrored at random (one of the 7 ways, with Wand). Everything is
scanned for real (shashin-hash, shashin-meta, shashin-group). Each photo's copies are described relative
to its camera original (:func:`shashin.review.relations`, the stored fingerprints) and checked against
what the archive made: a copy is right when it has every badge its kind must have and no badge that
would be false (turned, mirrored, cropped or byte-identical when it is not).

A quarter of the photos also get the camera's next shot of a burst (its tags, 0-2 s later, another
sub-second time, the next number in its name): their groups should warn, the others (copies of one
shot) should not. Printed for the rule of the page before 2026-12 (different numbers in the names) as
baseline, and for today's (capture evidence).

    python benchmarks/bench_cards.py                   # 80 photos, seed 3
    python benchmarks/bench_cards.py --photos 200 --seed 4
"""

import argparse
import collections
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from wand.image import Image

from shashin import demo, review
from shashin.store import Store

BIN = Path(sys.executable).parent
#: What each kind of copy must be badged (prefixes of badge texts).
REQUIRED = {
    "backup": {"byte-identical"},
    "png": {"other format"},
    "webp": {"other format"},
    "tiff": {"other format"},
    "lightroom": {"edited"},
    "watermarked": set(),
    "shifted": {"recompressed"},
    "messenger": {"resized"},
    "web": {"resized"},
    "enhanced": {"resized ×2"},
    "edit": {"cropped", "edited"},
}
#: Badges that are false unless the copy is of that kind.
CLAIMS = {"byte-identical": "backup", "cropped": "edit", "rotated": "turned", "mirrored": "turned"}
_NUMBERS = re.compile(r"\d{3,}")


def names_rule(members):
    """The burst warning of the page before 2026-12: the names carry different sequence numbers."""
    numbers = {tuple(_NUMBERS.findall(os.path.basename(member["path"]))) for member in members}
    numbers.discard(())
    return len(numbers) > 1


def turned_copy(original, folder, turn):
    """original mirrored left-right (when turn says so), then turned clockwise by turn's degrees."""
    mirrored, degrees = turn
    target = folder / "Turned" / (original.stem + "-turned.jpg")  # no number of its own: the names rule is fair
    target.parent.mkdir(parents=True, exist_ok=True)
    with Image(filename=str(original)) as image:
        if mirrored:
            image.flop()
        if degrees:
            image.rotate(degrees)
        image.format = "jpeg"
        image.save(filename=str(target))
    return target


def burst_shot(original, rng):
    """The camera's next shot of a burst: the picture a little brighter or darker, its tags, taken 0 to 2 s
    later with another sub-second time, the next number in its name."""
    stem = re.sub(r"(\d+)(?!.*\d)", lambda number: str(int(number.group(1)) + 5000), original.stem)
    target = original.with_name(stem + original.suffix)
    with Image(filename=str(original)) as image:
        image.modulate(brightness=rng.uniform(96, 104))
        image.save(filename=str(target))
    later = "-DateTimeOriginal+=0:0:{}".format(rng.randint(0, 2))
    subsecond = "-SubSecTimeOriginal={:03d}".format(rng.randrange(1000))
    arguments = ["-tagsFromFile", original, "-all:all", later, subsecond, "-overwrite_original", target]
    subprocess.run(["exiftool", "-q", "-q", *map(str, arguments)], check=True)
    return target


def expected_turn(turn):
    """The badges a turned copy must have, and no other turn."""
    mirrored, degrees = turn
    return ({"mirrored"} if mirrored else set()) | ({"rotated {}°".format(degrees)} if degrees else set())


def scanned(folder, count, seed):
    """``([(members, kinds, turn)], fingerprints)``: each photo's images rows, its original first, and
    the fingerprints of every content, after a real scan."""
    rng = random.Random(seed)
    photos = demo.archive(folder / "archive", count, seed)
    described = []
    for photo in photos:
        original = photo["files"][0]
        if len(photo["files"]) == len(photo["copies"]) or original.suffix.lower() != ".jpg":
            continue  # the camera's file lost, or a HEIC: no original to describe copies against
        turn = (False, 0)
        if rng.random() < 0.5:  # one of the 7 ways to turn or mirror a picture
            turn = rng.choice([(mirrored, degrees) for mirrored in (False, True) for degrees in (0, 90, 180, 270)][1:])
        files, kinds = list(photo["files"]), list(photo["copies"])
        if turn != (False, 0):
            files.append(turned_copy(original, folder / "archive", turn))
            kinds.append("turned")
        if rng.random() < 0.25:
            files.append(burst_shot(original, rng))
            kinds.append("burst")
        described.append((files, kinds, turn))
    db = folder / "shashin.db"
    for command in ("shashin-hash", "shashin-meta"):
        subprocess.run([BIN / command, "--db", db, "-q", folder / "archive"], capture_output=True, check=True)
    subprocess.run([BIN / "shashin-group", "--db", db, "-q"], capture_output=True, check=True)
    store = Store(db)
    try:
        rows = store.images_by_path(str(path) for files, _, _ in described for path in files)
        prints = store.fingerprints_of(row["md5"] for row in rows.values())
    finally:
        store.close()
    photos = [([rows[str(path)] for path in files], kinds, turn) for files, kinds, turn in described]
    return photos, prints


def judge(badges, kind, turn):
    """Whether a copy's badges say what it is: every required one, no false claim."""
    texts = [text for text, _ in badges]
    required = expected_turn(turn) if kind == "turned" else REQUIRED[kind]
    has = all(any(text.startswith(prefix) for text in texts) for prefix in required)
    false = [text for text in texts if any(text.startswith(c) and kind != k for c, k in CLAIMS.items())]
    if kind == "turned":
        false += [text for text in texts if text.startswith(("rotated", "mirrored")) and text not in required]
    return has and not false


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=int, default=80, help="photos (groups) in the archive")
    parser.add_argument("--seed", type=int, default=3, help="which random archive")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        photos, prints = scanned(Path(folder), args.photos, args.seed)
        right, total, wrong = collections.Counter(), collections.Counter(), collections.Counter()
        review.relations(*photos[0][0:1], prints)  # loads what reading fingerprints needs, once a process
        started = time.perf_counter()
        for members, kinds, turn in photos:
            for relation, kind in zip(review.relations(members, prints)[1:], kinds):
                if kind == "burst":  # another shot: its badges are not what is measured
                    continue
                correct = judge(relation["badges"], kind, turn)
                total[kind] += 1
                right[kind] += correct
                if not correct:
                    wrong[kind, ", ".join(text for text, _ in relation["badges"]) or "none"] += 1
        per_group = (time.perf_counter() - started) / len(photos)
        bursts = [members for members, kinds, _ in photos if "burst" in kinds]
        copies_only = [members for members, kinds, _ in photos if "burst" not in kinds]
        warned = {
            name: (sum(map(rule, bursts)), sum(map(rule, copies_only)))
            for name, rule in (
                ("names (before)", names_rule),
                (
                    "capture evidence (today)",
                    lambda members: any("burst" in warning for warning in review.warnings(members)),
                ),
            )
        }
    copies = sum(total.values())
    print("Archive of {} photos with their original (seed {}), {} copies".format(len(photos), args.seed, copies))
    print()
    print("| kind | copies | badged right | share |")
    print("|---|---:|---:|---:|")
    for kind in sorted(total):
        print("| {} | {} | {} | {:.3f} |".format(kind, total[kind], right[kind], right[kind] / total[kind]))
    print("| all | {} | {} | {:.3f} |".format(copies, sum(right.values()), sum(right.values()) / copies))
    print()
    print("Badges of the copies badged wrong (kind: badges, times):")
    for (kind, badges), times in wrong.most_common(12):
        print("  {}: {} ({})".format(kind, badges, times))
    print()
    print("| burst warning rule | groups with a burst shot warned | groups of copies only warned (false) |")
    print("|---|---:|---:|")
    for name, (true, false) in warned.items():
        print(
            "| {} | {} of {} ({:.3f}) | {} of {} ({:.3f}) |".format(
                name, true, len(bursts), true / len(bursts), false, len(copies_only), false / len(copies_only)
            )
        )
    print()
    print("Badges of a group, described: {:.2f} ms a group".format(per_group * 1000))


if __name__ == "__main__":
    main()
