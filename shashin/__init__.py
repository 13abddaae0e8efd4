"""shashin: find duplicate and near-duplicate photos, review them safely, keep the right copy."""

import os

# Wand looks for ImageMagick with ctypes.util.find_library under 22 name suffixes in turn, each
# one an ldconfig run: 0.2 s at every start of every process. Debian's suffix first finds it at once
# (other systems still fall through to the full search).
os.environ.setdefault("WAND_MAGICK_LIBRARY_SUFFIX", "-6.Q16")
