"""What every shashin command shares: options, input, messages, progress and exit codes."""

import functools
import json
import os
import sys
import time

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

# No tqdm monitor thread: shashin-hash forks its workers, and a fork should find one thread only.
tqdm.monitor_interval = 0


class SetupError(click.ClickException):
    """The command cannot start (database, missing tool); exits 2 like a usage error."""

    exit_code = USAGE


def command(name, examples):
    """A click command with -h, examples after the help, and the function's return value as exit code."""

    def decorate(function):
        @functools.wraps(function)
        def run(*args, **kwargs):
            try:
                code = function(*args, **kwargs)
                sys.stdout.flush()
            except BrokenPipeError:
                # The reader went away (| head): stop quietly, as Unix tools do.
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
                code = OK
            click.get_current_context().exit(code or OK)

        return click.command(
            name,
            epilog="\b\nExamples:" + examples.rstrip(),
            context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
        )(run)

    return decorate


def db_options(function):
    """--db and --no-db, the way every command finds the database."""

    @click.option(
        "--db",
        "db_path",
        default=DEFAULT_DB,
        envvar="SHASHIN_DB",
        show_default=True,
        type=click.Path(dir_okay=False),
        help="SQLite database to read and update (or set SHASHIN_DB).",
    )
    @click.option("--no-db", is_flag=True, help="Do not use a database: stream JSON lines only.")
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        return function(*args, **kwargs)

    return wrapper


def verbosity_options(function):
    @click.option("-v", "--verbose", is_flag=True, help="Also list skipped files on stderr.")
    @click.option("-q", "--quiet", is_flag=True, help="No progress and no summary line.")
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        return function(*args, **kwargs)

    return wrapper


def database(db_path, advice=None, readonly=False):
    """The database; when it cannot be used, a set-up error saying why, and the advice if given."""
    try:
        return Store(db_path, readonly=readonly)
    except DatabaseError as error:
        raise SetupError("{} ({})".format(error, advice) if advice else str(error))


def open_store(db_path, no_db):
    """The database, or None with --no-db, for a command that can stream without one."""
    return None if no_db else database(db_path, "use --no-db to stream only")


def required_store(db_path, no_db, why):
    """The database of a command that cannot work without one; why says what it keeps there."""
    if no_db:
        raise click.UsageError("{}: drop --no-db".format(why))
    return database(db_path)


def shown(path):
    """A path as one printable line: quoted with escapes if it holds control or undecodable characters."""
    if path.isprintable():
        return path
    return json.dumps(path)


class Reporter:
    """Messages on stderr, progress when stderr is a terminal, the summary line, the exit code."""

    def __init__(self, command, verbose=False, quiet=False, unit="file"):
        self.command = command
        self.verbose = verbose
        self.counts = {}
        self.failed = 0
        self.started = time.monotonic()
        self.quiet = quiet
        self.progress = tqdm(
            unit=unit, file=sys.stderr, disable=quiet or not sys.stderr.isatty(), leave=False
        )

    def count(self, status):
        self.counts[status] = self.counts.get(status, 0) + 1
        self.progress.update()

    def error(self, path, message):
        self.failed += 1
        self._say("{}: {}: {}".format(self.command, shown(path), message))

    def skip(self, path, message):
        if self.verbose:
            self._say("{}: skipped {}: {}".format(self.command, shown(path), message))

    def _say(self, line):
        self.progress.clear()
        click.echo(line, err=True)

    def finish(self, order):
        """Print the summary line; return the exit code."""
        self.progress.close()
        if not self.quiet:
            parts = ["{} {}".format(self.counts.get(status, 0), status) for status in order]
            click.echo(
                "{}: {} in {:.1f} s".format(self.command, ", ".join(parts), time.monotonic() - self.started),
                err=True,
            )
        return SOME_FAILED if self.failed else OK


def input_items(arguments, nul, reporter):
    """``(path, record)`` for every input: the arguments, else stdin; folders are walked."""
    if arguments:
        items = ((os.fsdecode(argument), None) for argument in arguments)
    elif sys.stdin.isatty():
        raise click.UsageError("give paths as arguments or on stdin (see --help)")
    else:
        items = records.read_items(sys.stdin.buffer, nul=nul)
    for path, record in items:
        if record is not None:
            yield path, record
            continue
        for found, problem in expand(path):
            if problem is None:
                yield found, None
            elif problem.skipped:
                reporter.count("skipped")
                reporter.skip(found, problem.message)
            else:
                reporter.count("failed")
                reporter.error(found, problem.message)


def write_record(record):
    records.write(sys.stdout, record)
