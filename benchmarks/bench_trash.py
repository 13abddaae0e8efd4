"""Benchmark: the trash page at 100,000 files in the trash, against Datasette's own table page in the same run.

Fills a shashin database through the real store's tables with N trash rows in the trash (default
100,000) and a fifth as many restored or emptied long ago, made of random removals: mostly single
removals of one to three files, one in fifty an acceptance of suggestions spanning 5 to 2,000 groups, each group's
keep decision naming the copy kept. Paths are random too (people, years, the folders phones, backups and
editors write, their names). Starts a real `datasette serve` on a free loopback port and times, as the
median of sequential requests:

  * the list of removals: its first page and a deep page;
  * a search by path, for fragments sampled from the paths (a folder, a year, part of a name) and for one
    no path holds, against Datasette's table page filtered the same way (``original_path__contains``,
    also a ``like '%…%'``);
  * the largest acceptance's own page, in the middle of its groups;

  against the baseline: Datasette's table page of the trash, 10 rows, newest first.

  .venv/bin/python benchmarks/bench_trash.py             # 100,000 files in the trash
  .venv/bin/python benchmarks/bench_trash.py --quick     # 10,000
"""

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
import urllib.parse
import uuid
from pathlib import Path

import httpx

from shashin.store import Store

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from browser import root_server  # noqa: E402

FOLDERS = ["Camera", "WhatsApp Images", "Exports", "Backup/Phone", "Downloads", "Lightroom/Export", "Screenshots"]
NAMES = ["IMG_{:04d}.jpg", "IMG-2019{:04d}-WA0001.jpg", "DSC_{:04d}.JPG", "PXL_2021{:04d}.jpg", "photo {}.png"]


def fill(db_path, files, rng):
    """``(files in the trash, removals in the trash, (batch, groups) of the largest acceptance)``."""
    store = Store(db_path)
    trash, decisions, members = [], [], []
    group_id, largest = 0, (None, 0)
    in_trash = 0
    while in_trash < files:
        batch = uuid.uuid4().hex
        groups = 1 if rng.random() < 0.98 else rng.randint(5, 2000)
        stamp = "2026-{:02d}-{:02d}T{:02d}:{:02d}:00+00:00".format(
            rng.randint(1, 11), rng.randint(1, 28), rng.randint(0, 23), rng.randint(0, 59)
        )
        gone = rng.random() < 1 / 6  # restored or emptied since: history the page must not read
        if not gone and groups > largest[1]:
            largest = (batch, groups)
        for _ in range(groups):
            group_id += 1
            folder = "/home/{}/Pictures/{}".format(rng.choice(["ann", "bo", "chen", "dmitri"]), rng.randint(2004, 2026))
            name = rng.choice(NAMES).format(rng.randint(0, 9999))
            decisions.append({"id": group_id, "group_id": group_id, "action": "keep", "batch": batch})
            kept = "{}/Originals/{}".format(folder, name)
            members.append({"decision_id": group_id, "path": kept, "md5": uuid.uuid4().hex, "kept": 1,
                            "snapshot": json.dumps({"size": rng.randint(10**5, 10**7)})})  # fmt: skip
            for copy in range(rng.randint(1, 3)):
                path = "{}/{}/{}".format(
                    folder, rng.choice(FOLDERS), name if copy == 0 else "copy {} {}".format(copy, name)
                )
                trash.append(
                    {
                        "original_path": path,
                        "trash_path": "/home/.shashin-trash/x/" + name,
                        "md5": uuid.uuid4().hex,
                        "size": rng.randint(10**5, 10**7),
                        "mtime": 0.0,
                        "group_id": group_id,
                        "batch": batch,
                        "trashed_at": stamp,
                        "restored_at": stamp if gone else None,
                    }  # fmt: skip
                )
                in_trash += not gone
                members.append({"decision_id": group_id, "path": path, "md5": trash[-1]["md5"], "kept": 0,
                                "snapshot": "{}"})  # fmt: skip
    with store.db.conn:
        store.db["trash"].insert_all(trash, batch_size=5000)
        store.db["decisions"].insert_all(decisions, batch_size=5000)
        store.db["decision_members"].insert_all(members, batch_size=5000)
    store.close()
    return in_trash, len({row["batch"] for row in trash if row["restored_at"] is None}), largest


def median_ms(client, path, repeat):
    """The median time of repeat requests, one after the other, in ms."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        client.get(path).raise_for_status()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15, help="Sequential requests per page measured.")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="10,000 files.")
    args = parser.parse_args()
    if args.quick:
        args.files = 10_000
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as folder:
        db_path = os.path.join(folder, "shashin.db")
        started = time.perf_counter()
        in_trash, removals, (batch, groups) = fill(db_path, args.files, rng)
        print(
            "filled {:,} files in the trash, {:,} removals, in {:.1f} s".format(
                in_trash, removals, time.perf_counter() - started
            )
        )
        with root_server(db_path) as (_, base_url):
            searched = [
                rng.choice(FOLDERS),
                str(rng.randint(2004, 2026)),
                "WA0001",
                "IMG_{:02d}".format(rng.randint(0, 99)),
            ]
            searched.append("nowhere-" + uuid.uuid4().hex[:6])
            acceptance = urllib.parse.urlencode({"batch": batch, "page": max(1, groups // 100)})
            timed = [
                ("baseline: Datasette's table page", "/shashin/trash?_size=10&_sort_desc=id"),
                ("list, first page", "/-/shashin/trash"),
                (
                    "list, page {}".format(max(1, removals // 20)),
                    "/-/shashin/trash?page={}".format(max(1, removals // 20)),
                ),
                ("largest acceptance ({:,} groups), middle page".format(groups), "/-/shashin/trash?" + acceptance),
            ]
            for fragment in searched:
                quoted = urllib.parse.quote(fragment)
                timed.append(("search {!r}".format(fragment), "/-/shashin/trash?q=" + quoted))
                timed.append(
                    ("  table page, contains {!r}".format(fragment), timed[0][1] + "&original_path__contains=" + quoted)
                )
            with httpx.Client(base_url=base_url, timeout=120) as client:
                figures = [(label, median_ms(client, path, args.repeat)) for label, path in timed]
            base = figures[0][1]
            print("median of {} sequential requests:".format(args.repeat))
            for label, median in figures:
                print("  {:<48} {:8.1f} ms  {:5.2f}x baseline".format(label, median, median / base))


if __name__ == "__main__":
    main()
