"""Benchmark: the review page under load, against Datasette's own table page in the same run.

Fills a shashin database with N groups (default 100,000: two or three members each,
one exact group in three, one shared thumbnail per group, ranks with a keep probability
for two groups in three) through the real store, with REAL groups (default 60, chosen at
random) whose files exist on disk, starts a real `datasette serve --root` on a free loopback
port, signs in, then measures:

  * the first request (it builds the review order, cached until the grouping changes), and the
    first request after a decision (the cached order is filtered again);
  * sequential latency of the first page, a deep page (the middle of the list), the last, the
    "least sure first" sort and a folder filter, against Datasette's table page /shashin/groups
    as the baseline;
  * in-place action round trips as the page's script makes them (POST, answered with the
    group's new HTML): removing one copy of a real group and undoing it (files moved to the
    trash and back), "not duplicates" on a random group and undoing it, against Datasette's
    table page of that group's members (/shashin/group_members?group_id=N) as the baseline;
  * CLIENTS concurrent Python clients (httpx) for SECONDS seconds on first, deep and random
    pages: requests served, errors, median and 95th percentile.

  .venv/bin/python benchmarks/bench_review.py                  # 100,000 groups, 20 clients, 20 s
  .venv/bin/python benchmarks/bench_review.py --quick          # 10,000 groups, 5 s
"""

import argparse
import asyncio
import collections
import hashlib
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from shashin.similarity import Group
from shashin.store import Store

BIN = Path(sys.executable).parent
PAGE_SIZE = 10
BASELINE = "baseline: Datasette's table page of the group's members"


def fill(db_path, groups, real_groups, folder):
    """N groups of 2-3 members, with images rows, a thumbnail for every content and ranks; the
    members of real_groups (group numbers) are files written in folder, with their true md5."""
    store = Store(db_path)
    jpeg = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffd9")
    images, thumbnails, grouped, ranks = [], {}, [], []
    for number in range(groups):
        exact = number % 3 == 0
        members = []
        for copy in range(2 + number % 2):
            md5 = "{:032x}".format(number * 4 + (0 if exact else copy))
            path = "/photos/{:03d}/{:06d}-{}.jpg".format(number % 1000, number, copy)
            size = 200_000 + (number * 7919) % 3_000_000 - copy * 1000
            if number in real_groups:
                content = "group {} copy {}".format(number, 0 if exact else copy).encode() * 5000
                path = os.path.join(folder, "{:06d}-{}.jpg".format(number, copy))
                with open(path, "wb") as handle:
                    handle.write(content)
                md5, size = hashlib.md5(content).hexdigest(), len(content)
            images.append(
                {
                    "path": path,
                    "size": size,
                    "mtime": 1.6e9 + number,
                    "md5": md5,
                    "dhash": "{:016x}".format(number),
                    "width": 4000 - copy * 100,
                    "height": 3000,
                    "format": "JPEG",
                    "metadata": '{"EXIF:Make": "Canon"}',
                    "taken_at": "2019-01-01T12:00:00",
                    "taken_at_source": "EXIF:DateTimeOriginal",
                    "make": "Canon",
                    "model": "EOS {}".format(copy),
                }
            )
            thumbnails[md5] = jpeg
            members.append((path, md5, 0 if exact else copy * 3))
        grouped.append(Group("exact" if exact else "similar", members, 0 if exact else 3))
    with store.db.atomic():
        store.db["images"].insert_all(images, batch_size=5000)
        store.db["thumbnails"].insert_all(({"md5": k, "jpeg": v} for k, v in thumbnails.items()), batch_size=5000)
    ids = store.replace_groups(grouped)
    for group_id, group in zip(ids, grouped):
        if group_id % 3:
            sure = random.uniform(0.5, 1)
            for rank, (path, _, _) in enumerate(group.members, 1):
                probability = sure if rank == 1 else (1 - sure) / (len(group.members) - 1)
                ranks.append(
                    {
                        "path": path,
                        "group_id": group_id,
                        "rank": rank,
                        "keep_probability": probability,
                        "sureness": sure,
                        "reasons": [],
                    }
                )
    store.save_ranks(ranks)
    store.close()
    return {
        group_id: [path for path, _, _ in group.members]
        for number, (group_id, group) in enumerate(zip(ids, grouped))
        if number in real_groups
    }


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(db_path, port):
    """`datasette serve --root`: the process and its sign-in link, once it answers."""
    process = subprocess.Popen(
        [str(BIN / "datasette"), "serve", str(db_path), "--host", "127.0.0.1", "--port", str(port), "--root"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    sign_in = None
    deadline = time.monotonic() + 60
    while sign_in is None and time.monotonic() < deadline:
        found = re.search(r"http://\S+/-/auth-token\?token=\w+", process.stdout.readline())
        sign_in = found.group(0) if found else None
    # Its log goes on being read, or a full pipe would stop the server.
    threading.Thread(target=process.stdout.read, daemon=True).start()
    while sign_in and time.monotonic() < deadline:
        try:
            httpx.get("http://127.0.0.1:{}/-/versions.json".format(port), timeout=1)
            return process, sign_in
        except httpx.TransportError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit("datasette did not start")


class Reviewer:
    """A signed-in browser session posting the page's actions as its script does."""

    def __init__(self, client, sign_in):
        self.client = client
        client.get(sign_in)
        page = client.get("/-/shashin").text
        # Datasette 0.65 checks the form's token against its cookie; 1.0 checks these headers.
        self.csrf = re.search(r'name="csrftoken" value="([^"]*)"', page).group(1)
        self.headers = {"accept": "application/json", "origin": str(client.base_url), "sec-fetch-site": "same-origin"}

    def post(self, action, fields):
        """``(seconds, answer)`` of one action; the answer must carry the group's HTML."""
        form = dict(fields, csrftoken=self.csrf, back="/-/shashin")
        started = time.perf_counter()
        response = self.client.post("/-/shashin/" + action, data=form, headers=self.headers)
        elapsed = time.perf_counter() - started
        answer = response.json()
        if not answer["ok"] or not answer.get("html"):
            raise SystemExit("{} failed: {}".format(action, answer.get("summary")))
        return elapsed, answer


def round_trips(reviewer, client, real, random_ids):
    """Median ms of each in-place action and of the baseline: real is ``{group id: [paths]}``."""
    times = collections.defaultdict(list)
    for group_id, paths in real.items():
        member = os.fsencode(random.choice(paths)).hex()  # how the page's form names a member
        elapsed, answer = reviewer.post("remove", {"group": group_id, "member": member})
        times["remove one copy (files moved)"].append(elapsed)
        elapsed, _ = reviewer.post("undo", dict(answer["undo"], shown=group_id))
        times["undo the removal (files back)"].append(elapsed)
    for group_id in random_ids:
        elapsed, answer = reviewer.post("not-duplicates", {"group": group_id})
        times["not duplicates"].append(elapsed)
        elapsed, _ = reviewer.post("undo", dict(answer["undo"], shown=group_id))
        times["undo not duplicates"].append(elapsed)
        times[BASELINE].append(timed(client, "/shashin/group_members?group_id={}&_size=10".format(group_id)))
    return {label: statistics.median(values) * 1000 for label, values in times.items()}


def timed(client, path):
    started = time.perf_counter()
    response = client.get(path)
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    return elapsed


def sequential(client, path, repeat):
    return statistics.median(timed(client, path) for _ in range(repeat)) * 1000


def decide_then_time(db_path, client, path, group_id):
    """Record a decision as the page would, then time the next request."""
    store = Store(db_path)
    with store.write_lock():
        store.record_decision(group_id + 1, "not_duplicates", [({"path": "/photos/x.jpg", "md5": "0" * 32}, True)])
    store.close()
    return timed(client, path)


async def load(base, paths, clients, seconds):
    latencies, errors = [], collections.Counter()
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients)

    async def client_loop(client):
        while time.monotonic() < deadline:
            path = random.choice(paths)()
            started = time.perf_counter()
            try:
                response = await client.get(path)
                if response.status_code != 200:
                    errors[response.status_code] += 1
                    continue
            except httpx.HTTPError as error:
                errors[type(error).__name__] += 1
                continue
            latencies.append(time.perf_counter() - started)

    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        await asyncio.gather(*(client_loop(client) for _ in range(clients)))
    return latencies, errors


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--groups", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--repeat", type=int, default=30, help="Sequential requests per page measured.")
    parser.add_argument("--real", type=int, default=60, help="Groups whose files exist: removed and restored.")
    parser.add_argument("--quick", action="store_true", help="10,000 groups, 5 s of load.")
    args = parser.parse_args()
    if args.quick:
        args.groups, args.seconds = 10_000, 5
    with tempfile.TemporaryDirectory() as folder:
        db_path = os.path.join(folder, "shashin.db")
        os.mkdir(os.path.join(folder, "photos"))
        started = time.perf_counter()
        real = fill(db_path, args.groups, set(random.sample(range(args.groups), args.real)), folder + "/photos")
        print("filled {:,} groups in {:.1f} s".format(args.groups, time.perf_counter() - started))
        port = free_port()
        process, sign_in = serve(db_path, port)
        try:
            base = "http://127.0.0.1:{}".format(port)
            pages = -(-args.groups // PAGE_SIZE)
            first, deep, last = (
                "/-/shashin",
                "/-/shashin?page={}".format(pages // 2),
                "/-/shashin?page={}".format(pages),
            )
            unsure, in_folder = (
                "/-/shashin?sort=unsure",
                "/-/shashin?folder=/photos/{:03d}".format(random.randrange(1000)),
            )
            baseline = "/shashin/groups?_size=10"
            with httpx.Client(base_url=base, timeout=60) as client:
                print("first request (builds the review order): {:.0f} ms".format(timed(client, first) * 1000))
                print("first request sorted least sure first: {:.0f} ms".format(timed(client, unsure) * 1000))
                timed(client, baseline)
                figures = {
                    path: sequential(client, path, args.repeat)
                    for path in (first, deep, last, unsure, in_folder, baseline)
                }
                after_decision = (
                    statistics.median(decide_then_time(db_path, client, first, number) for number in range(5)) * 1000
                )
            print("first page right after a decision (order filtered again): {:.1f} ms".format(after_decision))
            print("\nsequential median over {} requests:".format(args.repeat))
            for path, median in figures.items():
                label = "baseline (Datasette table page)" if path == baseline else "review"
                ratio = median / figures[baseline]
                print("  {:<34} {:<32} {:7.1f} ms  {:4.2f}x baseline".format(path, label, median, ratio))
            choices = [lambda: first, lambda: deep, lambda: "/-/shashin?page={}".format(random.randint(1, pages))]
            latencies, errors = asyncio.run(load(base, choices, args.clients, args.seconds))
            latencies.sort()
            print(
                "\n{} clients for {:.0f} s: {:,} requests, {:.0f}/s, errors: {}".format(
                    args.clients, args.seconds, len(latencies), len(latencies) / args.seconds, dict(errors) or "none"
                )
            )
            if latencies:
                print(
                    "  median {:.1f} ms, 95th percentile {:.1f} ms".format(
                        statistics.median(latencies) * 1000, latencies[int(len(latencies) * 0.95)] * 1000
                    )
                )
            with httpx.Client(base_url=base, timeout=60) as client:
                reviewer = Reviewer(client, sign_in)
                random_ids = random.sample(sorted(set(range(1, args.groups + 1)) - set(real)), args.real)
                actions = round_trips(reviewer, client, real, random_ids)
            print(
                "\nin-place actions (POST answered with the group's HTML), median over {} random groups:".format(
                    args.real
                )
            )
            for label, median in actions.items():
                print("  {:<58} {:7.1f} ms  {:4.2f}x baseline".format(label, median, median / actions[BASELINE]))
        finally:
            process.terminate()
            process.wait(timeout=10)
    slowest_action = max(median for label, median in actions.items() if label != BASELINE)
    ok = all(figures[path] < 100 for path in (first, deep)) and not errors and slowest_action < 100
    print(
        "\n"
        + ("PASS" if ok else "FAIL")
        + ": first and deep page median under 100 ms, no errors under load, every in-place action under 100 ms"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
