"""``python -m shashin.cli NAME ARG...``: a shashin command by name, as shashin-scan runs them, whatever PATH holds."""

import importlib
import sys

name = sys.argv.pop(1)
importlib.import_module("shashin.cli." + name).cli(prog_name="shashin-" + name)
