"""How well shashin-rank learns which copy a person keeps, and how fast it trains and ranks.

Simulated people with hidden preferences decide groups of copies one by one; after 10,
30 and 100 decisions each ranker is scored on held-out groups by top-1 accuracy (its
suggested keeper is the copy the person keeps), in the same run:

* shashin: ``ranking.model.train`` as shashin-rank uses it (the model, or the cold-start rule
  when the model did not beat the rule in grouped cross-validation);
* rule: the cold-start rule alone;
* linear: the linear model shashin had before the learner (``model.py`` at
  ``bench_learner.BASELINE_COMMIT``, read from git).

The libraries are rows, not files: decoding thousands of images would measure Wand, not
ranking. They are made from real photos all the same: each of scikit-image's colour
photographs is encoded for real (Wand) as a phone's HEIC and JPEG original, a
WhatsApp-style 1600 px JPEG at quality 70, an exported quality-95 JPEG and a PNG, and
the measured bytes per pixel of each encoding give the file sizes of the rows (at phone
resolutions, with 10% noise). Paths, dates, tags and mtimes follow real phone, WhatsApp,
export and backup layouts.

Then the speed: train on decisions and rank 100,000 groups, against the cold-start rule
ranking the same groups as baseline.

    python benchmarks/bench_rank.py            # 5 seeds per person, 100,000 groups timed
    python benchmarks/bench_rank.py --quick    # 2 seeds, 20,000 groups timed
    python benchmarks/bench_rank.py --speed-only --decisions 100000   # train on 100,000 decisions
    python benchmarks/bench_rank.py --command 20000   # the shashin-rank command on a database of 20,000 groups

With --command the rows go into a real database (images rows with their metadata, the
groups, 1,000 decisions recorded as the review page records them) and the shashin-rank
command is timed end to end: first run (training), second run (the saved model), and
against the same database without decisions (the rule) as baseline.
"""

import argparse
import datetime
import hashlib
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from wand.image import Image

from shashin import demo, facts
from shashin.ranking import model, rule
from shashin.similarity import Group
from shashin.store import Store

sys.path.insert(0, str(Path(__file__).parent))
from bench_learner import today_linear  # noqa: E402

SAMPLES = demo.sample_folder()
PHOTOS = [
    "astronaut.png",
    "chelsea.png",
    "coffee.png",
    "rocket.jpg",
    "motorcycle_left.png",
    "retina.jpg",
    "hubble_deep_field.jpg",
    "motorcycle_right.png",
    "ihc.png",
]
#: Encodings measured on every photo: (name, format, quality, scale).
ENCODINGS = [
    ("heic", "heic", 50, 1.0),
    ("camera", "jpeg", 92, 1.0),
    ("whatsapp", "jpeg", 70, 0.5),
    ("export", "jpeg", 95, 1.0),
    ("png", "png", None, 1.0),
]
PHONES = [
    ("Apple", "iPhone 12", 4032, 3024, "16.1"),
    ("Google", "Pixel 6", 4080, 3072, "HDR+ 1.0.4"),
    ("samsung", "SM-G991B", 4000, 3000, "G991BXXU5CVK1"),
]
CHECKPOINTS = (10, 30, 100)
THRESHOLDS = (0.8, 0.9, 0.95, 0.99)
HELD_OUT = 300


def measure_encodings():
    """Bytes per pixel of each encoding of each real photo: ``[{encoding: bpp}, ...]``."""
    measured = []
    for name in PHOTOS:
        with Image(filename=str(SAMPLES / name)) as photo:
            photo.transform_colorspace("srgb")
            bpp = {}
            for encoding, fmt, quality, scale in ENCODINGS:
                with photo.clone() as copy:
                    copy.resize(int(copy.width * scale), int(copy.height * scale))
                    copy.format = fmt
                    if quality:
                        copy.compression_quality = quality
                    bpp[encoding] = len(copy.make_blob()) / (copy.width * copy.height)
            measured.append(bpp)
    return measured


class Library:
    """Groups of copies of phone photos, as images rows."""

    def __init__(self, encodings, seed):
        self.random = random.Random(seed)
        self.encodings = encodings
        self.user = self.random.choice(["alice", "bob", "chen", "dana"])
        self.camera = self.random.choice(["Camera", "DCIM/Camera"])
        self.number = 1000

    def groups(self, count):
        return [self.group() for _ in range(count)]

    def group(self):
        r = self.random
        self.number += r.randint(1, 40)
        make, model, width, height, firmware = r.choice(PHONES)
        bpp = r.choice(self.encodings)
        heic = make == "Apple" and r.random() < 0.7
        taken = datetime.datetime(2016, 1, 1) + datetime.timedelta(seconds=r.randint(0, 8 * 365 * 86400))
        stamp = taken.replace(tzinfo=datetime.timezone.utc).timestamp()
        home = "/home/{}/Pictures".format(self.user)
        stem = "IMG_{:04}".format(self.number % 10000)

        def row(path, encoding, scale=1.0, dated=True, camera=True, tags=120, software=None, mtime=0.0, fmt=None):
            w, h = int(width * scale), int(height * scale)
            metadata = {"EXIF:Tag{}".format(i): i for i in range(tags)}
            metadata.update({"File:FileName": path.rsplit("/", 1)[1], "File:FileSize": 0})
            if software:
                metadata["EXIF:Software"] = software
            return {
                "path": path,
                "width": w,
                "height": h,
                "format": fmt or "JPEG",
                "size": int(bpp[encoding] * w * h * r.uniform(0.9, 1.1)),
                "mtime": stamp + mtime,
                "metadata": metadata,
                "taken_at": taken.isoformat() + "+02:00" if dated else None,
                "taken_at_source": "DateTimeOriginal" if dated else "FileModifyDate",
                "make": make if camera else None,
                "model": model if camera else None,
            }

        ext, fmt, encoding = (".HEIC", "HEIC", "heic") if heic else (".jpg", "JPEG", "camera")
        original = "{}/{}/{}{}".format(home, self.camera, stem, ext)
        day = taken.strftime("%Y%m%d")
        later = r.uniform(1, 400) * 86400
        first = row(original, encoding, software=firmware, fmt=fmt, mtime=2)
        # Byte-identical copies: only the path and the mtime differ.
        variants = {
            "original": lambda: first,
            "backup": lambda: dict(
                first, path="/mnt/nas/Backup/{}/{}/{}{}".format(taken.year, self.camera, stem, ext), mtime=stamp + later
            ),
            "copy": lambda: dict(
                first, path="{}/{}/{} copy{}".format(home, self.camera, stem, ext), mtime=stamp + later
            ),
            "whatsapp": lambda: row(
                "{}/WhatsApp/Media/WhatsApp Images/IMG-{}-WA{:04}.jpg".format(home, day, r.randint(0, 99)),
                "whatsapp",
                scale=0.4,
                dated=False,
                camera=False,
                tags=12,
                mtime=r.uniform(60, 86400),
            ),
            "export": lambda: row(
                "{}/Exports/{}.jpg".format(home, stem), "export", tags=60, software="Photos 7.0", mtime=later
            ),
            "download": lambda: row(
                "/home/{}/Downloads/{} (1).jpg".format(self.user, stem),
                "export",
                scale=0.5,
                tags=30,
                camera=False,
                mtime=later,
            ),
            "enhanced": lambda: row(
                "{}/Exports/{}-Enhanced-SR.jpg".format(home, stem),
                "export",
                scale=2.0,
                tags=70,
                software="Adobe Lightroom 7.0",
                mtime=later,
            ),
            "compressed": lambda: row(
                "{}/Compressed/{}.heic".format(home, stem), "heic", software=firmware, fmt="HEIC", mtime=later
            ),
            "png": lambda: row(
                "{}/Exports/{}.png".format(home, stem), "png", dated=False, tags=8, camera=False, fmt="PNG", mtime=later
            ),
        }
        names = [name for name in variants if name != "original" and not (heic and name == "compressed")]
        chosen = r.sample(names, r.randint(1, 3))
        if r.random() < 0.85 or len(chosen) == 1:
            chosen.append("original")
        members = [variants[name]() for name in chosen]
        r.shuffle(members)
        return members


def _in_camera_folder(member):
    return "/Camera/" in member["path"] and " copy" not in member["path"] and "/Backup/" not in member["path"]


def _pixels(member):
    return member["width"] * member["height"]


def _dated(member):
    return member["taken_at_source"] != "FileModifyDate"


def _kept_copy(member):
    """Between identical copies everyone keeps the one in the camera folder, then not the backup,
    then not the one named like a copy."""
    path = member["path"]
    return not _in_camera_folder(member), "/Backup/" in path, " copy" in path or "(1)" in path, len(path)


#: Hidden preferences: a key, smallest first, of what each person keeps.
PEOPLE = {
    "keeps the Camera/ original": lambda m: (not _in_camera_folder(m), -_pixels(m), not _dated(m), *_kept_copy(m)),
    "keeps the highest resolution": lambda m: (-_pixels(m), not _dated(m), *_kept_copy(m)),
    "keeps HEIC over a larger JPEG": lambda m: (m["format"] != "HEIC", -_pixels(m), not _dated(m), *_kept_copy(m)),
    "keeps the copy with a capture date": lambda m: (not _dated(m), m["mtime"], *_kept_copy(m)),
    "keeps the edited export": lambda m: (
        "/Exports/" not in m["path"] or m["format"] != "JPEG",
        -_pixels(m),
        *_kept_copy(m),
    ),
    "keeps what the rule keeps": rule.cold_start_key,
}


def decide(person, members):
    keeper = min(range(len(members)), key=lambda i: PEOPLE[person](members[i]))
    return members, [i == keeper for i in range(len(members))]


def top1(keepers, truths):
    return float(np.mean([truth[keeper] for keeper, truth in zip(keepers, truths)]))


def accuracy(person, encodings, seeds, confidence, linear):
    """Mean top-1 on held-out groups per checkpoint, ``{n: {ranker: accuracy, "worst": shashin's lowest}}``,
    and how often the model was used. Appends ``(keep_probability, right)`` of every suggested
    keeper to ``confidence[n]``."""
    results = {n: {"shashin": [], "rule": [], "linear": []} for n in CHECKPOINTS}
    used = {n: 0 for n in CHECKPOINTS}
    for seed in range(seeds):
        library = Library(encodings, seed)
        decided = [decide(person, members) for members in library.groups(max(CHECKPOINTS))]
        held_out = [decide(person, members) for members in library.groups(HELD_OUT)]
        groups = [members for members, _ in held_out]
        truths = [kept for _, kept in held_out]
        by_rule = [rule.cold_start_order(members)[0]["path"] for members in groups]
        by_rule = [[m["path"] for m in members].index(path) for members, path in zip(groups, by_rule)]
        for n in CHECKPOINTS:
            ranker = model.train(decided[:n])
            used[n] += ranker.uses_model
            keepers = [members[0] for members in ranker.rank(groups)]
            shashin = [[m["path"] for m in members].index(k["path"]) for members, k in zip(groups, keepers)]
            confidence[n].extend(
                (k["keep_probability"], truth[i]) for k, i, truth in zip(keepers, shashin, truths) if ranker.uses_model
            )
            results[n]["shashin"].append(top1(shashin, truths))
            results[n]["rule"].append(top1(by_rule, truths))
            by_linear = [members[0]["path"] for members in linear.train(decided[:n]).rank(groups)]
            by_linear = [[m["path"] for m in members].index(path) for members, path in zip(groups, by_linear)]
            results[n]["linear"].append(top1(by_linear, truths))
    summary = {n: {name: float(np.mean(values)) for name, values in by.items()} for n, by in results.items()}
    for n in CHECKPOINTS:
        summary[n]["worst"] = min(results[n]["shashin"])
    return summary, used


def speed(encodings, groups, decisions):
    """Seconds (wall clock, and CPU of this process) to train on decisions and rank groups, and for the rule
    to rank the same groups. The rows carry the scan-time columns shashin-meta writes."""
    library = Library(encodings, 99)
    person = "keeps the Camera/ original"
    decided = [decide(person, _scanned(members)) for members in library.groups(decisions)]
    todo = [_scanned(members) for members in library.groups(groups)]
    clocks = [(time.perf_counter(), time.process_time())]
    ranker = model.train(decided)
    clocks.append((time.perf_counter(), time.process_time()))
    ranker.rank(todo)
    clocks.append((time.perf_counter(), time.process_time()))
    model.Ranker().rank(todo)
    clocks.append((time.perf_counter(), time.process_time()))
    spans = [tuple(b - a for a, b in zip(start, end)) for start, end in zip(clocks, clocks[1:])]
    return spans, ranker.uses_model


def _scanned(members):
    return [dict(member, **facts.of(member["metadata"])) for member in members]


def command(encodings, groups, decisions=1000):
    """Seconds of shashin-rank on a database of groups: with decisions (training, then the saved
    model) and, as baseline, without decisions (the rule)."""
    rows, seen = [], set()
    while len(rows) < groups:
        # Phone numbering wraps at IMG_9999: each 400 groups get a library of their own under a folder.
        library, prefix = Library(encodings, len(rows)), "/library{:03}".format(len(rows) // 400)
        for members in library.groups(min(400, groups - len(rows))):
            members = [dict(member, path=prefix + member["path"]) for member in members]
            paths = {member["path"] for member in members}
            if not paths & seen:  # the odd WhatsApp name drawn twice
                rows.append(members)
                seen |= paths
    timings = {}
    with tempfile.TemporaryDirectory() as folder:
        for name, decided in (("rule", 0), ("model", decisions)):
            db = os.path.join(folder, name + ".db")
            store = Store(db)
            records = [
                dict(member, md5=hashlib.md5(member["path"].encode()).hexdigest(), dhash="0" * 16)
                for members in rows
                for member in _scanned(members)
            ]
            # As shashin-hash saves them: the tags come with shashin-meta.
            store.save_hashed([dict(record, metadata=None) for record in records], {})
            store.save_metadata(records)
            md5 = {record["path"]: record["md5"] for record in records}
            store.replace_groups(
                Group("similar", [(m["path"], md5[m["path"]], 0) for m in members], 0) for members in rows
            )
            by_path = store.images_by_path(md5)
            with store.db.atomic():
                for members in rows[:decided]:
                    members, kept = decide("keeps the Camera/ original", members)
                    group_id = store.groups_of_paths([members[0]["path"]])[members[0]["path"]]
                    store.record_decision(group_id, "keep", [(by_path[m["path"]], k) for m, k in zip(members, kept)])
            store.close()
            runs = []
            for _ in range(2 if decided else 1):
                started = time.perf_counter()
                subprocess.run(
                    [str(Path(sys.executable).parent / "shashin-rank"), "-q", "--db", db],
                    stdout=subprocess.DEVNULL,
                    check=True,
                )
                runs.append(time.perf_counter() - started)
            timings[name] = runs
    return timings


def print_command(encodings, groups):
    timings = command(encodings, groups)
    rule = timings["rule"][0]
    print()
    print("| shashin-rank on {:,} groups | seconds | vs rule |".format(groups))
    print("|---|---:|---:|")
    print(
        "| 1,000 decisions, first run (trains, saves the model) | {:.2f} | {:.1f}x |".format(
            timings["model"][0], timings["model"][0] / rule
        )
    )
    print(
        "| 1,000 decisions, second run (saved model) | {:.2f} | {:.1f}x |".format(
            timings["model"][1], timings["model"][1] / rule
        )
    )
    print("| no decisions: the rule (baseline) | {:.2f} | 1.0x |".format(rule))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 seeds per person, 20,000 groups timed")
    parser.add_argument("--seeds", type=int, help="libraries per simulated person (default 5, 2 with --quick)")
    parser.add_argument("--groups", type=int, help="groups to rank in the timing (default 100,000)")
    parser.add_argument("--decisions", type=int, default=1000, help="decisions to train on in the timing")
    parser.add_argument("--speed-only", action="store_true", help="only the timing")
    parser.add_argument(
        "--command",
        type=int,
        metavar="GROUPS",
        help="only time the shashin-rank command on a database of this many groups",
    )
    args = parser.parse_args()
    seeds = args.seeds or (2 if args.quick else 5)
    groups = args.groups or (20_000 if args.quick else 100_000)
    encodings = measure_encodings()
    if args.command:
        print_command(encodings, args.command)
        return
    if not args.speed_only:
        print_accuracy(encodings, seeds)
    print_speed(encodings, groups, args.decisions)


def print_accuracy(encodings, seeds):
    print("Top-1 accuracy on {} held-out groups, mean of {} libraries per person".format(HELD_OUT, seeds))
    print()
    print("| person | decisions | shashin | shashin, worst library | rule | linear before the learner | model used |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    confidence = {n: [] for n in CHECKPOINTS}
    linear = today_linear()
    for person in PEOPLE:
        results, used = accuracy(person, encodings, seeds, confidence, linear)
        for n in CHECKPOINTS:
            row = results[n]
            print(
                "| {} | {} | {:.3f} | {:.3f} | {:.3f} | {:.3f} | {}/{} |".format(
                    person, n, row["shashin"], row["worst"], row["rule"], row["linear"], used[n], seeds
                ),
                flush=True,
            )
    print()
    print("Accepting suggestions above a keep probability, all people pooled: share of held-out groups")
    print("whose keeper is that sure, and how often it is the copy the person keeps")
    print()
    print("| decisions | " + " | ".join("p >= {}: groups, right".format(t) for t in THRESHOLDS) + " |")
    print("|---:|" + "---:|" * len(THRESHOLDS))
    for n in CHECKPOINTS:
        probability, right = np.array(confidence[n], dtype=float).T
        cells = []
        for threshold in THRESHOLDS:
            sure = probability >= threshold
            cells.append("{:.2f}, {:.4f}".format(sure.mean(), right[sure].mean() if sure.any() else float("nan")))
        print("| {} | {} |".format(n, " | ".join(cells)))


def print_speed(encodings, groups, decisions):
    (train, rank, rule), used = speed(encodings, groups, decisions)
    print()
    print("| work | seconds | CPU seconds | vs rule (CPU) |")
    print("|---|---:|---:|---:|")
    print(
        "| train on {:,} decisions (model {}) | {:.2f} | {:.2f} | |".format(
            decisions, "used" if used else "not used", *train
        )
    )
    print("| rank {:,} groups with the model | {:.2f} | {:.2f} | {:.1f}x |".format(groups, *rank, rank[1] / rule[1]))
    print("| rank {:,} groups with the rule (baseline) | {:.2f} | {:.2f} | 1.0x |".format(groups, *rule))
    print("| train + rank | {:.2f} | {:.2f} | |".format(train[0] + rank[0], train[1] + rank[1]))


if __name__ == "__main__":
    main()
