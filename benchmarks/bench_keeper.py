"""How often the cold-start rule suggests the camera's original, before any decision.

A labelled archive (:func:`shashin.demo.archive`): photos cut from scikit-image's samples, each
written as a phone's or a camera's original with the EXIF it writes (make, model, dates with
sub-seconds and offset, GPS, maker notes, its names and DCIM folders) and random copies of it:
byte-identical backups, PNG/WebP/TIFF exports, brightened Lightroom exports, watermarked,
date-shifted, messenger, web, upscaled "enhanced" copies and edits. The files are scanned for
real by shashin-hash and shashin-meta; each photo's files are one group. Printed: the share of
groups holding the original (or a byte-identical copy of it) whose suggested keeper is one,
for today's rule and for the rule before 2026-12 (most pixels, then largest file) as baseline,
and which copies won where the rule missed.

    python benchmarks/bench_keeper.py                    # 160 photos, seed 2 (held out)
    python benchmarks/bench_keeper.py --seed 1           # the library the rule was tuned on
"""

import argparse
import collections
import subprocess
import sys
import tempfile
from pathlib import Path

from shashin import demo
from shashin.ranking import rule
from shashin.store import Store

BIN = Path(sys.executable).parent


def previous_rule_key(member):
    """The rule before the camera's evidence counted: most pixels, largest file, dated, earliest, shortest path."""
    taken = rule.capture_timestamp(member)
    return (-rule.pixels(member), -(member.get("size") or 0), taken is None, taken or 0.0, len(member["path"]))


def scanned_archive(folder, count, seed):
    """The archive's photos, each as ``(members, originals, kinds)``: images rows after a real scan."""
    photos = demo.archive(folder / "archive", count, seed)
    db = folder / "shashin.db"
    hashed = subprocess.run(
        [BIN / "shashin-hash", "--db", db, "-q", folder / "archive"], capture_output=True, check=True
    ).stdout
    subprocess.run([BIN / "shashin-meta", "--db", db, "-q"], input=hashed, capture_output=True, check=True)
    store = Store(db)
    try:
        rows = store.images_by_path(str(path) for photo in photos for path in photo["files"])
    finally:
        store.close()
    return [
        ([rows[str(path)] for path in photo["files"]], {str(path) for path in photo["originals"]}, photo["copies"])
        for photo in photos
    ]


def kind_of(path, members, kinds):
    """Which copy a member is, by its place in the photo's files (the original first, if kept)."""
    index = [member["path"] for member in members].index(path)
    return (["original"] + kinds)[index + (len(kinds) + 1 - len(members))]


def score(photos, key):
    """Share of photos with an original whose keeper by key is one, and the kinds that won instead."""
    hits, misses = 0, collections.Counter()
    scored = [(members, originals, kinds) for members, originals, kinds in photos if originals]
    for members, originals, kinds in scored:
        keeper = min(members, key=key)["path"]
        if keeper in originals:
            hits += 1
        else:
            misses[kind_of(keeper, members, kinds)] += 1
    return hits, len(scored), misses


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=int, default=160, help="photos (groups) in the archive")
    parser.add_argument("--seed", type=int, default=2, help="which random archive (1 tuned the rule)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        photos = scanned_archive(Path(folder), args.photos, args.seed)
    files = sum(len(members) for members, _, _ in photos)
    print("Archive of {} photos (seed {}), {} files scanned".format(len(photos), args.seed, files))
    print()
    print("| rule | groups with the original | keeper is the original | share | won instead |")
    print("|---|---:|---:|---:|---|")
    for name, key in (
        ("camera evidence (shashin)", rule.cold_start_key),
        ("pixels, then file size (before)", previous_rule_key),
    ):
        hits, total, misses = score(photos, key)
        won = ", ".join("{} {}".format(kind, n) for kind, n in misses.most_common())
        print("| {} | {} | {} | {:.3f} | {} |".format(name, total, hits, hits / total, won or "-"))


if __name__ == "__main__":
    main()
