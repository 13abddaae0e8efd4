"""The base every shashin command stands on, csvkit's CSVKitUtility being the model.

A tool declares its options and its ``main``; the base owns the rest: -h and the examples,
--db (and --no-db where the tool can stream without a database), -v/-q, opening the
database, reading paths, progress, a closed pipe, the summary line and the exit code.
"""

import fcntl
import inspect
import json
import os
import sys
import time
from collections.abc import Sequence

import click
from tqdm import tqdm

from .. import records
from ..files import expand
from ..store import DatabaseError, Store

DEFAULT_DB = "shashin.db"
#: Exit codes: every input handled; some inputs failed; usage or set-up error.
OK, SOME_FAILED, USAGE = 0, 1, 2

#: An id as SQLite stores it (signed 64 bits): a larger number is a usage error, not an OverflowError.
ROW_ID = click.IntRange(1, 2**63 - 1)
#: Worker processes: a larger number is a slip of the keyboard, and each one would be started.
JOBS = click.IntRange(1, 1024)
#: Input paths are checked by the command, one line for each that fails: click would end the
#: whole run with a usage error at the first unreadable one.
INPUT_PATH = click.Path(readable=False)

#: How a tool uses the database: it can stream without one (--no-db), it cannot work without one, or none.
STREAMS, NEEDS, NONE = "streams", "needs", "none"

# No tqdm monitor thread: shashin-hash forks its workers, and a fork should find one thread only.
tqdm.monitor_interval = 0


def paths_argument():
    return click.Argument(["paths"], nargs=-1, type=INPUT_PATH)


def null_option():
    return click.Option(
        ["-0", "--null", "nul"], is_flag=True, help="Input paths on stdin are NUL-separated (find -print0)."
    )


def db_option():
    return click.Option(
        ["--db", "db_path"],
        default=DEFAULT_DB,
        envvar="SHASHIN_DB",
        show_default=True,
        type=click.Path(dir_okay=False),
        help="SQLite database to read and update (or set SHASHIN_DB).",
    )


class SetupError(click.ClickException):
    """The command cannot start (database, missing tool); exits 2 like a usage error."""

    exit_code = USAGE


class Tool:
    """One command: its options (``params``) and its ``main``; the class docstring is its --help."""

    #: The name messages start with.
    name: str | None = None
    #: The name of a subcommand (``shashin-trash list``), else None.
    subcommand: str | None = None
    examples = ""
    #: click parameters of the tool itself, in the order --help lists them.
    params: Sequence[click.Parameter] = ()
    database = STREAMS
    #: False for a tool that uses what other commands stored: a --db that does not exist is a mistyped
    #: name to refuse, not an empty database to make.
    creates_database = True
    verbosity = True
    unit = "file"
    #: The counts of the summary line, in order; None for a tool that prints no summary line.
    summary: Sequence[str] | None = ()

    def __init__(self, reporter):
        self.reporter = reporter
        self.store = None

    def main(self, **options):
        """Do the tool's job; return an exit code, or None for the reporter's."""
        raise NotImplementedError

    def open_store(self, db_path, no_db, options):
        """The database as this tool uses it, or None; ``options`` are the tool's own."""
        if no_db:
            return None
        if not self.creates_database and not os.path.exists(db_path):
            raise SetupError("no database {} (run shashin-hash first, or give --db or SHASHIN_DB)".format(db_path))
        return database(db_path, "use --no-db to stream only" if self.database == STREAMS else None)

    def inputs(self, paths, nul):
        """``(path, record)`` for every input: the arguments, else stdin; folders are walked.

        The arguments are walked before the first is handled, so progress has a total.
        """
        if paths:
            found = [entry for path in paths for entry in expand(os.fsdecode(path))]
            self.reporter.expect(len(found))
            items = ((path, problem, None) for path, problem in found)
        elif sys.stdin.isatty():
            raise click.UsageError("give paths as arguments or on stdin (see --help)")
        else:
            items = self._stdin_items(nul)
        for path, problem, record in items:
            if problem is None:
                yield path, record
            elif problem.skipped:
                self.reporter.count("skipped")
                self.reporter.skip(path, problem.message)
            else:
                self.reporter.count("failed")
                self.reporter.error(path, problem.message)

    def _stdin_items(self, nul):
        for path, record in records.read_items(sys.stdin.buffer, nul=nul):
            if record is not None:
                yield path, None, record
            else:
                for found, problem in expand(path):
                    yield found, problem, None

    @classmethod
    def command(cls):
        """The click command of this tool."""
        params = list(cls.params)
        if cls.database != NONE:
            params.append(db_option())
        if cls.database == STREAMS:
            params.append(
                click.Option(["--no-db"], is_flag=True, help="Do not use a database: stream JSON lines only.")
            )
        if cls.verbosity:
            params += [
                click.Option(["-v", "--verbose"], is_flag=True, help="Also list skipped files on stderr."),
                click.Option(["-q", "--quiet"], is_flag=True, help="No progress and no summary line."),
            ]

        def run(db_path=None, no_db=False, verbose=False, quiet=False, **options):
            reporter = Reporter(cls.name, verbose, quiet, cls.unit)
            tool = cls(reporter)
            try:
                if cls.database != NONE:
                    tool.store = tool.open_store(db_path, no_db, options)
                code = tool.main(**options)
                if code is None:
                    code = reporter.finish(tool.summary)
                sys.stdout.flush()
            except BrokenPipeError:
                # The reader went away (| head): stop quietly, as Unix tools do.
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
                code = OK
            finally:
                reporter.close()
            click.get_current_context().exit(code)

        return click.Command(
            cls.subcommand or cls.name,
            callback=run,
            params=params,
            help=inspect.getdoc(cls),
            epilog="\b\nExamples:" + cls.examples.rstrip() if cls.examples else None,
            context_settings=CONTEXT,
        )


CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def database(db_path, advice=None, readonly=False):
    """The database; when it cannot be used, a set-up error saying why, and the advice if given."""
    try:
        return Store(db_path, readonly=readonly)
    except DatabaseError as error:
        raise SetupError("{} ({})".format(error, advice) if advice else str(error)) from None


def shown(path):
    """A path as one printable line: quoted with escapes if it holds control or undecodable characters."""
    if path.isprintable():
        return path
    return json.dumps(path)


class Reporter:
    """Messages on stderr, progress on the terminal, the summary line, the exit code."""

    def __init__(self, command, verbose=False, quiet=False, unit="file"):
        self.command = command
        self.verbose = verbose
        self.quiet = quiet
        self.unit = unit
        self.counts = {}
        self.failed = 0
        self.done = 0
        self.total = None
        self.started = time.monotonic()
        self.progress = None
        self._terminal = _terminal_lock() if not quiet and sys.stderr.isatty() else None

    def expect(self, total):
        """A stage of ``total`` items begins: progress counts them from 0, with the time left."""
        self.total, self.done = total, 0
        if self.progress is not None:
            self.progress.reset(total)

    def count(self, status):
        self.tally(status)
        self.advance()

    def tally(self, status):
        """Count one more of a status for the summary line, without moving progress."""
        self.counts[status] = self.counts.get(status, 0) + 1

    def advance(self):
        """One more item done, without a count of its own."""
        self.done += 1
        if self.progress is None and self._terminal is not None and _take(self._terminal):
            self.progress = tqdm(total=self.total, initial=self.done - 1, unit=self.unit, file=sys.stderr, leave=False)
        if self.progress is not None:
            self.progress.update()

    def error(self, path, message):
        self.fail("{}: {}".format(shown(path), message))

    def fail(self, message):
        """A failure the run goes on after, and the exit code will tell."""
        self.failed += 1
        self.say(message)

    def skip(self, path, message):
        if self.verbose:
            self.say("skipped {}: {}".format(shown(path), message))

    def say(self, message):
        """One line on stderr, under the command's name."""
        if self.progress is not None:
            self.progress.clear()
        click.echo("{}: {}".format(self.command, message), err=True)

    def finish(self, summary):
        """Print the summary line (none when summary is None); return the exit code."""
        self.close()
        if not self.quiet and summary is not None:
            parts = ["{} {}".format(self.counts.get(status, 0), status) for status in summary]
            click.echo(
                "{}: {} in {:.1f} s".format(self.command, ", ".join(parts), time.monotonic() - self.started),
                err=True,
            )
        return SOME_FAILED if self.failed else OK

    def close(self):
        if self.progress is not None:
            self.progress.close()
            self.progress = None
        if self._terminal is not None:
            os.close(self._terminal)
            self._terminal = None


def _terminal_lock():
    """The terminal stderr is on, opened anew: its lock says which command of a pipeline draws progress.

    One progress bar per terminal: in ``shashin-hash | shashin-meta`` both bars would share one line.
    The first command to make progress draws, and the next takes over when it is done; a command
    piping into jq keeps its bar, which showing progress only at the end of a pipeline would take.
    """
    try:
        return os.open(os.ttyname(sys.stderr.fileno()), os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None


def _take(terminal):
    try:
        fcntl.flock(terminal, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def write_record(record):
    records.write(sys.stdout, record)
