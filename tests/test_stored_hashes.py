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
from shashin import formats, imaging, similarity, verify

#: name: (width, height, dHash as stored in images.dhash)
DECODED = {
    "astronaut.png": (512, 512, "dd8dbd0d9d3295a6"),
    "rocket.jpg": (640, 427, "e0c0c0d0b09090d1"),  # decoded at reduced size by libjpeg
    "camera.png": (512, 512, "00183e7fee746cea"),  # greyscale, converted to sRGB
}

#: name: (the hashes and the spread of fingerprints.hashes and .spread, from the stored thumbnail: the view in
#: 8 orientations, its crop view, the regions of shashin.regions, the middle band and the centre)
FINGERPRINTS = {
    "astronaut.png": (
        "dd8dbd0d9d3295a6 c424604c5d5d116c 9a56b3464f424e44 c9774545cdf9dbdc 444e424f46b3569a 6c115d5d4c6024c4 "
        "a695329d0dbd8ddd dcdbf9cd454577c9 8dadb90d9d525194 dd8dbd0d9d3295a6 acaca88c1c505315 8daded1d1d9d8888 "
        "cdbd1d8d9d883233 1d1d9d8808361394 dd8dbd0d9d3295a6 dd8dbd0d9d3295a6 dd8dbd0d9d3295a6 d6969e8c94291aa3 "
        "9caca88c1c535195 ad297d192972a546 cbd396878b246cb4 2e646d1e26d1b252 5d9db4395947494b cdbd1d8d9d883213 "
        "ae2e2e0c1c4c5352",
        200.0,
    ),
    "rocket.jpg": (
        "e0c0c0d0b09090d1 fefcfffffefefefc 74f6f6f2f4fcfcf8 c08080800000c080 f8fcfcf4f2f6f674 fcfefefefffffcfe "
        "d19090b0d0c0c0e0 80c00000808080c0 e0c09090b0b090d0 e0c0c0d0b09090d1 c0809090b0b09090 e0c0c0d0b0909090 "
        "e0c0d090b0b090d1 e0c0d090909090d1 f0e0888898888889 c0c09010105010b2 80002020a0a0a061 f0e0a484949404ae "
        "c0809212505050ba 00004848404040e8 f8f0a31313139327 8000101090901075 0000080804000058 c0c0d090b090b090 "
        "c080521030101010",
        60.0,
    ),
    "camera.png": (
        "00183e7fee756cea c0c9d50c4c2797c6 a8c951880183e7ff 9c161bcdcf546cfc ffe783018851c9a8 c697274c0cd5c9c0 "
        "ea6c75ee7f3e1800 fc6c54cfcd1b169c 181e767faef56ced 00183e7fee746cea 183d767feee5e4ec 18183e747f5cee76 "
        "3e3e757fcebe756c 743f4cee76656cec 00183e7fee746cea 00183e7fee746cea 00183e7fee746cea 000c3f6ebf7666e4 "
        "00187e5feee46ced 00387efd7ee9ccda 800e3fa5b7f963b3 0038fbd7efe6c6cc 0071ec5dbed91c3a 1a3e757fce7e756c "
        "187fd65fcf67e4ce",
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
    _, hashes, spread = similarity.fingerprint(imaging.view_from_thumbnail(thumbnail), verify.grey(thumbnail))
    assert (" ".join("{:016x}".format(int(value)) for value in hashes), spread) == FINGERPRINTS[name]
