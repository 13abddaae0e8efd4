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
#: 8 orientations, its crop view, the regions of shashin.regions, the middle band, the centre, the whole soft hash)
FINGERPRINTS = {
    "astronaut.png": (
        "dd8dbd0d9d3295a6 c424604c5d5d116c 9a56b3464f424e44 c9774545cdf9dbdc 444e424f46b3569a 6c115d5d4c6024c4 "
        "a695329d0dbd8ddd dcdbf9cd454577c9 8dadb90d9d525194 c9cddd9d8810b3e3 c9cddd9d8810b3e3 8d8d9d9d8c103383 "
        "acacbc9c1c105331 8d8d9d9d8c103383 8d8dbd9d9d883331 ccc49c8c8c1031a3 ccc49c9c8c883111 8dbd9d9d881033c3 "
        "8dad9d1d8c903331 84dc9c8c8c3131a3 84dc9c8c8c803111 89a9b91d18106347 89adb99d19186325 8cacbc9c1c505341 "
        "8cacbc9c1c185331 adb9bd1d18706347 ada9b91d19106325 acac9c1c0c515141 acacbc9c1c105331 d9cdcdcdf91d9d9d "
        "cdcdcdf91d1d9d88 cdcdc9991d9d88c8 cdcdf91d1d9d8800 cdf99d1d9d888832 c9991d9d8d883032 f91d1d9d88003233 "
        "191d9d8888303393 1c9d9d881032b3a6 1d9d8880323383c3 9d88883032b3e3e3 c9cddd9d8810b3e3 c6c6de4ec628a8d0 "
        "c6d6de8e8e28b0a0 8c849c8c8c1011a3 8cacbc9c1c505161 0d2d3d1d18106343 1919393918a0a347 1959793938a0e283 "
        "e2e46561c11bdac8 e4e4e543c39292ca e5cdcf43c39696da c5c9cbc383363490 cbc9cb8787242494 cb9b9f87872c2cb4 "
        "839397870f686828 9737370f0f485969 97373e0f0f585969 07272f0e1ed0d153 2e6e6f1e1e90b2d2 2e4e5e1c1cb0b282 "
        "0c4c5c1c3c2022a4 5cdcdc3c3c2065a5 5c9cbc3838616505 9999b8f87841454b b9b9b9f979c1cb4a b1317171f1c28b8a "
        "33337171f1828b96 737373f3f2809797 6262e3e3e2841615 cdbd1d8d9d883213 ae2e2e0c1c4c5352 c9cddd9d8810b3e3",
        200.0,
    ),
    "rocket.jpg": (
        "e0c0c0d0b09090d1 fefcfffffefefefc 74f6f6f2f4fcfcf8 c08080800000c080 f8fcfcf4f2f6f674 fcfefefefffffcfe "
        "d19090b0d0c0c0e0 80c00000808080c0 e0c09090b0b090d0 e0c0c0d0b0b0d0d0 e0c0c0d0b0b0d0d0 e0c0c0b0b0b090d0 "
        "c0c090b0b0b0b0b0 e0c0c0b0b0b090d0 e0c0c0d0b0b0b090 e0c0d0d0909090d8 e0c0c0d090909090 c0c0d0b0b0b090d0 "
        "c0c0d0b0b0b0b090 e0c0d090909090d8 e0c0d09090909090 c0c080a03020b0b0 c0c080a0302020b0 c0c090b0b0b0b090 "
        "c0c080b0b0b0b0b0 c080a0b03020b0b0 c080a0b0302020b0 c0c090b0b0b0b090 c0c090b0b0b0b0b0 e0e0c0d0f0b0b090 "
        "c0c0d0b0b0b0d0d0 70f0e4cccccce4e6 f0e0c8c89898c8cd e0c0901030309018 c080202060603030 80004060e0e06061 "
        "000080c0c0c0c0c1 7c7871e3e7e7e3e3 f8f0e2c6cecee6d7 f0e0c4c49c9cc4ae e0e0c80c1c0c8c4c e0c0991838381899 "
        "c080103070703032 800020e0e0e06070 00004040404040e4 000080c0c0c0c0c8 0000808080808091 0000000000000022 "
        "3f7e7e71f1f1f8f6 7f7cf4f0e3f3f0e4 fefcf8e0e6e6f0c9 fcf8f0c4c4c4e1d3 fcf0f189898943b3 f8e0a3031b938327 "
        "f0e04606363686ce e0c0842c2c2c0c9c e080884c4c481c9c c0001898d8981838 80003030b0b03071 00002161606060e3 "
        "00004262e040e0e2 0000c4c0c0c0c0c4 000080808080808c 0000080800000018 0000101000000010 0000200000000021 "
        "0000000000000163 00004040000002c2 0000808000000486 c0c0d090b090b090 c080521030101010 e0c0c0d0b0b0d0d0",
        60.0,
    ),
    "camera.png": (
        "00183e7fee756cea c0c9d50c4c2797c6 a8c951880183e7ff 9c161bcdcf546cfc ffe783018851c9a8 c697274c0cd5c9c0 "
        "ea6c75ee7f3e1800 fc6c54cfcd1b169c 181e767faef56ced 1c1e3e3f7f7cfcec 1c1e3e3f7f7cfcec 1c1e3e7ffffeecec "
        "1c3e7ffffffee4ec 1c1e3e7ffffcecec 1c1e3e7ffffef4ec 1c1e3f7ffff6f4e4 1c1e3f7ffffff6f6 1c3e7f7ffefcecec "
        "1c1e7e7ffffef4ec 1e1f3f7ffff6f4e4 1e1f3f7ffffef4f6 181e7effffececec 181e7efffffeecec 1c1e7ffffffee4ed "
        "1c1e7e7fffffe4ec 1c3e7ffffeececec 1c3e7efffffeecec 1c3f7ffffff6eced 1c3f7ffffffee4ec 00181c1e3e3f7f5f "
        "181c1e3e3e7f7ffe 1c1c1e3e7f7ffe7e 1c1e3e3f7f7ffe7e 1c3e3e7f7ffe7e75 1e3e3f7f7e7e74fc 3e3e7f7ffe7e74fc "
        "3e7f7ffe7e74fcfc 7f7f7e7e76f4fcec 7f7ffe7e74fcecec 7ffe7e74fcfcecec 1c1e3e3f7f7cfcec 0e0f1f3f7f7bf2f6 "
        "0c0f3f3fff76f6f6 1c1f3f7ffff6f6ec 1c1e3e7ffffeecec 181e7effffececec 383c7effffecc8d8 303cfcfffed8d8d8 "
        "03030f1f7d3e7cfc 03030f1f7d7c7cf9 07071f3fff7cf9f9 07071f3ffbfdf9f9 07071f3ffbf9f9f3 0e0f3f7ffff9f3f3 "
        "0e0f3f7ff7f3f3f7 0e1f7f7ffff3f3e7 1c1f7ffffff3e7e7 1c1f7fffefe7e7ee 1c3fffffffe6e6ce 383effffffeececc "
        "383efeffdfcecc9c 387ffefeffcccc9d 707ffefefedc9c19 70fefc7fbf9c9839 f0fefcfdff993832 e0fcfcff7f393832 "
        "e0fcf8ff7f383070 e0fcf8fbfe327064 c0f8f8fefe7070e5 1a3e757fce7e756c 187fd65fcf67e4ce 1c1e3e3f7f7cfcec",
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
