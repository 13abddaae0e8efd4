"""Removing copies safely: into a trash on the same filesystem, journaled first, restorable.

A removed file is renamed into a ``.shashin-trash`` folder on its own filesystem: the
nearest one found going up from the file, else a new one at the top of the file's
tree (the highest folder above it on the same filesystem that this user may write
and that is not shared with everybody, like ``/tmp``). A rename never copies, never
crosses a filesystem and leaves the bytes and mtime as they were.

Nothing is unlinked until :func:`empty` is called.
"""

import errno
import os
import stat
import uuid
from typing import NamedTuple

from .files import os_error_text, rename_noreplace

TRASH_FOLDER = ".shashin-trash"


class Outcome(NamedTuple):
    """What happened to one file: ``ok`` and a message for a person."""

    path: str
    ok: bool
    message: str
    entry_id: int = None


class Refused(Exception):
    """A removal that would be unsafe as a whole (the last copy); nothing was moved."""


def trash_folder(path):
    """The trash folder for a file: nearest existing ``.shashin-trash`` above it, else the top of its tree."""
    current = os.path.dirname(os.path.abspath(path))
    device = os.stat(current).st_dev
    while True:
        candidate = os.path.join(current, TRASH_FOLDER)
        if os.path.isdir(candidate) and not os.path.islink(candidate):
            return candidate
        parent = os.path.dirname(current)
        if parent == current or not _may_hold_trash(parent, device):
            return candidate
        current = parent


def _may_hold_trash(folder, device):
    try:
        info = os.stat(folder)
    except OSError:
        return False
    shared = info.st_mode & stat.S_IWOTH
    return info.st_dev == device and not shared and os.access(folder, os.W_OK | os.X_OK)


def remove(store, group_id, paths, source="ui", batch=None):
    """Move these members of a group to the trash, keeping the rest; record the decision.

    Refuses as a whole (:class:`Refused`) unless another member stays in place,
    unchanged since its scan. Each file is checked again just before it moves; a file
    that changed or cannot move is left where it is, with a message. Returns
    ``(batch, [Outcome])``; :func:`restore_batch` undoes the batch. Give ``batch`` to
    make several groups' removals one (accepting suggestions), else it is new.
    """
    batch = batch or new_batch()
    wanted = list(dict.fromkeys(paths))
    journaled, outcomes = [], []
    # The write lock makes the check and the journal one step: two requests racing
    # for the last copies of a group are served one after the other.
    with store.write_lock():
        members = {row["path"]: row for row in store.review_members([group_id])[group_id]}
        strangers = [path for path in wanted if path not in members]
        if strangers:
            raise Refused("{}: not in group {}, or already in the trash".format(strangers[0], group_id))
        staying = [row for path, row in members.items() if path not in wanted]
        if not any(unchanged(row) is None for row in staying):
            raise Refused(
                "refused: no other copy in group {} would stay in place unchanged;"
                " shashin never removes the last copy".format(group_id)
            )
        for path in wanted:
            row = members[path]
            try:
                target = os.path.join(trash_folder(path), uuid.uuid4().hex[:16], os.path.basename(path))
            except OSError as error:
                outcomes.append(Outcome(path, False, "{}: not removed: {}".format(path, _reason(error))))
                continue
            entry = {
                "original_path": path,
                "trash_path": target,
                "md5": row["md5"],
                "size": row["size"],
                "mtime": row["mtime"],
                "group_id": group_id,
                "batch": batch,
            }
            journaled.append((store.journal_trash(entry), row, target))
    outcomes += [_move(store, entry_id, row, target) for entry_id, row, target in journaled]
    removed = {outcome.path for outcome in outcomes if outcome.ok}
    if removed:
        with store.write_lock():
            rows = store.images_by_path(members)
            decided = [
                (rows.get(path, {"path": path, "md5": row["md5"]}), path not in removed) for path, row in members.items()
            ]
            store.record_decision(group_id, "keep", decided, source, batch)
    return batch, outcomes


def new_batch():
    """An id for one removal: what :func:`restore_batch` undoes together."""
    return uuid.uuid4().hex


def finish_unfinished(store):
    """Settle moves a crash interrupted, from what is on disk; returns how many.

    Call it only when no removal is under way (the review server does at start).
    """
    unfinished = store.unfinished_trash()
    for entry in unfinished:
        moved = os.path.lexists(entry["trash_path"]) and not os.path.lexists(entry["original_path"])
        with store.write_lock():
            if moved:
                store.complete_trash(entry["id"])
            else:
                store.forget_trash(entry["id"])
    return len(unfinished)


def unchanged(row):
    """None when the file of an images row is on disk as scanned, else why not."""
    try:
        info = os.stat(row["path"], follow_symlinks=False)
    except FileNotFoundError:
        return "no longer on disk"
    except OSError as error:
        return _reason(error)
    if not stat.S_ISREG(info.st_mode):
        return "no longer a regular file"
    if (info.st_size, info.st_mtime) != (row["size"], row["mtime"]):
        return "changed since it was scanned (size or modification time differ); scan it again first"
    return None


def _move(store, entry_id, row, target):
    path = row["path"]
    problem = unchanged(row)
    if problem is None:
        trash = os.path.dirname(os.path.dirname(target))
        try:
            _rename_into(trash, path, target)
        except OSError as error:
            problem = "cannot move it into {}: {}".format(trash, _reason(error))
    with store.write_lock():
        if problem:
            store.forget_trash(entry_id)
        else:
            store.complete_trash(entry_id)
    if problem:
        return Outcome(path, False, "{}: not removed: {}".format(path, problem))
    return Outcome(path, True, "{}: moved to {}".format(path, target), entry_id)


def _rename_into(trash, path, target):
    # Private like the freedesktop trash: others may not list what was removed.
    os.makedirs(trash, mode=0o700, exist_ok=True)
    if os.stat(trash).st_dev != os.stat(os.path.dirname(path)).st_dev:
        raise OSError(errno.EXDEV, "it is on another filesystem")
    os.mkdir(os.path.dirname(target))
    try:
        os.rename(path, target)
    except OSError:
        _remove_empty(os.path.dirname(target))
        raise


def _remove_empty(folder):
    try:
        os.rmdir(folder)
    except OSError:
        pass


def _reason(error):
    if error.errno == errno.ENOSPC:
        return "disk full"
    if error.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if error.errno == errno.EROFS:
        return "read-only filesystem"
    return os_error_text(error)


def restore(store, entry_ids):
    """Move files back from the trash to where they were. Returns ``[Outcome]``.

    Never overwrites: a file now at the original path makes the restore refuse.
    """
    outcomes = []
    for entry_id in entry_ids:
        with store.write_lock():
            found = store.trash_entries([entry_id])
            if not found:
                outcomes.append(Outcome(str(entry_id), False, "trash entry {}: not in the trash".format(entry_id)))
                continue
            entry = found[0]
            outcome = _restore(store, entry)
            # A group whose removed files are all back is undecided again, even when
            # other groups of the same batch (accepted suggestions) stay removed.
            if outcome.ok and not store.trash_batch(entry["batch"], entry["group_id"]):
                store.undo_decisions(entry["batch"], entry["group_id"])
        outcomes.append(outcome)
    return outcomes


def restore_batch(store, batch):
    """Restore every file of one removal (undo)."""
    return restore(store, store.trash_batch(batch))


def _restore(store, entry):
    original, held = entry["original_path"], entry["trash_path"]
    try:
        if os.path.lexists(original):
            raise FileExistsError(errno.EEXIST, "exists")
        os.makedirs(os.path.dirname(original), exist_ok=True)
        rename_noreplace(held, original)
    except OSError as error:
        if error.errno == errno.EEXIST:
            reason = "a file is there now; not overwriting it"
        else:
            reason = _reason(error)
        return Outcome(original, False, "{}: not restored: {}".format(original, reason), entry["id"])
    _remove_empty(os.path.dirname(held))
    store.mark_restored(entry["id"])
    return Outcome(original, True, "{}: restored".format(original), entry["id"])


def empty(store):
    """Unlink every file in the trash. Returns ``(files, bytes_freed, [Outcome])``."""
    count, freed, outcomes = 0, 0, []
    for entry_id in [entry["id"] for entry in store.trash_entries()]:
        with store.write_lock():
            found = store.trash_entries([entry_id])
            if not found:
                continue  # restored or emptied meanwhile
            held = found[0]["trash_path"]
            try:
                size = os.stat(held, follow_symlinks=False).st_size
                os.unlink(held)
            except FileNotFoundError:
                size = 0
            except OSError as error:
                outcomes.append(Outcome(held, False, "{}: not deleted: {}".format(held, _reason(error)), entry_id))
                continue
            _remove_empty(os.path.dirname(held))
            store.mark_emptied(entry_id)
        count += 1
        freed += size
        outcomes.append(Outcome(held, True, "{}: deleted".format(held), entry_id))
    return count, freed, outcomes


def human_size(size):
    """Bytes for a person: 1.2 MB."""
    if size < 1000:
        return "{} bytes".format(size)
    for unit in ("kB", "MB", "GB", "TB"):
        size /= 1000
        if size < 1000 or unit == "TB":
            return "{:.1f} {}".format(size, unit)
