"""Inputs as bad luck or an attacker makes them: deep folders, FIFOs, huge numbers, unreadable files, bad databases."""

import contextlib
import os
import subprocess

import pytest

from conftest import BIN, invoke, json_lines, make_photo, run, run_unprivileged
from shashin.cli import group, organize, rank, trash
from shashin.store import Store

DEPTH = 1200  # Python 3.11's os.walk recursed, and stopped at about 1,000 levels


@contextlib.contextmanager
def nested(root, depth):
    """``root/d/d/.../d`` depth folders deep, made and removed level by level (no recursion, here either)."""
    folders = [root]
    for _ in range(depth):
        folders.append(folders[-1] / "d")
        folders[-1].mkdir()
    try:
        yield folders[-1]
    finally:
        for folder in reversed(folders[1:]):
            for entry in folder.iterdir():
                if not entry.is_dir() or entry.is_symlink():
                    entry.unlink()
            folder.rmdir()


def test_folders_nested_1200_deep(tmp_path, db):
    source = tmp_path / "deep"
    source.mkdir()
    with nested(source, DEPTH) as bottom:
        photo = make_photo(bottom / "IMG_0001.jpg", 0, 32, 24)
        hashed = run("shashin-hash", "--db", db, source, check=0)
        assert [record["path"] for record in json_lines(hashed.stdout)] == [str(photo)]
        read = run("shashin-meta", "--db", db, source, check=0)
        assert [record["path"] for record in json_lines(read.stdout)] == [str(photo)]
        organized = run("shashin-organize", "--db", db, source, tmp_path / "out", check=0)
        assert [(r["action"], r["src"]) for r in json_lines(organized.stdout)] == [("copy", str(photo))]
        assert (tmp_path / "out/undated/IMG_0001.jpg").read_bytes() == photo.read_bytes()


def organize_within(seconds, *args):
    """shashin-organize, failing the test (not hanging it) if it runs longer than seconds."""
    return subprocess.run(
        [str(BIN / "shashin-organize"), *map(str, args)], capture_output=True, text=True, timeout=seconds
    )


def test_fifos_in_organize_sources_are_skipped(tmp_path, db):
    source = tmp_path / "in"
    make_photo(source / "a.jpg", 0, 32, 24)
    os.mkfifo(source / "a.xmp")  # would travel with a.jpg if it were a file
    os.mkfifo(source / "pipe.jpg")
    result = organize_within(60, "--db", db, "-v", source, tmp_path / "out")
    assert result.returncode == 0, result.stderr
    assert [(r["action"], os.path.basename(r["src"])) for r in json_lines(result.stdout)] == [
        ("skip", "a.xmp"),
        ("skip", "pipe.jpg"),
        ("copy", "a.jpg"),
    ]
    assert "skipped {}: not a regular file".format(source / "pipe.jpg") in result.stderr
    named = organize_within(60, "--db", db, "-v", source / "pipe.jpg", source / "a.jpg", tmp_path / "named")
    assert named.returncode == 0, named.stderr
    assert [r["action"] for r in json_lines(named.stdout)] == ["skip", "copy"]
    assert sorted(os.listdir(tmp_path / "named/undated")) == ["a.jpg"]


@pytest.mark.parametrize(
    "command, args",
    [
        (trash.cli, ["restore", "99999999999999999999"]),
        (organize.cli, ["--undo", "99999999999999999999"]),
        (group.cli, ["--jobs", "99999999999999999999"]),
    ],
)
def test_huge_numbers_are_usage_errors(db, command, args):
    result = invoke(command, *args, "--db", db, check=2)
    assert "99999999999999999999 is not in the range" in result.output


def test_an_unknown_removal_is_reported(db):
    Store(db).close()
    result = invoke(trash.cli, "restore", "--batch", "3f2a", "--db", db, check=1)
    assert result.output == "shashin-trash: removal 3f2a: not in the trash\n"


@pytest.mark.parametrize(
    "command, args",
    [(trash.cli, ["list"]), (trash.cli, ["empty"]), (rank.cli, []), (organize.cli, ["in", "out"])],
)
def test_database_errors_advise_only_options_the_command_has(tmp_path, command, args):
    broken = tmp_path / "broken.db"
    broken.write_text("not a database")
    result = invoke(command, *args, "--db", broken, check=2)
    assert "file is not a database" in result.output
    assert "--no-db" not in result.output


def test_an_unreadable_file_is_one_line_and_the_rest_is_organized(tmp_path):
    source = tmp_path / "in"
    make_photo(source / "a.jpg", 0, 32, 24)
    secret = make_photo(source / "secret.jpg", 1, 32, 24)
    secret.chmod(0)
    result = run_unprivileged(
        tmp_path, "shashin-organize", "--db", tmp_path / "shashin.db", secret, source / "a.jpg", tmp_path / "out"
    )
    assert result.returncode == 1, result.stderr
    assert "shashin-organize: {}: permission denied\n".format(secret) in result.stderr
    assert os.listdir(tmp_path / "out/undated") == ["a.jpg"]
