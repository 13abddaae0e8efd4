"""The base every command shares, and the use cases the commands call, in-process where they need no process."""

import contextlib
import os
import shutil

import pytest

from conftest import invoke, make_photo, run
from shashin import exif, grouping, ranking
from shashin.cli import common, group, rank, trash
from shashin.cli import hash as hash_command
from shashin.metadata import READ, read_metadata
from shashin.outcomes import CACHED
from shashin.store import Store


@pytest.mark.parametrize("command, args", [(group.cli, []), (rank.cli, []), (trash.cli, ["list"])])
def test_a_database_that_does_not_exist_is_refused_not_made(tmp_path, command, args):
    typo = tmp_path / "typo.db"
    result = invoke(command, *args, "--db", typo, check=2)
    assert result.stderr == "Error: no database {} (run shashin-hash first, or give --db or SHASHIN_DB)\n".format(typo)
    assert not typo.exists()


def test_known_bad_files_are_one_line_and_exit_0(tmp_path, db):
    folder = tmp_path / "photos"
    make_photo(folder / "a.jpg", 0, 64, 48)
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    first = run("shashin-hash", "--db", db, folder, check=1)
    assert "broken.jpg" in first.stderr and "1 failed" in first.stderr
    again = run("shashin-hash", "--db", db, folder, check=0)
    assert "broken.jpg" not in again.stderr and "0 failed" in again.stderr
    assert "shashin-hash: 1 known-bad files (unchanged since they failed; -v lists them)\n" in again.stderr
    listed = run("shashin-hash", "--db", db, "-v", folder, check=0)
    assert (
        "skipped {}: ".format(folder / "broken.jpg") in listed.stderr and "(unchanged since it failed)" in listed.stderr
    )
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated, and changed")
    run("shashin-hash", "--db", db, folder, check=1)


def test_arguments_are_walked_first_so_progress_has_a_total(tmp_path):
    for index in range(3):
        make_photo(tmp_path / "photos" / "sub{}".format(index) / "a.jpg", index, 32, 24)
    tool = hash_command.Hash(common.Reporter("shashin-hash"))
    assert len(list(tool.inputs([str(tmp_path / "photos")], nul=False))) == 3
    assert tool.reporter.total == 3


def test_one_progress_bar_per_terminal():
    leader, follower = os.openpty()
    try:
        name = os.ttyname(follower)
        first, second = (os.open(name, os.O_RDONLY) for _ in range(2))
        assert common._take(first) and not common._take(second)
        os.close(first)  # the command drawing is done: the next one takes over
        assert common._take(second)
        os.close(second)
    finally:
        os.close(leader), os.close(follower)


def test_group_library_without_a_database(tmp_path):
    photo = make_photo(tmp_path / "a.jpg", 0, 64, 48)
    shutil.copy2(photo, tmp_path / "b.jpg")
    stat = os.stat(photo)
    files = [(str(tmp_path / name), stat.st_size, stat.st_mtime, "md5", "0" * 16) for name in ("a.jpg", "b.jpg")]
    files.append((str(tmp_path / "gone.jpg"), 1, 1.0, "other", "0" * 16))
    outcomes = list(grouping.group_library(files))
    assert [(o.status, os.path.basename(o.path or "")) for o in outcomes if o.record is None] == [
        (grouping.MISSING, "gone.jpg"),
        (grouping.GROUPED, "a.jpg"),
        (grouping.GROUPED, "b.jpg"),
    ]
    (grouped,) = [o.record for o in outcomes if o.record]
    assert grouped == {
        "group": 1,
        "kind": "exact",
        "paths": [files[0][0], files[1][0]],
        "max_distance": 0,
        "identical_to": {files[1][0]: files[0][0]},
    }


@pytest.mark.skipif(not exif.available(), reason="exiftool not installed")
def test_read_metadata_reads_once_then_answers_from_the_database(tmp_path, db):
    photo = str(make_photo(tmp_path / "a.jpg", 0, 64, 48))
    with contextlib.closing(Store(db)) as store, exif.Session() as session:
        (outcome,) = read_metadata([(photo, None)], store, session)
        assert outcome.status == READ and outcome.record["metadata"]["File:FileName"] == "a.jpg"
        store.save_metadata([outcome.record])
        (again,) = read_metadata([(photo, None)], store, session)
        assert again.status == CACHED and again.record["metadata"] == outcome.record["metadata"]


def test_rank_groups_without_decisions_uses_the_rule(db):
    with contextlib.closing(Store(db)) as store:
        outcomes = list(ranking.rank_groups(store))
    assert [o.status for o in outcomes] == [ranking.CHOSEN]
    assert outcomes[0].message.startswith("the rule orders groups")
