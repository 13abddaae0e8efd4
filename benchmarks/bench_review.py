"""Benchmark: the review page under load, against Datasette's own table page in the same run.

Fills a shashin database with N groups (default 100,000: two or three members each,
one exact group in three, one shared thumbnail per group) through the real store, starts
a real `datasette serve` on a free loopback port, then measures:

  * the first request (it builds the review order, cached until the grouping changes), and the
    first request after a decision (the cached order is filtered again);
  * sequential latency of the first page, a deep page (the middle of the list) and the last,
    against Datasette's table page /shashin/groups as the baseline;
  * CLIENTS concurrent Python clients (httpx) for SECONDS seconds on first, deep and random
    pages: requests served, errors, median and 95th percentile.

  .venv/bin/python benchmarks/bench_review.py                  # 100,000 groups, 20 clients, 20 s
  .venv/bin/python benchmarks/bench_review.py --quick          # 10,000 groups, 5 s
"""

import argparse
import asyncio
import collections
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from shashin.store import Store

BIN = Path(sys.executable).parent
Group = collections.namedtuple("Group", "kind members max_distance")
PAGE_SIZE = 10


def fill(db_path, groups):
    """N groups of 2-3 members, with images rows and a thumbnail for every content."""
    store = Store(db_path)
    jpeg = bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffd9")
    images, thumbnails, grouped = [], {}, []
    for number in range(groups):
        exact = number % 3 == 0
        members = []
        for copy in range(2 + number % 2):
            md5 = "{:032x}".format(number * 4 + (0 if exact else copy))
            path = "/photos/{:03d}/{:06d}-{}.jpg".format(number % 1000, number, copy)
            size = 200_000 + (number * 7919) % 3_000_000 - copy * 1000
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
    store.replace_groups(grouped)
    store.close()


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(db_path, port):
    process = subprocess.Popen(
        [str(BIN / "datasette"), "serve", str(db_path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get("http://127.0.0.1:{}/-/versions.json".format(port), timeout=1)
            return process
        except httpx.TransportError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit("datasette did not start")


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
    parser.add_argument("--quick", action="store_true", help="10,000 groups, 5 s of load.")
    args = parser.parse_args()
    if args.quick:
        args.groups, args.seconds = 10_000, 5
    with tempfile.TemporaryDirectory() as folder:
        db_path = os.path.join(folder, "shashin.db")
        started = time.perf_counter()
        fill(db_path, args.groups)
        print("filled {:,} groups in {:.1f} s".format(args.groups, time.perf_counter() - started))
        port = free_port()
        process = serve(db_path, port)
        try:
            base = "http://127.0.0.1:{}".format(port)
            pages = -(-args.groups // PAGE_SIZE)
            first, deep, last = (
                "/-/shashin",
                "/-/shashin?page={}".format(pages // 2),
                "/-/shashin?page={}".format(pages),
            )
            baseline = "/shashin/groups?_size=10"
            with httpx.Client(base_url=base, timeout=60) as client:
                print("first request (builds the review order): {:.0f} ms".format(timed(client, first) * 1000))
                timed(client, baseline)
                figures = {path: sequential(client, path, args.repeat) for path in (first, deep, last, baseline)}
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
        finally:
            process.terminate()
            process.wait(timeout=10)
    ok = all(figures[path] < 100 for path in (first, deep)) and not errors
    print("\n" + ("PASS" if ok else "FAIL") + ": first and deep page median under 100 ms, no errors under load")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
