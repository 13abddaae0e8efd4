"""Safe removal: trash on the same filesystem, journal, last-copy rule, restore and empty."""

import contextlib
import os
import threading

import pytest

from conftest import group_of, invoke, json_lines, md5, rewrite_keeping_size_and_mtime, unwritable
from shashin import trash
from shashin.cli import trash as trash_command
from shashin.store import Store


@pytest.fixture
def db(duplicates):
    return duplicates[0]


@pytest.fixture
def store(open_store, db):
    return open_store(db)


def test_remove_moves_into_trash_and_journals(db, store, photos):
    group = group_of(db, photos["photo copy"])
    content = md5(photos["photo copy"])
    batch, outcomes = trash.remove(store, group, [photos["photo copy"]])
    assert [outcome.ok for outcome in outcomes] == [True]
    assert not os.path.exists(photos["photo copy"])
    assert os.path.exists(photos["photo"]) and os.path.exists(photos["backup"])
    [entry] = store.trash_entries()
    assert entry["original_path"] == photos["photo copy"] and entry["batch"] == batch
    assert entry["trash_path"].startswith(str(db.parent / ".shashin-trash") + os.sep)
    assert md5(entry["trash_path"]) == content
    assert store.trash_totals() == (1, os.path.getsize(photos["photo"]))
    [decision] = store.decisions(group)
    assert decision["action"] == "keep" and decision["source"] == "ui"
    kept = {member["path"]: member["kept"] for member in decision["members"]}
    assert kept == {photos["photo"]: 1, photos["backup"]: 1, photos["photo copy"]: 0}
    snapshot = decision["members"][0]["snapshot"]
    assert snapshot["width"] == 640 and isinstance(snapshot["md5"], str)
    # The group now shows two members.
    assert len(store.review_members([group])[group]) == 2


def test_trash_folder_is_top_of_tree_without_one(tmp_path):
    folder = tmp_path / "a" / "b"
    folder.mkdir(parents=True)
    found = trash.trash_folder(str(folder / "x.jpg"))
    # Climbs to the highest folder this user owns on the filesystem, stopping below /tmp.
    assert found.endswith(os.sep + ".shashin-trash")
    assert str(tmp_path).startswith(os.path.dirname(found))
    assert os.path.dirname(found) != "/tmp"


def test_never_removes_last_copy(db, store, photos):
    group = group_of(db, photos["photo"])
    with pytest.raises(trash.Refused, match="last copy"):
        trash.remove(store, group, [photos["photo"], photos["photo copy"], photos["backup"]])
    trash.remove(store, group, [photos["photo copy"], photos["backup"]])
    with pytest.raises(trash.Refused, match="last copy"):
        trash.remove(store, group, [photos["photo"]])
    assert os.path.exists(photos["photo"])


def test_refuses_when_the_copy_that_stays_changed(db, store, photos):
    group = group_of(db, photos["beach"])
    with open(photos["beach-small"], "ab") as handle:
        handle.write(b"edited")
    with pytest.raises(trash.Refused, match="unchanged"):
        trash.remove(store, group, [photos["beach"]])
    assert os.path.exists(photos["beach"])


def test_same_size_rewrite_with_mtime_put_back_is_left_in_place(db, store, photos):
    group = group_of(db, photos["photo"])
    rewrite_keeping_size_and_mtime(photos["photo copy"])
    _, [outcome] = trash.remove(store, group, [photos["photo copy"]])
    assert not outcome.ok and "changed since it was scanned (its md5" in outcome.message
    assert os.path.exists(photos["photo copy"])
    assert store.trash_entries() == [] and store.decisions(group) == []


def test_keeper_rewritten_with_same_size_and_mtime_is_not_a_copy_that_stays(db, store, photos):
    group = group_of(db, photos["beach"])
    rewrite_keeping_size_and_mtime(photos["beach"])
    with pytest.raises(trash.Refused, match="last copy"):
        trash.remove(store, group, [photos["beach-small"]])
    assert os.path.exists(photos["beach-small"]) and store.decisions(group) == []


def test_only_the_mtime_changed_is_still_the_same_content(db, store, photos):
    group = group_of(db, photos["photo"])
    os.utime(photos["photo copy"], (1_000_000_000, 1_000_000_000))
    _, [outcome] = trash.remove(store, group, [photos["photo copy"]])
    assert outcome.ok and not os.path.exists(photos["photo copy"])


def test_permission_denied_is_left_in_place(db, store, photos):
    group = group_of(db, photos["photo"])
    with unwritable(os.path.dirname(photos["backup"])):
        _, [outcome] = trash.remove(store, group, [photos["backup"]])
    assert not outcome.ok and "permission denied" in outcome.message
    assert os.path.exists(photos["backup"]) and store.trash_entries() == []


def test_trash_not_writable(db, store, photos):
    group = group_of(db, photos["photo"])
    with unwritable(db.parent / ".shashin-trash"):
        _, [outcome] = trash.remove(store, group, [photos["photo copy"]])
    assert not outcome.ok and "permission denied" in outcome.message
    assert os.path.exists(photos["photo copy"])


def test_concurrent_removals_keep_one_copy(db, store, photos):
    group = group_of(db, photos["beach"])
    results, barrier = {}, threading.Barrier(2)

    def remove(name):
        # A store of each thread's own: an SQLite connection serves the thread that opened it.
        with contextlib.closing(Store(db)) as own:
            barrier.wait()
            try:
                results[name] = trash.remove(own, group, [photos[name]])[1][0].ok
            except trash.Refused:
                results[name] = False

    threads = [threading.Thread(target=remove, args=(name,)) for name in ("beach", "beach-small")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results.values()) == [False, True]
    assert os.path.exists(photos["beach"]) != os.path.exists(photos["beach-small"])


def test_restore_and_undo(db, store, photos):
    group = group_of(db, photos["photo"])
    content = md5(photos["backup"])
    batch, _ = trash.remove(store, group, [photos["photo copy"], photos["backup"]])
    outcomes = trash.restore_batch(store, batch)
    assert all(outcome.ok for outcome in outcomes) and len(outcomes) == 2
    assert md5(photos["backup"]) == content and os.path.exists(photos["photo copy"])
    assert store.trash_entries() == []
    assert store.decisions(group)[0]["undone_at"] is not None
    assert group not in store.decided_groups()


def test_restore_never_overwrites(db, store, photos):
    group = group_of(db, photos["photo"])
    _, [outcome] = trash.remove(store, group, [photos["photo copy"]])
    with open(photos["photo copy"], "wb") as handle:
        handle.write(b"new file")
    [refused] = trash.restore(store, [outcome.entry_id])
    assert not refused.ok and "not overwriting" in refused.message
    assert open(photos["photo copy"], "rb").read() == b"new file"
    assert len(store.trash_entries()) == 1


def test_empty_unlinks_and_reports_bytes(db, store, photos):
    group = group_of(db, photos["photo"])
    _, [outcome] = trash.remove(store, group, [photos["photo copy"]])
    held = store.trash_entries()[0]["trash_path"]
    count, freed, _ = trash.empty(store)
    assert (count, freed) == (1, os.path.getsize(photos["photo"]))
    assert not os.path.exists(held) and not os.path.exists(os.path.dirname(held))
    assert store.trash_entries() == [] and store.trash_totals() == (0, 0)
    [refused] = trash.restore(store, [outcome.entry_id])
    assert not refused.ok


def test_command_list_restore_empty(db, store, photos):
    group = group_of(db, photos["photo"])
    batch, outcomes = trash.remove(store, group, [photos["photo copy"], photos["backup"]])
    listed = invoke(trash_command.cli, "list", "--db", db, check=0)
    entries = json_lines(listed.stdout)
    assert {entry["original_path"] for entry in entries} == {photos["photo copy"], photos["backup"]}
    assert {entry["batch"] for entry in entries} == {batch}
    assert "2 files" in listed.stderr
    restored = invoke(trash_command.cli, "restore", "--db", db, outcomes[0].entry_id, check=0)
    assert os.path.exists(photos["photo copy"]) and "restored" in restored.stdout
    again = invoke(trash_command.cli, "restore", "--db", db, outcomes[0].entry_id, check=1)
    assert "not in the trash" in again.stderr
    kept = invoke(trash_command.cli, "empty", "--db", db, input="n\n", check=1)
    assert "Aborted" in kept.stderr and os.path.exists(outcomes[1].message.split(" moved to ")[1])
    emptied = invoke(trash_command.cli, "empty", "--db", db, "--yes", check=0)
    assert "deleted 1 files, freed {}".format(trash.human_size(os.path.getsize(photos["photo"]))) in emptied.stderr
    assert json_lines(invoke(trash_command.cli, "list", "--db", db, check=0).stdout) == []


def test_command_restore_batch_and_usage(db, store, photos):
    group = group_of(db, photos["beach"])
    batch, _ = trash.remove(store, group, [photos["beach-small"]])
    invoke(trash_command.cli, "restore", "--db", db, "--batch", batch, check=0)
    assert os.path.exists(photos["beach-small"])
    assert "give trash ids" in invoke(trash_command.cli, "restore", "--db", db, check=2).stderr
    assert "No such option '--no-db'" in invoke(trash_command.cli, "list", "--no-db", check=2).stderr
    assert "Examples:" in invoke(trash_command.cli, "--help", check=0).stdout


def test_interrupted_moves_are_settled_from_disk(db, store, photos):
    group = group_of(db, photos["photo"])
    moved_target = os.path.join(trash.trash_folder(photos["backup"]), "crashed", "photo.jpg")
    with store.write_lock():
        moved = store.journal_trash({"original_path": photos["backup"], "trash_path": moved_target, "group_id": group})
        stayed = store.journal_trash(
            {"original_path": photos["photo copy"], "trash_path": "/nowhere/x.jpg", "group_id": group}
        )
    os.makedirs(os.path.dirname(moved_target))
    os.rename(photos["backup"], moved_target)  # the crash came after this rename
    assert trash.finish_unfinished(store) == 2
    assert [entry["id"] for entry in store.trash_entries()] == [moved]
    assert stayed not in {entry["id"] for entry in store.trash_entries()}
    assert store.unfinished_trash() == []
    assert len(store.review_members([group])[group]) == 2
