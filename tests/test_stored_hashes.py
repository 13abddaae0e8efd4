"""The hashes of a few of scikit-image's photographs, pinned.

Stored hashes outlive the code that made them: a rescan never decodes an unchanged file again,
and shashin-group reuses stored fingerprints, so a database keeps the hashes of every version
that scanned it. A change to decoding, colour conversion, resizing or the dHash that moves
these values makes new scans disagree with old rows (a copy scanned today no longer matches
its original scanned last year), and must come with a way to hash everything again. This test
is that alarm; imagehash pins its hashes the same way (test_hash_is_constant.py). An upgrade
of ImageMagick or libjpeg can move them too, and is as much a reason to look.
"""

import pytest

from conftest import SAMPLES
from shashin import formats, imaging, similarity

#: name: (width, height, dHash as stored in images.dhash)
DECODED = {
    "astronaut.png": (512, 512, "dd8dbd0d9d3295a6"),
    "rocket.jpg": (640, 427, "e0c0c0d0b09090d1"),  # decoded at reduced size by libjpeg
    "camera.png": (512, 512, "00183e7fee746cea"),  # greyscale, converted to sRGB
}

#: name: (the nine hashes and the spread of fingerprints.hashes and .spread, from the stored thumbnail)
FINGERPRINTS = {
    "astronaut.png": (
        "dd8dbd0d9d3295a6 c424604c5d5d116c 9a56b3464f424e44 c9774545cdf9dbdc 444e424f46b3569a "
        "6c115d5d4c6024c4 a695329d0dbd8ddd dcdbf9cd454577c9 8dadb90d9d525194",
        200.0,
    ),
    "rocket.jpg": (
        "e0c0c0d0b09090d1 fefcfffffefefefc 74f6f6f2f4fcfcf8 c08080800000c080 f8fcfcf4f2f6f674 "
        "fcfefefefffffcfe d19090b0d0c0c0e0 80c00000808080c0 e0c09090b0b090d0",
        60.0,
    ),
    "camera.png": (
        "00183e7fee756cea c0c9d50c4c2797c6 a8c951880183e7ff 9c161bcdcf546cfc ffe783018851c9a8 "
        "c697274c0cd5c9c0 ea6c75ee7f3e1800 fc6c54cfcd1b169c 181e767faef56ced",
        184.0,
    ),
}


@pytest.fixture(scope="module")
def analysed():
    """``{name: (fields, thumbnail)}`` as a shashin-hash worker decodes them."""
    imaging.configure(threads=1)
    decoded = {}
    for name in DECODED:
        path = str(SAMPLES / name)
        with open(path, "rb") as handle:
            format_ = formats.format_of(path, handle.read(formats.HEAD_BYTES))
        decoded[name] = imaging.analyse(path, format_)
    return decoded


@pytest.mark.parametrize("name", sorted(DECODED))
def test_the_decoded_dhash_has_not_moved(analysed, name):
    fields, _ = analysed[name]
    assert (fields["width"], fields["height"], fields["dhash"]) == DECODED[name]


@pytest.mark.parametrize("name", sorted(FINGERPRINTS))
def test_the_fingerprint_of_the_thumbnail_has_not_moved(analysed, name):
    _, thumbnail = analysed[name]
    _, hashes, spread = similarity.fingerprint(imaging.view_from_thumbnail(thumbnail))
    assert (" ".join("{:016x}".format(int(value)) for value in hashes), spread) == FINGERPRINTS[name]
