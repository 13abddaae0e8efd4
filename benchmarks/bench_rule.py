"""How fast shashin-rank orders groups by the rule, reading the scan-time facts columns or the tags' JSON.

A labelled archive (:func:`shashin.demo.archive`: camera originals with real EXIF and maker notes,
random copies of each: backups, exports, messenger and web copies, edits) is written and scanned
for real by shashin-hash and shashin-meta. Its photos' rows, as scanned, are repeated under other
folders into a database of N groups (each photo's files one group), through the real store.

Timed, in the same run, ``shashin-rank -q`` end to end (no decisions: the rule orders, with its
reasons, and the ranks are stored) on:

* columns: the database as shashin-meta writes it now, the facts ranking reads as columns;
* JSON (baseline): the same database with the facts columns empty, as rows scanned before
  the columns existed, so the rule parses every member's tags.

Both give the same ranks (checked). Then the keeper rules page's preview of a rule
(``preferences.preview``) on the same database; and, with ``--previous TREE``, the shashin-rank of
an older source tree on the JSON database (the rule before the camera's evidence counted: 8c45094).

    python benchmarks/bench_rule.py --groups 20000 100000
    python benchmarks/bench_rule.py --groups 2000 --photos 20   # quick
    git archive 8c45094 | tar -x -C /tmp/before && python benchmarks/bench_rule.py --previous /tmp/before
"""

import argparse
import contextlib
import json
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_keeper import scanned_archive

from shashin import facts
from shashin.ranking import preferences
from shashin.similarity import Group
from shashin.store import Store

BIN = Path(sys.executable).parent


def scanned_photos(folder, count, seed):
    """The archive's photos that have copies, as lists of images rows after a real scan."""
    return [members for members, _, _ in scanned_archive(folder, count, seed) if len(members) > 1]


def database(path, photos, groups):
    """A database of ``groups`` groups: the photos' rows again and again, each time under another folder."""
    records, members = [], []
    for index in range(groups):
        prefix = "/library{:06}".format(index)
        group = [
            dict(row, path=prefix + row["path"], real_path=None, metadata=json.loads(row["metadata"]))
            for row in photos[index % len(photos)]
        ]
        records.extend(group)
        members.append(Group("similar", [(row["path"], row["md5"], 0) for row in group], 0))
    with contextlib.closing(Store(path)) as store:
        store.save_hashed(records, {})
        store.save_metadata(records)
        store.replace_groups(members)
        store.db.execute("pragma wal_checkpoint(truncate)")


def without_columns(source, target):
    """A copy of the database whose facts columns are empty, as before shashin-meta wrote them."""
    shutil.copy(source, target)
    with contextlib.closing(sqlite3.connect(target)) as conn, conn:
        conn.execute("update images set {}".format(", ".join(field + " = null" for field in facts.FIELDS)))


def rank(db, tree=None):
    """Seconds of ``shashin-rank -q`` (wall clock, and CPU: user + system) and the ranks it stored; the
    shashin of another source tree (an older commit's) when given."""
    command = [sys.executable, "-m", "shashin.cli", "rank", "-q", "--db", db]
    environment = dict(os.environ, PYTHONPATH=str(tree)) if tree else None
    before, started = _children_cpu(), time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, check=True, env=environment)
    seconds, cpu = time.perf_counter() - started, _children_cpu() - before
    with contextlib.closing(sqlite3.connect(db)) as conn:
        ranks = conn.execute("select path, rank, reasons from ranks order by path").fetchall()
    return seconds, cpu, ranks


def _children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--groups", type=int, nargs="+", default=[20000, 100000], help="groups in each database")
    parser.add_argument("--photos", type=int, default=40, help="photos of the scanned archive")
    parser.add_argument("--seed", type=int, default=3, help="which random archive")
    parser.add_argument(
        "--previous",
        metavar="TREE",
        help="also time the shashin-rank of this source tree (git archive REV | tar -x -C TREE), on the JSON database",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        photos = scanned_photos(folder, args.photos, args.seed)
        files = sum(map(len, photos))
        tags = sum(row["tag_count"] for photo in photos for row in photo) / files
        print("{} photos with copies scanned: {} files, {:.0f} tags a file".format(len(photos), files, tags))
        print()
        print("Seconds of wall clock (CPU, user + system, in brackets: the machine is shared):")
        print()
        previous = " {} |".format(args.previous) if args.previous else ""
        print("| groups | members | columns | JSON (baseline) | vs baseline | preview |" + previous)
        print("|---:|---:|---:|---:|---:|---:|" + ("---:|" if previous else ""))
        for groups in args.groups:
            columns, json_only = folder / "columns.db", folder / "json.db"
            database(columns, photos, groups)
            without_columns(columns, json_only)
            fast, fast_cpu, fast_ranks = rank(columns)
            slow, slow_cpu, slow_ranks = rank(json_only)
            assert fast_ranks == slow_ranks, "the columns and the JSON ranked differently"
            with contextlib.closing(Store(columns)) as store:
                started, cpu = time.perf_counter(), time.process_time()
                preferences.preview(store, preferences.parse("not-edited, largest-file"))
                preview, preview_cpu = time.perf_counter() - started, time.process_time() - cpu
            if args.previous:
                older, older_cpu, _ = rank(json_only, args.previous)
                previous = " {:.1f} ({:.1f}) |".format(older, older_cpu)
            print(
                "| {:,} | {:,} | {:.1f} ({:.1f}) | {:.1f} ({:.1f}) | {:.2f}x ({:.2f}x) | {:.2f} ({:.2f}) |{}".format(
                    groups,
                    len(fast_ranks),
                    fast,
                    fast_cpu,
                    slow,
                    slow_cpu,
                    fast / slow,
                    fast_cpu / slow_cpu,
                    preview,
                    preview_cpu,
                    previous,
                )
            )
            for db in (columns, json_only):
                for suffix in ("", "-wal", "-shm"):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(str(db) + suffix)


if __name__ == "__main__":
    main()
