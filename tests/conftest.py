"""Shared fixtures: photo-like images made with Wand, and running shashin's commands for real."""

import contextlib
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from wand.image import Image

from shashin import demo
from shashin.store import Store

#: The browser tests' server fixture lives with the browser plumbing.
pytest_plugins = ["browser"]

BIN = Path(sys.executable).parent
SAMPLES = demo.sample_folder()
PHOTOS = ["astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png", "retina.jpg"]


def rewrite_keeping_size_and_mtime(path):
    """Other bytes in the same file, same size, its mtime put back: only the md5 can tell."""
    info = os.stat(path)
    with open(path, "r+b") as handle:
        handle.seek(info.st_size // 2)
        byte = handle.read(1)
        handle.seek(info.st_size // 2)
        handle.write(bytes([byte[0] ^ 0xFF]))
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))


def record_calls(monkeypatch, owner, name):
    """``owner.name`` still runs, and each call's first argument is appended to the list returned."""
    calls = []
    real = getattr(owner, name)

    def recorded(first, *args, **kwargs):
        calls.append(first)
        return real(first, *args, **kwargs)

    monkeypatch.setattr(owner, name, recorded)
    return calls


def make_photo(path, index=0, width=640, height=480, fmt=None):
    """A real photograph (scikit-image's samples, cropped by index) saved at path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with Image(filename=str(SAMPLES / PHOTOS[index % len(PHOTOS)])) as image:
        # Different indexes over the same sample give different, non-overlapping-ish views.
        shift = (index // len(PHOTOS)) * 37
        image.crop(
            shift % max(1, image.width // 4),
            shift % max(1, image.height // 4),
            width=image.width * 3 // 4,
            height=image.height * 3 // 4,
        )
        image.resize(width, height)
        image.format = fmt or path.suffix.lstrip(".") or "jpeg"
        image.save(filename=str(path))
    return path


def copies(folder, n):
    """Photo n of a :func:`phone_library`: its Camera/ original, a WhatsApp/ copy and an Exports/ PNG."""
    return {
        "camera": str(folder / "Camera" / "IMG_{:04}.jpg".format(n)),
        "whatsapp": str(folder / "WhatsApp" / "IMG-20190704-WA{:04}.jpg".format(n)),
        "exports": str(folder / "Exports" / "IMG_{:04}.png".format(n)),
    }


def phone_library(folder, count):
    """count photos from a phone's Camera/ folder, each with a half-size WhatsApp/ copy and an Exports/ PNG
    (same size, larger file)."""
    for n in range(count):
        paths = copies(folder, n)
        make_photo(paths["camera"], n)
        make_photo(paths["whatsapp"], n, 320, 240)
        make_photo(paths["exports"], n)


def run(command, *args, input=None, env=None, check=None):
    """Run a shashin console script; returns the CompletedProcess (text mode)."""
    result = subprocess.run(
        [str(BIN / command), *map(str, args)],
        input=input,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=300,  # a command that hangs fails its test instead of the whole run
    )
    if check is not None:
        assert result.returncode == check, result.stderr
    return result


def invoke(command, *args, input=None, check=None):
    """Run a command's click function in this process: for usage errors and --help, which need no process.

    A process of its own costs an interpreter and the command's imports (seconds for shashin-rank).
    """
    result = CliRunner().invoke(command, [str(arg) for arg in args], input=input)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception  # no traceback
    if check is not None:
        assert result.exit_code == check, result.output
    return result


def run_unprivileged(tmp_path, command, *args):
    """Run a console script as nobody when we are root: root reads every file whatever its mode."""
    if os.geteuid() != 0:
        return run(command, *args)
    for folder in [tmp_path, *tmp_path.parents]:
        folder.chmod(folder.stat().st_mode | 0o755)
    tmp_path.chmod(0o777)
    return subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", str(BIN / command), *map(str, args)],
        capture_output=True,
        text=True,
    )


def scanned_archive(tmp_path):
    """Three photos of the labelled archive (:func:`shashin.demo.archive`), each with one copy of every kind,
    scanned by shashin-hash and shashin-meta: ``(photos, {path: images row})``."""
    folder, db = tmp_path / "archive", tmp_path / "shashin.db"
    photos = demo.archive(folder, 3, seed=5, copies=demo.COPIES)
    hashed = run("shashin-hash", "--db", db, "-q", folder, check=0).stdout
    run("shashin-meta", "--db", db, "-q", input=hashed, check=0)
    with contextlib.closing(Store(db)) as store:
        return photos, store.images_by_path(str(path) for photo in photos for path in photo["files"])


def json_lines(text):
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def md5(path):
    return hashlib.md5(Path(path).read_bytes()).hexdigest()


def group_of(db, path):
    """The id of the group a scanned path is in."""
    with contextlib.closing(Store(db)) as store:
        return store.groups_of_paths([path])[path]


@pytest.fixture
def open_store():
    """``open_store(db)``: a Store that is closed when the test ends, however it ends."""
    opened = []

    def open_(db):
        opened.append(Store(db))
        return opened[-1]

    yield open_
    for store in opened:
        store.close()


@pytest.fixture
def library(tmp_path):
    """A folder with a few photos and a database path beside it."""
    folder = tmp_path / "Pictures"
    for index in range(3):
        make_photo(folder / "photo{}.jpg".format(index), index)
    return folder


@pytest.fixture
def db(tmp_path):
    return tmp_path / "shashin.db"


def duplicate_library(folder, db):
    """Photos with copies, hashed and grouped for real: returns ``{name: absolute path}``.

    An exact group of three (photo.jpg, "photo copy.jpg", backup/photo.jpg), a similar
    group of two (beach.jpg and a smaller beach-small.jpg) and a single photo.
    """
    folder = Path(folder)
    paths = {
        "photo": make_photo(folder / "photo.jpg", 0),
        "beach": make_photo(folder / "beach.jpg", 1),
        "beach-small": make_photo(folder / "beach-small.jpg", 1, 320, 240),
        "single": make_photo(folder / "single.jpg", 2),
    }
    for name, target in (("photo copy", folder / "photo copy.jpg"), ("backup", folder / "backup" / "photo.jpg")):
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(paths["photo"], target)
        paths[name] = target
    run("shashin-hash", "--db", db, "-q", folder, check=0)
    run("shashin-group", "--db", db, "-q", check=0)
    return {name: str(path.resolve()) for name, path in paths.items()}


@pytest.fixture
def photos(duplicates):
    """The paths of the :func:`duplicate_library` of this test, by name."""
    return duplicates[1]


@pytest.fixture(scope="session")
def duplicates_template(tmp_path_factory):
    root = tmp_path_factory.mktemp("duplicates")
    paths = duplicate_library(root / "Pictures", root / "shashin.db")
    pristine = tmp_path_factory.mktemp("duplicates-pristine")
    shutil.copytree(root / "Pictures", pristine / "Pictures")
    with contextlib.closing(sqlite3.connect(root / "shashin.db")) as conn:
        conn.execute("pragma wal_checkpoint(truncate)")
    shutil.copy2(root / "shashin.db", pristine / "shashin.db")
    return root, pristine, paths


@pytest.fixture
def duplicates(duplicates_template):
    """A fresh :func:`duplicate_library` with its own trash, at the same paths each test: ``(db, paths)``.

    Hashing and grouping run once a session; each test gets the files and database
    copied back (mtimes included) from that run.
    """
    root, pristine, paths = duplicates_template
    reset_from(pristine, root)
    return root / "shashin.db", dict(paths)


def scanned_template(tmp_path_factory, name, make, after=None):
    """A library made by ``make(folder)``, hashed and grouped for real (then ``after(db, folder)``), kept aside
    once a module or session: ``(root, pristine, folder)``, for :func:`fresh_copy`."""
    root = tmp_path_factory.mktemp(name)
    folder = (root / "Pictures").resolve()
    make(folder)
    db = root / "shashin.db"
    run("shashin-hash", "--db", db, "-q", folder, check=0)
    run("shashin-group", "--db", db, "-q", check=0)
    if after is not None:
        after(db, folder)
    with contextlib.closing(Store(db)) as store:
        store.db.execute("pragma wal_checkpoint(truncate)")
    pristine = tmp_path_factory.mktemp(name + "-pristine")
    os.rename(folder, pristine / "Pictures")
    os.rename(db, pristine / "shashin.db")
    return root, pristine, folder


def fresh_copy(template):
    """A fresh copy of a :func:`scanned_template` at the same paths, with an empty trash: ``(db, folder)``."""
    root, pristine, folder = template
    reset_from(pristine, root)
    return root / "shashin.db", folder


def reset_from(pristine, root):
    """Make root a copy of pristine again (mtimes included, so scans still match), with an empty trash.

    Tests that change files and databases made once a session get them back at the same paths.
    """
    for entry in Path(root).iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    shutil.copytree(pristine, root, dirs_exist_ok=True)
    (Path(root) / ".shashin-trash").mkdir(mode=0o700)
    database = Path(root) / "shashin.db"
    if database.exists():
        _identify_again(database)


def _identify_again(database):
    # The copies are new files (new inodes): the database learns them as a rescan would.
    with contextlib.closing(sqlite3.connect(database)) as conn, conn:
        paths = [path for (path,) in conn.execute("select path from images where inode is not null")]
        conn.executemany(
            "update images set device = ?, inode = ? where path = ?",
            [(os.stat(path).st_dev, os.stat(path).st_ino, path) for path in paths if os.path.exists(path)],
        )


@contextlib.contextmanager
def unwritable(folder):
    """A folder nobody may change, root included (chattr +i), for permission-denied tests."""
    folder = str(folder)
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i", folder], check=True)
    else:
        os.chmod(folder, 0o555)
    try:
        yield folder
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", folder], check=True)
        else:
            os.chmod(folder, 0o755)
