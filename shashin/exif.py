"""Metadata through one long-lived exiftool process, and the dates and fields shashin derives from it."""

import contextlib
import datetime
import json
import os
import re
import shutil
import stat
import tempfile
import threading
import time
import warnings
from typing import NamedTuple

import exiftool
from exiftool.exceptions import ExifToolException

from . import formats
from .files import error_text

#: Seconds exiftool may take over one file; past that it is stuck: killed, restarted, the file reported.
FILE_TIMEOUT = 30
#: Longest tag value kept, in characters: a comment of megabytes would make a record no database row can hold.
TAG_CHARS = 16384

#: Where the capture time comes from, best first: (source name, tag keys, offset tag keys).
#: QuickTime dates are UTC by specification, so they get offset +00:00.
DATE_SOURCES = (
    ("SubSecDateTimeOriginal", ("Composite:SubSecDateTimeOriginal",), ("EXIF:OffsetTimeOriginal",)),
    ("DateTimeOriginal", ("EXIF:DateTimeOriginal", "XMP:DateTimeOriginal"), ("EXIF:OffsetTimeOriginal",)),
    ("CreateDate", ("EXIF:CreateDate",), ("EXIF:OffsetTimeDigitized",)),
    ("CreationDate", ("QuickTime:CreationDate",), ()),  # Apple's: local time with its offset
    ("CreateDate", ("QuickTime:CreateDate",), ("+00:00",)),
    ("CreateDate", ("XMP:CreateDate",), ()),
    ("FileModifyDate", ("File:FileModifyDate",), ()),
)
_DATE = re.compile(r"^(\d{4}):(\d\d):(\d\d)[ T](\d\d):(\d\d):(\d\d)(\.\d+)?\s*(Z|[+-]\d\d:?\d\d)?")
_OFFSET = re.compile(r"^[+-]\d\d:\d\d$")


class Session:
    """One exiftool process kept open (``-stay_open``), each request within a time limit."""

    def __init__(self, file_timeout=FILE_TIMEOUT):
        self._tool = None
        self.file_timeout = file_timeout

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self._tool is not None:
            try:
                with _quiet():
                    self._tool.terminate()
            except (ExifToolException, OSError, ValueError):
                pass
            self._tool = None

    def read(self, paths):
        """Yield ``(path, tags, error)`` for each path, in order; tags is None on error.

        All the paths in one request, as exiftool is fastest; if that request fails (exiftool died,
        or ran past the time limit), each file is read again in a request of its own, so a file
        exiftool is stuck on costs at most twice file_timeout seconds and the others are read.
        """
        refusals = [(path, _refusal(path)) for path in paths]
        readable = [path for path, refusal in refusals if not refusal]
        try:
            found = self._request(readable) if readable else {}
        except (ExifToolException, OSError, ValueError):
            self.close()
            found = None
        for path, refusal in refusals:
            if refusal:
                yield path, None, refusal
            elif found is None:
                yield self._read_one(path)
            else:
                yield _result(path, found.get(path))

    def _request(self, paths):
        """``{path: tags}`` of the files exiftool read in one request (a file it could not read is left out)."""
        with _exiftool_names(paths) as (names, aliases):
            try:
                output = self._call(lambda tool: tool.get_metadata(names))
            except exiftool.exceptions.ExifToolOutputEmptyError:
                output = []
        found = {}
        for tags in output:
            source = tags.get("SourceFile")
            path = aliases.get(source, source)
            if source in aliases:
                tags["SourceFile"] = path
                tags["File:FileName"] = os.path.basename(path)
                tags["File:Directory"] = os.path.dirname(path)
            found[path] = tags
        return found

    def _read_one(self, path, retry=True):
        try:
            found = self._request([path])
        except (ExifToolException, OSError, ValueError) as error:
            # The process died, hung or garbled its answer: the next file gets a fresh one. A file it
            # died on is tried once more, since it may have died over the file before (or been killed).
            self.close()
            if isinstance(error, Stuck):
                return path, None, str(error)
            return self._read_one(path, retry=False) if retry else (path, None, "exiftool failed on this file")
        return _result(path, found.get(path))

    def preview(self, path, source=None):
        """The largest JPEG a RAW file embeds, as a :class:`Preview`, or None. ``source``: where its bytes are
        read when not from path (exiftool still tells its type by path's name: a NEF is TIFF-shaped)."""
        try:
            with _named_like(path, source) as named, _exiftool_names([named]) as (names, _):
                (tags,) = self._call(
                    lambda tool: tool.get_tags(names, ["FileType", "ImageWidth", "ImageHeight", "Orientation"])
                ) or [{}]
                for tag in ("JpgFromRaw", "PreviewImage", "ThumbnailImage"):
                    jpeg = self._call(lambda tool, tag=tag: tool.execute("-b", "-" + tag, names[0], raw_bytes=True))
                    if jpeg.startswith(b"\xff\xd8"):
                        return Preview(
                            jpeg,
                            int(tags.get("EXIF:ImageWidth") or tags.get("File:ImageWidth") or 0),
                            int(tags.get("EXIF:ImageHeight") or tags.get("File:ImageHeight") or 0),
                            int(tags.get("EXIF:Orientation") or 1),
                            str(tags.get("File:FileType") or "RAW"),
                        )
        except (ExifToolException, OSError, ValueError):
            self.close()
        return None

    def _call(self, request):
        """request(tool) on the running exiftool, unless it dies or hangs: then an OSError.

        PyExifTool reads exiftool's output until a marker and spins forever at end of
        file, so a watchdog kills a dead or stuck process and closes the pipe under it.
        """
        if self._tool is None:
            self._tool = exiftool.ExifToolHelper(check_execute=False)
        tool, finished, stuck = self._tool, threading.Event(), threading.Event()

        def watch():
            deadline = time.monotonic() + self.file_timeout
            while not finished.wait(min(0.1, self.file_timeout)):
                process = tool._process  # None until PyExifTool has started it
                if process is None:
                    continue
                if time.monotonic() > deadline:
                    stuck.set()
                if process.poll() is not None or stuck.is_set():
                    process.kill()
                    process.stdout.close()
                    return

        watchdog = threading.Thread(target=watch, daemon=True)
        watchdog.start()
        try:
            with _quiet():
                return request(tool)
        except (ExifToolException, OSError, ValueError) as error:
            if stuck.is_set():
                raise Stuck("exiftool took more than {:g} s over it; stopped".format(self.file_timeout)) from None
            if isinstance(error, ValueError):  # select() on the pipe the watchdog closed
                raise OSError("exiftool stopped: {}".format(error)) from None
            raise
        finally:
            finished.set()
            watchdog.join()


def _result(path, tags):
    """``(path, tags, error)`` from what exiftool said of a file (None: nothing)."""
    if not tags:
        return path, None, "exiftool could not read the file"
    if "ExifTool:Error" in tags:
        return path, None, str(tags["ExifTool:Error"])
    return path, {key: _bounded(value) for key, value in tags.items()}, None


class Stuck(OSError):
    """exiftool ran past the time limit on a file and was stopped."""


def _refusal(path):
    """Why a file is not given to exiftool, or None.

    A FIFO would block exiftool for ever and /dev/zero never ends; a PNG whose text chunks
    inflate to gigabytes would take exiftool's memory with them.
    """
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return "not a regular file"
        with open(path, "rb") as handle:
            return formats.png_text_problem(handle)
    except OSError as error:
        return error_text(error)


def _bounded(value):
    """A tag value, cut to TAG_CHARS characters (lists and structures as their JSON) when longer."""
    if isinstance(value, (int, float)):
        return value
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if len(text) <= TAG_CHARS:
        return value
    return "{}… (cut: {:,} characters in all)".format(text[:TAG_CHARS], len(text))


class Preview(NamedTuple):
    """The largest JPEG a RAW file embeds, and what the RAW file says of the picture."""

    jpeg: bytes
    width: int
    height: int
    orientation: int
    format: str


@contextlib.contextmanager
def _named_like(path, source):
    """path, or a link to source named with path's extension."""
    if source is None:
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="shashin-exif-") as folder:
        link = os.path.join(folder, "photo" + os.path.splitext(path)[1][:16])
        os.symlink(source, link)
        yield link


@contextlib.contextmanager
def _exiftool_names(paths):
    """``(names, aliases)``: names exiftool can take for paths, and the real path behind each link made.

    exiftool takes file names one per line, as UTF-8: others go in by a symbolic link.
    """
    names, aliases = [], {}
    with tempfile.TemporaryDirectory(prefix="shashin-exif-") as links:
        for index, path in enumerate(paths):
            if _safe_argument(path):
                names.append(path)
            else:
                link = os.path.join(links, "{}{}".format(index, os.path.splitext(path)[1][:16]))
                os.symlink(os.path.abspath(path), link)
                names.append(link)
                aliases[link] = path
        yield names, aliases


@contextlib.contextmanager
def _quiet():
    """PyExifTool warns when it finds its process dead; the watchdog and the restart see to that."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "ExifTool process was previously running but died")
        yield


def _safe_argument(path):
    if "\n" in path or "\r" in path or path.startswith("-"):
        return False
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def normalise_date(value, offset=None):
    """An exiftool date string as ISO 8601 (with offset when known), or None if invalid."""
    match = _DATE.match(str(value).strip())
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        moment = datetime.datetime(int(year), int(month), int(day), int(hour), int(minute), int(second))
    except ValueError:
        return None  # 0000:00:00 and other impossible dates
    text = moment.isoformat()
    if fraction:
        text += fraction
    zone = zone or offset
    if zone:
        zone = "+00:00" if zone == "Z" else zone
        if ":" not in zone:
            zone = zone[:3] + ":" + zone[3:]
        text += zone
    return text


def derived_fields(tags):
    """The normalised fields of a record from exiftool's tags (``-G -n`` keys)."""
    taken_at, source = None, None
    for name, keys, offset_keys in DATE_SOURCES:
        for key in keys:
            if key in tags:
                taken_at = normalise_date(tags[key], _offset(tags, offset_keys))
                if taken_at:
                    source = name
                    break
        if taken_at:
            break
    return {
        "taken_at": taken_at,
        "taken_at_source": source,
        "mime_type": tags.get("File:MIMEType"),
        "make": _first_tag(tags, "Make"),
        "model": _first_tag(tags, "Model"),
    }


def _offset(tags, keys):
    for key in keys:
        value = key if _OFFSET.match(key) else tags.get(key)
        if isinstance(value, str) and _OFFSET.match(value.strip()):
            return value.strip()
    return None


def _first_tag(tags, name):
    for group in ("EXIF", "QuickTime", "XMP", "MakerNotes"):
        value = tags.get("{}:{}".format(group, name))
        if value not in (None, ""):
            return str(value).strip()
    return None


def available():
    return shutil.which("exiftool") is not None
