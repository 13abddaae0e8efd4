"""How well shashin-rank learns anyone's keeper, and how fast asking the least-sure groups teaches it.

A population of simulated people drawn at random from a grammar of preferences: each keeps,
in a group of copies, the first by 1-3 criteria (prefer folder X or not folder Y, largest or
smallest file, most or fewest pixels, long edge at least N, earliest or latest capture, a
format, camera EXIF, not edited, a name pattern), with random directions and thresholds,
then a random tie-break; a third of them decide 5% of groups at random, a third skip the
groups their first criterion does not settle. The library is real: :func:`shashin.demo.archive`
(camera originals with real EXIF and their backups, exports, messenger and web copies,
edits) scanned by shashin-hash and shashin-meta; each photo's files are one group. It is
scanned once, then every person is simulated on the scanned rows, several shuffles each:
decisions come from one half of the groups, top-1 (the suggested keeper is the copy the
person keeps) is measured on the other half.

The designs are chosen on a tuning population over one archive (``--population tuning``,
archive seed 11), and checked on a second (``tuning-2``, other people over the archive of seed 13);
the figures of docs/ranking.md are of a held-out population over another
archive (seed 12). Measured in the same run, at 10, 30 and 100 decisions: shashin
(``model.train``: the model, or the rule where the model does not beat it), the rule alone,
and the linear model shashin had before the learner (``model.py`` at commit
``BASELINE_COMMIT``, read from git).

Then asking: 5 random decisions, then the groups the model is least sure of
(``Ranker.least_sure_first``, as ``shashin-rank --ask``), against random order: how many decisions
until top-1 on the held-out half reaches 0.95.

    python benchmarks/bench_learner.py                         # held-out population, 200 people, 3 shuffles
    python benchmarks/bench_learner.py --population tuning     # the population designs are chosen on
    python benchmarks/bench_learner.py --people 40 --shuffles 1 --cache /tmp/archives   # quick, archive kept
"""

import argparse
import importlib.util
import json
import os
import pickle
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from shashin.ranking import model, rule

sys.path.insert(0, str(Path(__file__).parent))
from bench_keeper import scanned_archive  # noqa: E402

REPOSITORY = Path(__file__).resolve().parent.parent
#: The commit whose model.py is the linear model before the learner.
BASELINE_COMMIT = "6f8c091"
#: Each population's archive seed and its first person's seed.
POPULATIONS = {"tuning": (11, 1000), "tuning-2": (13, 3000), "held-out": (12, 2000)}
PHOTOS = 400
CHECKPOINTS = (10, 30, 100)
#: When the asking experiment measures top-1: after this many decisions.
ASKED = (5, 7, 10, 15, 20, 25, 30)
START = 5
TARGET = 0.95
RANKERS = ("shashin", "rule", "linear")
LINEAR_EVERY = 4
NAME_PATTERNS = {
    "a camera's name (IMG_, DSC, PXL_...)": r"^(IMG|DSC|_DSC|PXL|P\d|_MG)",
    "an edit's name (-Edit, edited, -2)": r"(edit|-2$)",
    "a web name (scaled, 1024x768, photo-)": r"(scaled|\d+x\d+|^photo-)",
    "a messenger's name (IMG-...-WA)": r"-WA\d+",
}


# The library


def library(seed, cache):
    """The scanned archive of PHOTOS photos: a list of groups of images rows."""
    path = Path(cache or tempfile.gettempdir()) / "bench-learner-{}-{}.pickle".format(PHOTOS, seed)
    if cache and path.exists():
        with open(path, "rb") as stored:
            groups = pickle.load(stored)
    else:
        with tempfile.TemporaryDirectory() as folder:
            groups = [members for members, _, _ in scanned_archive(Path(folder), PHOTOS, seed) if len(members) > 1]
        if cache:
            with open(path, "wb") as stored:
                pickle.dump(groups, stored)
    # The tags parsed once: the linear model before the learner reads them at every training (shashin reads
    # the scan-time columns).
    return [[dict(member, metadata=rule.metadata_of(member)) for member in members] for members in groups]


# People


class Person:
    """A preference drawn from the grammar: criteria (each a key, smaller first) and a tie-break."""

    def __init__(self, seed, groups):
        r = random.Random(seed)
        self.random = r
        root = os.path.commonpath([m["path"] for members in groups for m in members])
        folders = sorted({os.path.relpath(m["path"], root).split(os.sep)[0] for ms in groups for m in ms})
        formats = sorted({m["format"] for members in groups for m in members})
        grammar = {
            "folder": lambda: self._folder(r, root, folders),
            "file size": lambda: r.choice((("largest file", _size_down), ("smallest file", _size_up))),
            "pixels": lambda: r.choice((("most pixels", _pixels_down), ("fewest pixels", _pixels_up))),
            "long edge": lambda: self._long_edge(r),
            "capture": lambda: r.choice((("earliest capture", _earliest), ("latest capture", _latest))),
            "format": lambda: self._format(r, formats),
            "camera": lambda: ("has camera EXIF", lambda m: not (m.get("make") and m.get("model"))),
            "edited": lambda: ("not edited", lambda m: rule.edited(m)),
            "name": lambda: self._name(r),
        }
        self.criteria = [grammar[kind]() for kind in r.sample(sorted(grammar), r.choice((1, 2, 3)))]
        self.tie_break = r.choice(
            (
                ("then the largest file", _size_down),
                ("then the smallest file", _size_up),
                ("then the shortest path", lambda m: len(m["path"])),
                ("then the oldest file", lambda m: m.get("mtime") or 0),
            )
        )
        kind = r.random()
        self.noise = 0.05 if kind < 1 / 3 else 0.0
        self.skips = kind > 2 / 3

    @staticmethod
    def _folder(r, root, folders):
        folder = r.choice(folders)
        inside = os.path.join(root, folder) + os.sep
        if r.random() < 0.5:
            return "folder {}/".format(folder), lambda m: not m["path"].startswith(inside)
        return "not folder {}/".format(folder), lambda m: m["path"].startswith(inside)

    @staticmethod
    def _long_edge(r):
        edge = r.choice((500, 600, 700, 800, 900, 1000, 1200, 1500))
        return "long edge at least {}".format(edge), lambda m: max(m["width"], m["height"]) < edge

    @staticmethod
    def _format(r, formats):
        chosen = r.choice(formats)
        return "format {}".format(chosen), lambda m: m["format"] != chosen

    @staticmethod
    def _name(r):
        words, pattern = r.choice(sorted(NAME_PATTERNS.items()))
        compiled = re.compile(pattern, re.IGNORECASE)

        def matches(m):
            return bool(compiled.search(os.path.splitext(os.path.basename(m["path"]))[0]))

        if r.random() < 0.5:
            return "name like " + words, lambda m: not matches(m)
        return "name not like " + words, matches

    def describe(self):
        return (
            ", ".join([words for words, _ in self.criteria] + [self.tie_break[0]])
            + (" (5% random)" if self.noise else "")
            + (" (skips)" if self.skips else "")
        )

    def key(self, member):
        return tuple(key(member) for _, key in self.criteria) + (self.tie_break[1](member), member["path"])

    def keeper(self, members):
        return min(range(len(members)), key=lambda i: self.key(members[i]))

    def decide(self, members):
        """The kept flags of a decision, or None if this person skips the group."""
        first = self.criteria[0][1]
        if self.skips and len({first(m) for m in members}) == 1 and self.random.random() < 0.5:
            return None
        keeper = self.keeper(members)
        if self.random.random() < self.noise:
            keeper = self.random.randrange(len(members))
        return [i == keeper for i in range(len(members))]


def _size_down(m):
    return -(m["size"] or 0)


def _size_up(m):
    return m["size"] or 0


def _pixels_down(m):
    return -rule.pixels(m)


def _pixels_up(m):
    return rule.pixels(m)


def _earliest(m):
    taken = rule.capture_timestamp(m)
    return (taken is None, taken or 0.0)


def _latest(m):
    taken = rule.capture_timestamp(m)
    return (taken is None, -(taken or 0.0))


# Rankers


def today_linear():
    """The linear model shashin had before the learner, read from git."""
    source = subprocess.run(
        ["git", "show", "{}:shashin/ranking/model.py".format(BASELINE_COMMIT)],
        cwd=REPOSITORY,
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    spec = importlib.util.spec_from_loader("shashin.ranking._linear", loader=None)
    module = importlib.util.module_from_spec(spec)
    module.__package__ = "shashin.ranking"
    exec(compile(source, "model.py@" + BASELINE_COMMIT, "exec"), module.__dict__)
    return module


def top1(ranked, groups, truths):
    """Share of groups whose first ranked member is the person's keeper."""
    hits = 0
    for members, group, truth in zip(ranked, groups, truths):
        hits += members[0]["path"] == group[truth]["path"]
    return hits / len(groups)


def rule_top1(groups, truths):
    return np.mean([rule.rule_positions(members)[truth] == 0 for members, truth in zip(groups, truths)])


# The experiments


def halves(groups, person, shuffle):
    """The groups in this shuffle's order: the half decisions come from, and the held-out half."""
    order = list(range(len(groups)))
    random.Random(person * 1000 + shuffle).shuffle(order)
    half = len(order) // 2
    return [groups[i] for i in order[:half]], [groups[i] for i in order[half:]]


def learning(groups, people, shuffles, linear):
    """``{ranker: {n: [top-1 of each person and shuffle]}}`` at each checkpoint, and the share the model ordered.
    The linear model before the learner is measured on the first shuffle of every LINEAR_EVERY-th person
    only: it parses every member's tags at every training, and the machine is shared."""
    results = {name: {n: [] for n in CHECKPOINTS} for name in RANKERS}
    used = {n: 0 for n in CHECKPOINTS}
    for seed in people:
        person = Person(seed, groups)
        for shuffle in range(shuffles):
            pool, held_out = halves(groups, seed, shuffle)
            truths = [person.keeper(members) for members in held_out]
            decided = []
            for members in pool:
                kept = person.decide(members)
                if kept is not None:
                    decided.append((members, kept))
            line = {"person": seed, "shuffle": shuffle}
            for n in CHECKPOINTS:
                ranker = model.train(decided[:n])
                used[n] += ranker.uses_model
                line[n] = {
                    "shashin": top1(ranker.rank(held_out, explain=False), held_out, truths),
                    "rule": float(rule_top1(held_out, truths)),
                }
                if shuffle == 0 and seed % LINEAR_EVERY == 0:
                    line[n]["linear"] = top1(linear.train(decided[:n]).rank(held_out), held_out, truths)
                for name, value in line[n].items():
                    results[name][n].append(value)
            # Person by person, as they are measured: a long run can be summed up before it ends.
            print(json.dumps(line), file=sys.stderr, flush=True)
    return results, used


def asking(groups, people):
    """Decisions needed to reach TARGET on the held-out half (None: not within 30), asking least sure first
    and in random order: ``{"least sure": [...], "random": [...]}``.

    The model is trained again at each point of ASKED, and the groups up to the next point are the least
    sure by that model: as when shashin-rank runs now and then while a person decides.
    """
    needed = {"least sure": [], "random": []}
    for seed in people:
        person = Person(seed, groups)
        pool, held_out = halves(groups, seed, 0)
        truths = [person.keeper(members) for members in held_out]
        for order in needed:
            undecided, decided, reached, asked, ranker = list(pool), [], None, [], None
            while len(decided) < ASKED[-1] and undecided and reached is None:
                if not asked:
                    if len(decided) < START or order == "random":
                        asked = [undecided[0]]
                    else:
                        batch = next(n for n in ASKED if n > len(decided)) - len(decided)
                        asked = [undecided[i] for i in ranker.least_sure_first(undecided)[:batch]]
                members = asked.pop(0)
                undecided.remove(members)
                kept = person.decide(members)
                if kept is None:
                    continue
                decided.append((members, kept))
                if len(decided) in ASKED:
                    ranker = model.train(decided)
                    if top1(ranker.rank(held_out, explain=False), held_out, truths) >= TARGET:
                        reached = len(decided)
            needed[order].append(reached)
        print(json.dumps({"person": seed, **{order: values[-1] for order, values in needed.items()}}), file=sys.stderr)
    return needed


def summary(values):
    values = np.array(values)
    return "{:.4f} | {:.4f} | {:.3f}".format(values.mean(), np.percentile(values, 10), values.min())


def print_learning(results, used, count):
    """The learning table; ``used``: how many person-shuffles the model ordered at each checkpoint, or None."""
    print("Top-1 on the held-out half of the groups, {} person-shuffles: mean, 10th percentile, worst".format(count))
    print(
        "(the linear model: {} person-shuffles, the first of every {}th person)".format(
            len(results["linear"][10]), LINEAR_EVERY
        )
    )
    print()
    print(
        "| decisions | "
        + " | ".join("{0}: mean | {0}: p10 | {0}: worst".format(r) for r in RANKERS)
        + (" | model used |" if used else " |")
    )
    print("|---:|" + "---:|" * (3 * len(RANKERS) + bool(used)))
    for n in CHECKPOINTS:
        print(
            "| {} | {} |".format(n, " | ".join(summary(results[r][n]) for r in RANKERS))
            + (" {:.2f} |".format(used[n] / count) if used else ""),
            flush=True,
        )


def print_asking(needed):
    print()
    people = len(needed["random"])
    print("Decisions until top-1 reaches {} ({} random first), over {} people".format(TARGET, START, people))
    print()
    print("| order | reached within 30 | median decisions | 90th percentile |")
    print("|---|---:|---:|---:|")
    for order, values in needed.items():
        # Not reached within 30: counted as more than 30 (infinity) for the percentiles.
        counts = np.array([np.inf if v is None else v for v in values])
        print(
            "| {} | {:.2f} | {} | {} |".format(
                order,
                np.isfinite(counts).mean(),
                _decisions(np.percentile(counts, 50, method="higher")),
                _decisions(np.percentile(counts, 90, method="higher")),
            )
        )


def _decisions(value):
    return "> 30" if not np.isfinite(value) else "{:.0f}".format(value)


def summarize(files):
    """The tables of the person-by-person JSON lines of earlier runs."""
    lines = [json.loads(line) for name in files for line in open(name) if line.startswith("{")]
    measured = [line for line in lines if "shuffle" in line]
    if measured:
        results = {name: {n: [] for n in CHECKPOINTS} for name in RANKERS}
        for line in measured:
            for n in CHECKPOINTS:
                for name, value in line[str(n)].items():
                    results[name][n].append(value)
        print("{} people".format(len({line["person"] for line in measured})))
        print_learning(results, None, len(measured))
    asked = [line for line in lines if "random" in line]
    if asked:
        print_asking({order: [line[order] for line in asked] for order in ("least sure", "random")})


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--population", choices=sorted(POPULATIONS), default="held-out")
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--skip-people", type=int, default=0, help="start at this person of the population")
    parser.add_argument("--shuffles", type=int, default=3, help="shuffles of the groups per person")
    parser.add_argument("--cache", help="a folder where the scanned archive is kept between runs")
    parser.add_argument("--skip-asking", action="store_true", help="only the learning curve")
    parser.add_argument("--skip-learning", action="store_true", help="only the asking experiment")
    parser.add_argument(
        "--summarize",
        nargs="+",
        metavar="FILE",
        help="only sum up the JSON lines that runs wrote on stderr (runs split over people, or stopped early)",
    )
    args = parser.parse_args()
    if args.summarize:
        summarize(args.summarize)
        return
    archive_seed, first = POPULATIONS[args.population]
    started = time.perf_counter()
    groups = library(archive_seed, args.cache)
    people = range(first + args.skip_people, first + args.skip_people + args.people)
    print(
        "{} population: {} people, archive seed {} ({} groups, {} files)".format(
            args.population, args.people, archive_seed, len(groups), sum(map(len, groups))
        )
    )
    print()
    if not args.skip_learning:
        results, used = learning(groups, people, args.shuffles, today_linear())
        print_learning(results, used, args.people * args.shuffles)
    if not args.skip_asking:
        needed = asking(groups, people)
        print_asking(needed)
        print()
        print("decisions needed, person by person:", json.dumps(needed))
    print()
    print("{:.0f} s".format(time.perf_counter() - started))


if __name__ == "__main__":
    main()
