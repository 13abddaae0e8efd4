"""Benchmark: what checking content at the moment of removal costs, against reading the bytes alone.

Makes N groups of two copies of photo-sized files (sizes drawn from 0.3 to 12 MB, as an
archive mixes messenger copies and camera originals), hashed into a real database and
grouped, then removes one copy of each group with ``trash.remove`` (identity of every
member, the md5 of the copy removed and of the copy that stays read again, journal,
decision, the move into the private trash). In the same run, on the same files (as warm
in the page cache as the removal finds them), the baseline reads the same two files'
md5 and nothing else: the floor of any check by content.

  .venv/bin/python benchmarks/bench_removal.py             # 200 groups
  .venv/bin/python benchmarks/bench_removal.py --quick     # 40 groups
"""

import argparse
import hashlib
import os
import random
import tempfile
import time
from pathlib import Path

from shashin import trash
from shashin.similarity import Group
from shashin.store import Store


def fill(root, groups, seed):
    """groups x (keeper, copy) of random sizes, stored as scanned and grouped. Returns the store and the pairs."""
    rng = random.Random(seed)
    store = Store(root / "shashin.db")
    rows, grouped, pairs = [], [], []
    for number in range(groups):
        data = rng.randbytes(int(rng.uniform(0.3, 12) * 1e6))
        md5 = hashlib.md5(data).hexdigest()
        pair = []
        for name in ("keeper", "copy"):
            path = root / "Pictures" / "{:04d}-{}.jpg".format(number, name)
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(data)
            info = path.stat()
            rows.append(
                {
                    "path": str(path),
                    "size": info.st_size,
                    "mtime": info.st_mtime,
                    "md5": md5,
                    "real_path": str(path),
                    "device": info.st_dev,
                    "inode": info.st_ino,
                }
            )
            pair.append(str(path))
        grouped.append(Group("exact", [(path, md5, 0) for path in pair]))
        pairs.append(pair)
    with store.db.atomic():
        store.db["images"].insert_all(rows)
    ids = store.replace_groups(grouped)
    (root / trash.TRASH_FOLDER).mkdir(mode=0o700)
    return store, list(zip(ids, pairs))


def md5_of(path):
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "md5").hexdigest()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--groups", type=int, default=200, help="Groups, one copy removed from each.")
    parser.add_argument("--quick", action="store_true", help="40 groups.")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    groups = 40 if args.quick else args.groups
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_DIR")) as folder:
        store, pairs = fill(Path(folder), groups, args.seed)
        megabytes = sum(os.path.getsize(copy) for _, (_, copy) in pairs) / 1e6
        reading = removing = 0.0
        # Interleaved, group by group: both see the same cache and the same machine load.
        for group_id, (keeper, copy) in pairs:
            started = time.perf_counter()
            md5_of(keeper), md5_of(copy)
            reading += time.perf_counter() - started
            started = time.perf_counter()
            _, [outcome] = trash.remove(store, group_id, [copy])
            removing += time.perf_counter() - started
            assert outcome.ok, outcome.message
        store.close()
    print("{} groups, {:.0f} MB removed (copies of 0.3 to 12 MB)".format(groups, megabytes))
    print("| Step | ms a removal | ms per MB removed | vs the md5 of both files |")
    print("| --- | ---: | ---: | ---: |")
    for name, seconds in (("md5 of the keeper and the copy (baseline)", reading), ("trash.remove", removing)):
        print(
            "| {} | {:.1f} | {:.2f} | {:.2f}x |".format(
                name, 1000 * seconds / groups, 1000 * seconds / megabytes, seconds / reading
            )
        )


if __name__ == "__main__":
    main()
