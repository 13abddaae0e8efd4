"""Applying a plan: journal first, then act, then settle; recovery after an interruption, and undo."""

import contextlib
import errno
import fcntl
import hashlib
import itertools
import os
import shutil

from ..files import error_text, rename_noreplace
from . import COPY, MOVE, REMOVE, SKIP, TEMP_PREFIX, Action, OrganizeError, failure, md5_of

BATCH = 1000  # files per journal transaction: each commit is an fsync
INTERRUPTED = "interrupted before it happened"


def apply(actions, store, run, batch=BATCH):
    """Carry out a plan; yield every action, in order, with ``failed`` and ``reason`` set on failure.

    Each batch is journalled before anything is touched and settled (with the
    database rows that follow the files) as soon as it is done; on an interruption
    whatever was finished is settled and the rest is left to :func:`recover`.
    """
    actions = iter(actions)
    while True:
        chunk = list(itertools.islice(actions, batch))
        if not chunk:
            return
        store.journal_organize(run, [action for action in chunk if action.action != SKIP])
        settled = []
        try:
            for action in chunk:
                if action.action != SKIP:
                    try:
                        _perform(action)
                    except (OSError, OrganizeError) as error:
                        action.failed, action.reason = True, error_text(error)
                    settled.append(action)
                yield action
        finally:
            store.settle_organize(settled)


def _perform(action):
    if action.action == REMOVE:
        _remove_copy(action.src, action.twin)
        return
    os.makedirs(os.path.dirname(action.dest), exist_ok=True)
    if action.action == MOVE:
        try:
            rename_noreplace(action.src, action.dest)
            return
        except OSError as error:
            if error.errno != errno.EXDEV:
                raise
    action.md5 = copy_verified(action.src, temp_path(action), action.dest)
    action.copied_mtime = os.stat(action.dest).st_mtime
    if action.action == MOVE:
        stat = os.stat(action.src)
        if (stat.st_size, stat.st_mtime) != (action.size, action.mtime):
            raise OrganizeError("source changed while it was copied; copy kept, source left in place")
        os.unlink(action.src)
        fsync_folder(os.path.dirname(action.src))


def temp_path(action):
    """The temporary name of a copy in progress: in the destination folder, named by its journal entry."""
    return os.path.join(os.path.dirname(action.dest), "{}{}.tmp".format(TEMP_PREFIX, action.journal))


def copy_verified(src, temp, dest):
    """Copy src to dest through temp: fsync, verify the md5 read back from disk, rename without overwriting.

    Returns the md5. No half-written file is ever left under dest's name.
    """
    digest = hashlib.md5()
    try:
        with open(src, "rb") as source, open(temp, "xb") as target:
            for block in iter(lambda: source.read(1 << 20), b""):
                digest.update(block)
                target.write(block)
            target.flush()
            os.fsync(target.fileno())
            times = os.fstat(source.fileno())
        try:
            shutil.copystat(src, temp)
        except OSError:
            # File systems without Unix modes (FAT, some shares): the times at least.
            os.utime(temp, ns=(times.st_atime_ns, times.st_mtime_ns))
        if md5_of(temp, uncached=True) != digest.hexdigest():
            raise OrganizeError("the copy does not match the original (md5); source left in place")
        rename_noreplace(temp, dest)
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise
    fsync_folder(os.path.dirname(dest))
    return digest.hexdigest()


def _remove_copy(path, twin):
    try:
        same = os.path.getsize(path) == os.path.getsize(twin) and md5_of(path) == md5_of(twin)
    except FileNotFoundError as error:
        if error.filename == path:
            return  # already gone
        raise OrganizeError("the original {} is gone; the copy is kept".format(twin)) from None
    if not same:
        raise OrganizeError("the copy differs from the original {} now; it is kept".format(twin))
    os.unlink(path)


def fsync_folder(folder):
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# Recovery and undo


@contextlib.contextmanager
def exclusive(db_path):
    """Hold the organize lock of a database while journalling: recovery must not touch a live run's files."""
    with open(db_path + "-organize.lock", "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OrganizeError("another shashin-organize is running on this database") from None
        yield


def recover(store):
    """Finish the journal entries an interrupted run left unsettled; return them, settled.

    A move whose file is at its destination is recorded as done; one that also left
    its source (cross-filesystem, killed before the removal) is finished once both
    are verified identical. Whatever had not happened yet is marked interrupted, for
    the re-run to plan again. Temporary files are removed.
    """
    entries = [_entry(row) for row in store.unsettled_organize()]
    for action in entries:
        if action.action != REMOVE:
            try:
                os.unlink(temp_path(action))
            except OSError:
                pass
        try:
            _resolve(action)
        except (OSError, OrganizeError) as error:
            action.failed, action.reason = True, error_text(error)
    store.settle_organize(entries)
    return entries


def _entry(row):
    """A journal row as the Action it records."""
    return Action(
        row["action"],
        row["src"],
        row["dest"],
        None,
        row["size"],
        row["mtime"],
        row["md5"],
        twin=row["twin"],
        journal=row["id"],
        undoes=row["undoes"],
    )


def _resolve(action):
    if action.action == REMOVE:
        if os.path.lexists(action.src):
            _remove_copy(action.src, action.twin)
        return
    if not os.path.lexists(action.dest):
        action.failed, action.reason = True, INTERRUPTED
        return
    if not os.path.lexists(action.src):
        return  # a file gets its final name only once complete (and verified, if copied)
    digest = md5_of(action.dest)
    if os.path.getsize(action.src) != os.path.getsize(action.dest) or md5_of(action.src) != digest:
        raise OrganizeError("interrupted, and {} is not the same file: both kept".format(action.dest))
    action.md5 = digest
    if action.action == MOVE:
        os.unlink(action.src)


def undo_plan(store, run):
    """Actions that reverse a run's finished entries, newest first: moves go back, verified copies go."""
    reason = "undo of journal {}".format(run)
    for entry in map(_entry, reversed(store.organize_entries(run, state="done"))):
        if entry.action == REMOVE:
            yield Action(SKIP, entry.src, None, "a removal cannot be undone")
            continue
        try:
            stat = os.stat(entry.dest)
        except OSError as error:
            yield failure(entry.dest, error_text(error), entry.src)
            continue
        if entry.action == COPY:
            yield Action(
                REMOVE, entry.dest, None, reason, stat.st_size, stat.st_mtime, twin=entry.src, undoes=entry.journal
            )
        elif os.path.lexists(entry.src):
            yield failure(entry.dest, "its old place is taken: {}".format(entry.src), entry.src)
        else:
            yield Action(
                MOVE, entry.dest, entry.src, reason, stat.st_size, stat.st_mtime, entry.md5, undoes=entry.journal
            )


def remove_empty_folders(paths, root):
    """Remove folders left empty by an undo, from each path's folder up to (not including) root."""
    root = os.path.abspath(root)
    for folder in sorted({os.path.dirname(path) for path in paths}, key=len, reverse=True):
        while folder.startswith(os.path.join(root, "")):
            try:
                os.rmdir(folder)
            except OSError:
                break
            folder = os.path.dirname(folder)
