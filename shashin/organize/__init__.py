"""Organizing photos into dated folders: what a plan is made of, shared by planning and applying.

:mod:`.planning` reads but never changes anything: files are gathered folder by folder,
dated from the database or exiftool, grouped with their companions (sidecars, Live Photo
videos, the other half of a RAW+JPEG pair) and given destinations that never overwrite.
:mod:`.applying` writes each batch to the journal first, then acts, then records the outcome
together with the database rows that follow the files, so an interrupted run can always be
finished (:func:`.applying.recover`) or reversed (:func:`.applying.undo_plan`).
"""

import hashlib
import os
from dataclasses import dataclass

DEFAULT_PATTERN = "{taken:%Y}/{taken:%m}/{taken:%d}"
DEFAULT_UNDATED = "undated"
TEMP_PREFIX = ".shashin-organize-"

COPY, MOVE, SKIP, REMOVE = "copy", "move", "skip", "remove"


class OrganizeError(Exception):
    """A file operation refused for safety; the message says why."""


@dataclass
class Options:
    dest: str
    move: bool = False
    pattern: str = DEFAULT_PATTERN
    rename: str | None = None
    undated: str = DEFAULT_UNDATED
    mtime_fallback: bool = False


@dataclass(eq=False, slots=True)
class Action:
    """One step of a plan; ``record()`` is the JSON line printed for it."""

    action: str
    src: str
    dest: str | None = None
    reason: str | None = None
    size: int | None = None
    mtime: float | None = None
    md5: str | None = None
    failed: bool = False
    twin: str | None = None  # remove only: the identical file that must remain
    journal: int | None = None  # journal entry id, once written
    undoes: int | None = None  # journal entry this action reverses
    copied_mtime: float | None = None  # mtime of a written copy, where the file system rounds it

    def record(self):
        return {"action": self.action, "src": self.src, "dest": self.dest, "reason": self.reason}


def failure(path, message, dest=None):
    return Action(SKIP, path, dest, message, failed=True)


def md5_of(path, uncached=False):
    with open(path, "rb") as handle:
        if uncached:
            # Read back from the disk, not from the page cache the copy just filled.
            os.posix_fadvise(handle.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
        return hashlib.file_digest(handle, "md5").hexdigest()
