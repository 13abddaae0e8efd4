"""Benchmark: shashin-organize --move with dates from the database, against exiftool's own renaming.

Makes N small JPEGs over 100 capture days (one photo per day dated with one exiftool
run, then copied), stores them in a shashin database as shashin-hash and shashin-meta
would, and times, over two identical copies of the tree in the same run:

  shashin-organize --move SRC DEST                          (dates from the database)
  exiftool '-Directory<DateTimeOriginal' -d DEST/%Y/%m/%d -r SRC

Both move files within one file system into the same folders (checked), so the
ratio is per file, end to end, process start-up included.

  .venv/bin/python benchmarks/bench_organize.py             # 10,000 files
  .venv/bin/python benchmarks/bench_organize.py --files 2000
"""

import argparse
import datetime
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from wand.image import Image

from shashin import exif
from shashin.store import Store

BIN = Path(sys.executable).parent
DAYS = 100


def make_tree(root, count):
    """count JPEGs in SRC/DAY/IMG_n.jpg: one photo per day dated by one exiftool run, copied."""
    masters = root / "masters"
    masters.mkdir()
    arguments = []
    for day in range(DAYS):
        master = masters / "{:03d}.jpg".format(day)
        with Image(filename="rose:") as image:
            image.format = "jpeg"
            image.save(filename=str(master))
        taken = datetime.datetime(2015, 1, 1, 12) + datetime.timedelta(days=day * 37 % 3650)
        arguments += ["-DateTimeOriginal={:%Y:%m:%d %H:%M:%S}".format(taken), str(master), "-execute"]
    subprocess.run(
        ["exiftool", "-@", "-", "-common_args", "-q", "-overwrite_original"],
        input="\n".join(arguments),
        text=True,
        check=True,
    )
    src = root / "src"
    for index in range(count):
        folder = src / "{:03d}".format(index % DAYS)
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy2(masters / "{:03d}.jpg".format(index % DAYS), folder / "IMG_{:05d}.jpg".format(index))
    return masters, src


def fill_database(db, masters, src):
    """Rows for every file, as shashin-hash and shashin-meta store them (one exiftool read per day)."""
    with exif.Session() as session:
        tags = {Path(path).stem: found for path, found, _ in session.read(map(str, masters.glob("*.jpg")))}
    hashed, described = [], []
    for path in sorted(src.rglob("*.jpg")):
        day, stat = path.parent.name, path.stat()
        record = {
            "path": str(path),
            "size": stat.st_size,
            "mtime": stat.st_mtime,
            "md5": hashlib.md5(path.read_bytes()).hexdigest(),
            "dhash": "0" * 16,
            "width": 70,
            "height": 46,
            "format": "JPEG",
        }
        hashed.append(record)
        described.append(dict(record, metadata=tags[day], **exif.derived_fields(tags[day])))
    store = Store(db)
    store.save_hashed(hashed, {})
    store.save_metadata(described)
    store.close()


def timed(command):
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def layout(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*.jpg"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=10_000, help="files to organize (default 10,000)")
    parser.add_argument("--dir", help="work folder (default: a temporary folder, removed after)")
    parser.add_argument("--quick", action="store_true", help="1,000 files, to check the script runs")
    args = parser.parse_args()
    if args.quick:
        args.files = 1_000
    root = Path(tempfile.mkdtemp(prefix="bench-organize-", dir=args.dir))
    try:
        masters, src = make_tree(root, args.files)
        shutil.copytree(src, root / "src-exiftool", copy_function=shutil.copy2)
        db = root / "shashin.db"
        fill_database(db, masters, src)
        exiftool_s = timed(
            [
                "exiftool",
                "-q",
                "-Directory<DateTimeOriginal",
                "-d",
                str(root / "by-exiftool/%Y/%m/%d"),
                "-r",
                str(root / "src-exiftool"),
            ]
        )
        shashin_s = timed(
            [str(BIN / "shashin-organize"), "-q", "--db", str(db), "--move", str(src), str(root / "by-shashin")]
        )
        same = layout(root / "by-shashin") == layout(root / "by-exiftool")
        moved = (
            Store(db, readonly=True)
            .db.execute("select count(*) from images where path like ?", [str(root / "by-shashin") + "/%"])
            .fetchone()[0]
        )
        result = {
            "files": args.files,
            "shashin_organize_files_per_s": round(args.files / shashin_s),
            "exiftool_files_per_s": round(args.files / exiftool_s),
            "ratio": round(exiftool_s / shashin_s, 2),
            "same_layout": same,
            "database_rows_moved": moved,
        }
        print(json.dumps(result))
        print(
            "shashin-organize --move: {:,.0f} files/s; exiftool -Directory<DateTimeOriginal: {:,.0f} files/s;"
            " shashin is {:.2f}x {}".format(
                args.files / shashin_s,
                args.files / exiftool_s,
                result["ratio"],
                "faster" if result["ratio"] >= 1 else "slower",
            ),
            file=sys.stderr,
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
