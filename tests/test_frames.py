"""shashin-group finds copies that change the frame (issue 14), each kind on a small generated example.

One real photograph (4:3) and one copy of each kind of :mod:`shashin.frame_copies` (cropped to 16:9, 1:1,
4:5 and 9:16, cropped off-centre, straightened, in a print border or a coloured frame, inside a phone
screenshot, a slide or a collage, captioned like a meme, filtered), scanned by shashin-hash and grouped by
shashin-group. How often each kind is found over many photos is benchmarks/bench_accuracy.py's
(docs/accuracy.md); here each kind is shown to be found at all, and two framings of one scene, each showing
parts the other lacks, stay apart.
"""

import numpy
import pytest
from wand.image import Image

from conftest import SAMPLES, json_lines, run
from shashin import frame_copies, hamming

#: The copies made of the photo, by kind; each kind's random parameters come from this seed.
SEED = 3


def cut(source, target, left, top, width, height):
    with Image(filename=str(SAMPLES / source)) as image:
        image.crop(left, top, width=width, height=height)
        image.format = "jpeg"
        image.save(filename=str(target))
    return target


@pytest.fixture(scope="module")
def grouped(tmp_path_factory):
    """``{file name: group id}`` of the photo, its copies, another framing of the scene and another photo."""
    folder = tmp_path_factory.mktemp("frames") / "Pictures"
    folder.mkdir()
    original = cut("coffee.png", folder / "photo.jpg", 0, 0, 480, 360)
    # The same scene framed again 120 px to the right: a fifth of each shows what the other lacks.
    cut("coffee.png", folder / "another-framing.jpg", 120, 40, 480, 360)
    cut("astronaut.png", folder / "another-photo.jpg", 0, 64, 480, 360)
    fillers = [SAMPLES / name for name in ("color.png", "text.png", "logo.png")]
    with Image(filename=str(original)) as image:
        for number, kind in enumerate(frame_copies.KINDS):
            with frame_copies.make(kind, image, SEED * 100 + number, fillers) as copy:
                copy.format = "jpeg"
                copy.save(filename=str(folder / (kind + ".jpg")))
    db = folder.parent / "shashin.db"
    run("shashin-hash", "--db", db, "-q", folder, check=0)
    groups = json_lines(run("shashin-group", "--db", db, check=0).stdout)
    return {path.rsplit("/", 1)[1]: group["group"] for group in groups for path in group["paths"]}


@pytest.mark.parametrize("kind", list(frame_copies.KINDS))
def test_a_copy_that_changes_the_frame_joins_its_photo(grouped, kind):
    assert "photo.jpg" in grouped
    assert grouped.get(kind + ".jpg") == grouped["photo.jpg"]


def test_another_framing_and_another_photo_stay_apart(grouped):
    assert grouped.get("another-framing.jpg") != grouped["photo.jpg"]
    assert "another-photo.jpg" not in grouped


def test_pairs_beyond_the_threshold_cost_no_lookups_and_lose_none_within():
    rng = numpy.random.default_rng(11)
    index = rng.integers(0, 2**64, 3000, dtype=numpy.uint64)
    # Queries 0 to 12 bits from index entries: within the threshold all are found, beyond it some.
    flips = [sum(1 << int(bit) for bit in rng.choice(64, count, replace=False)) for count in range(13)] * 20
    queries = index[: len(flips)] ^ numpy.array(flips, numpy.uint64)
    within = hamming.hamming_search(index, queries, 5)
    query, entry, distance = hamming.hamming_search(index, queries, 5, beyond=10)
    assert set(zip(*(column.tolist() for column in within))) <= set(
        zip(query.tolist(), entry.tolist(), distance.tolist())
    )
    assert distance.max() <= 10 and (distance > 5).any()
