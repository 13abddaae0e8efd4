"""Every command's options are in its page of docs/cli, and --help shows examples."""

import importlib
import tomllib
from pathlib import Path

import click
import pytest

from conftest import run

ROOT = Path(__file__).parent.parent
SCRIPTS = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]


def options(command):
    """Every option string of a click command and of its subcommands."""
    found = {opt for param in command.params for opt in param.opts + param.secondary_opts if opt.startswith("-")}
    for sub in getattr(command, "commands", {}).values():
        found |= options(sub)
    return found


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_every_option_is_documented(name):
    module, attribute = SCRIPTS[name].split(":")
    command = getattr(importlib.import_module(module), attribute)
    assert isinstance(command, click.Command)
    page = (ROOT / "docs" / "cli" / (name + ".md")).read_text()
    missing = sorted(opt for opt in options(command) if "`{}".format(opt) not in page and opt not in page)
    assert not missing, "{} options missing from docs/cli/{}.md: {}".format(name, name, missing)


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_help_has_examples(name):
    result = run(name, "--help", check=0)
    assert "Examples:" in result.stdout or "Example" in result.stdout


def test_readme_names_every_command():
    readme = (ROOT / "README.md").read_text()
    assert all(name in readme for name in SCRIPTS)
    assert "make demo" in readme and "make test" in readme
