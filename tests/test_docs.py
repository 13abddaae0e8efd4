"""The docs say what the code does: every command's options, every table and column, --help with examples."""

import importlib
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import click
import pytest

from conftest import invoke
from shashin.store import Store

ROOT = Path(__file__).parent.parent
SCRIPTS = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
CODE = re.compile(r"`([^`]+)`")


def command_of(name):
    module, attribute = SCRIPTS[name].split(":")
    command = getattr(importlib.import_module(module), attribute)
    assert isinstance(command, click.Command)
    return command


def options(command):
    """Every option string of a click command (--help included) and of its subcommands."""
    params = command.get_params(click.Context(command, **command.context_settings))
    found = {opt for param in params for opt in param.opts + param.secondary_opts if opt.startswith("-")}
    for sub in getattr(command, "commands", {}).values():
        found |= options(sub)
    return found


def section(page, title):
    """The lines of a page's ``## title`` section."""
    lines = page.splitlines()
    start = lines.index("## " + title) + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("## ")), len(lines))
    return lines[start:end]


def documented_options(page):
    """The options a page's Options section names: the code tokens that start a table row or a list term.

    `-j`, `--jobs N` names -j and --jobs; an option named only in a sentence is not documented.
    """
    terms = [line.split("|")[1] if line.startswith("|") else line for line in section(page, "Options")]
    return {
        token.split()[0]
        for term in terms
        if term.strip().startswith("`")
        for token in CODE.findall(term)
        if token.startswith("-")
    }


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_the_options_section_names_exactly_the_options(name):
    page = (ROOT / "docs" / "cli" / (name + ".md")).read_text()
    documented, real = documented_options(page), options(command_of(name))
    assert not real - documented, "missing from docs/cli/{}.md: {}".format(name, sorted(real - documented))
    assert not documented - real, "in docs/cli/{}.md but not an option: {}".format(name, sorted(documented - real))


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_help_has_examples(name):
    assert "Examples:" in invoke(command_of(name), "--help", check=0).stdout


def test_readme_names_every_command():
    readme = (ROOT / "README.md").read_text()
    assert all(name in readme for name in SCRIPTS)
    assert "make demo" in readme and "make test" in readme


def documented_columns(page):
    """``{table: columns}`` from docs/schema.md: the code tokens first in each row of a table's column list.

    A table's list follows the line that introduces it: `images`: ... or a heading ## ranks (...).
    """
    columns, table = {}, None
    for line in page.splitlines():
        introduced = re.match(r"`(\w+)`[ :(]", line) or re.match(r"## (\w+)(?: \(|$)", line)
        if introduced:
            table = introduced.group(1)
        elif line.startswith("| `") and table:
            columns.setdefault(table, set()).update(CODE.findall(line.split("|")[1]))
    return columns


def test_schema_doc_names_every_table_and_column(tmp_path):
    page = (ROOT / "docs" / "schema.md").read_text()
    store = Store(tmp_path / "shashin.db")
    try:
        tables = {name: {column.name for column in store.db[name].columns} for name in store.db.table_names()}
    finally:
        store.close()
    # SQLite's own table and sqlite-utils' record of migrations: named, their columns not shashin's to explain.
    for own in ("sqlite_sequence", "_sqlite_migrations"):
        tables.pop(own)
    assert "`_sqlite_migrations`" in page
    documented = documented_columns(page)
    assert sorted(tables) == sorted(documented)
    for table, columns in tables.items():
        assert columns == documented[table], "docs/schema.md, {}: missing {}, not columns {}".format(
            table, sorted(columns - documented[table]), sorted(documented[table] - columns)
        )


#: The heavy libraries each command may load when imported: only what the command needs at once. Wand (ImageMagick)
#: takes 0.2 s to load, exiftool starts a process only when used, scikit-learn takes 2-3 s.
HEAVY = ("wand", "exiftool", "sklearn", "av")
NEEDS = {
    "hash": set(),  # ImageMagick and PyAV are loaded in the workers, only when a file must be decoded
    "meta": {"exiftool"},
    "group": set(),  # Wand is loaded where thumbnails are decoded into fingerprints, only when some are missing
    "rank": set(),  # scikit-learn is imported where a ranker is trained, loaded or evaluated
    "organize": {"exiftool"},  # capture dates
    "trash": set(),
}


@pytest.fixture(scope="module")
def loaded():
    """``{command: heavy libraries loaded}`` by importing each shashin.cli module in a fresh interpreter."""
    probe = "import importlib, sys; importlib.import_module(sys.argv[1]); print(*set(sys.argv[2:]) & set(sys.modules))"
    processes = {
        name: subprocess.Popen(
            [sys.executable, "-c", probe, "shashin.cli." + name, *HEAVY], stdout=subprocess.PIPE, text=True
        )
        for name in NEEDS
    }
    # All at once: scikit-learn alone takes seconds to import.
    return {name: set(process.communicate(timeout=120)[0].split()) for name, process in processes.items()}


@pytest.mark.parametrize("name", NEEDS)
def test_a_command_loads_only_the_heavy_libraries_it_needs(loaded, name):
    assert loaded[name] <= NEEDS[name]
