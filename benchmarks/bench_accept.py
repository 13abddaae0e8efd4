"""Benchmark: accepting suggestions in bulk, against the same removals one click at a time.

Fills a database with 2N groups of two small files each (real files on disk: the trash
reads their md5 and renames them; ``bench_removal.py`` measures what the md5 costs on
photo-sized files) through the real store, ranked as a trained model ranks them. Then, in
the same run:

  * baseline: the first N groups removed as "Keep this one, delete the others" removes
    them, one ``trash.remove`` and one batch per group, then undone one batch at a time;
  * bulk: the other N groups previewed (``Store.confident_suggestions`` and
    ``ranking.acceptance_preview``), accepted as one batch (``group_decisions.accept_suggestions``)
    and undone as one (``trash.restore_batch``).

  .venv/bin/python benchmarks/bench_accept.py              # 10,000 groups each way
  .venv/bin/python benchmarks/bench_accept.py --quick      # 1,000 groups each way
"""

import argparse
import hashlib
import tempfile
import time
from pathlib import Path

from shashin import group_decisions, ranking, trash
from shashin.similarity import Group
from shashin.store import Store


def fill(root, groups):
    """2 x groups of a keeper and a copy, as files, images rows, groups and ranks. Returns the store."""
    store = Store(root / "shashin.db")
    images, grouped, ranks = [], [], []
    for number in range(groups):
        members = []
        for copy in range(2):
            path = root / "Pictures" / "{:03d}".format(number % 500) / "{:06d}-{}.jpg".format(number, copy)
            path.parent.mkdir(parents=True, exist_ok=True)
            data = b"%d %d " % (number, copy) * (100 - copy)
            path.write_bytes(data)
            info = path.stat()
            md5 = hashlib.md5(data).hexdigest()
            images.append({"path": str(path), "size": info.st_size, "mtime": info.st_mtime, "md5": md5})
            members.append((str(path), md5, copy * 3))
            ranks.append(
                {
                    "path": str(path),
                    "rank": copy + 1,
                    "keep_probability": 0.01 if copy else 0.99,
                    "sureness": 0.99,
                    "reasons": [],
                }
            )
        grouped.append(Group("similar", members, 3))
    with store.db.atomic():
        store.db["images"].insert_all(images, batch_size=5000)
    ids = store.replace_groups(grouped)
    store.save_ranks(dict(row, group_id=ids[index // 2]) for index, row in enumerate(ranks))
    (root / ".shashin-trash").mkdir(mode=0o700)
    return store


def timed(fn):
    started = time.monotonic()
    result = fn()
    return time.monotonic() - started, result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--groups", type=int, default=10_000, help="Groups removed each way.")
    parser.add_argument("--quick", action="store_true", help="1,000 groups each way.")
    args = parser.parse_args()
    groups = 1_000 if args.quick else args.groups
    with tempfile.TemporaryDirectory() as folder:
        store = fill(Path(folder), 2 * groups)
        suggestions = store.confident_suggestions(0.95)
        one_by_one, bulk = suggestions[:groups], suggestions[groups:]

        def click_each():
            return [trash.remove(store, s["group"], [m["path"] for m in s["remove"]])[0] for s in one_by_one]

        single_seconds, batches = timed(click_each)
        single_undo, _ = timed(lambda: [trash.restore_batch(store, batch) for batch in batches])
        store.db.execute("delete from decisions")  # the undone clicks' groups are undecided again anyway
        preview_seconds, preview = timed(lambda: ranking.acceptance_preview(store.confident_suggestions(0.95)))
        assert preview["groups"] == 2 * groups, preview
        bulk_seconds, (batch, accepted, outcomes) = timed(lambda: group_decisions.accept_suggestions(store, bulk))
        assert accepted == groups and all(outcome.ok for outcome in outcomes)
        bulk_undo, restored = timed(lambda: trash.restore_batch(store, batch))
        assert len(restored) == groups and all(outcome.ok for outcome in restored)
        store.close()
    print("{:,} groups each way (2 files per group, 1 removed)".format(groups))
    print("| Step | Seconds | ms a group | vs one click at a time |")
    print("| --- | ---: | ---: | ---: |")
    rows = [
        ("remove, one click (batch) per group (baseline)", single_seconds, single_seconds),
        ("accept suggestions, one batch", bulk_seconds, single_seconds),
        ("undo, one batch per group (baseline)", single_undo, single_undo),
        ("undo the acceptance, one batch", bulk_undo, single_undo),
    ]
    for name, seconds, baseline in rows:
        print("| {} | {:.2f} | {:.2f} | {:.2f}x |".format(name, seconds, 1000 * seconds / groups, seconds / baseline))
    print(
        "| preview of {:,} groups (confident_suggestions + acceptance_preview) | {:.3f} | | |".format(
            preview["groups"], preview_seconds
        )
    )


if __name__ == "__main__":
    main()
