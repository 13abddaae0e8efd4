"""shashin-group finds copies that change the frame (issue 14), each kind on a small generated example.

One real photograph (4:3) and one copy of each kind of :mod:`shashin.frame_copies` (cropped to 16:9, 1:1,
4:5 and 9:16, cropped off-centre, straightened, in a print border or a coloured frame, inside a phone
screenshot, a slide or a collage, captioned like a meme, filtered), scanned by shashin-hash and grouped by
shashin-group. How often each kind is found over many photos is benchmarks/bench_accuracy.py's
(docs/accuracy.md); here each kind is shown to be found at all, and two framings of one scene, each showing
parts the other lacks, stay apart.
"""

import random

import numpy
import pytest
from wand.image import Image

from conftest import SAMPLES, json_lines, run
from shashin import frame_copies, hamming, similarity

#: The copies made of the photo, by kind; each kind's random parameters come from this seed.
SEED = 3
#: Kinds whose layout many photos share (a deck's slides, an app's collages): the other photo is put in them too.
TEMPLATES = ("slide", "collage")


def cut(source, target, left, top, width, height):
    with Image(filename=str(SAMPLES / source)) as image:
        image.crop(left, top, width=width, height=height)
        image.format = "jpeg"
        image.save(filename=str(target))
    return target


@pytest.fixture(scope="module")
def grouped(tmp_path_factory):
    """``{file name: group id}`` of the photo, its copies, another framing of the scene and another photo, and
    the other photo in the same slide and collage as the photo's (one template, the same side tiles)."""
    folder = tmp_path_factory.mktemp("frames") / "Pictures"
    folder.mkdir()
    original = cut("coffee.png", folder / "photo.jpg", 0, 0, 480, 360)
    # The same scene framed again 120 px to the right: a fifth of each shows what the other lacks.
    cut("coffee.png", folder / "another-framing.jpg", 120, 40, 480, 360)
    another = cut("astronaut.png", folder / "another-photo.jpg", 0, 64, 480, 360)
    fillers = [SAMPLES / name for name in ("color.png", "text.png", "logo.png")]
    for photo, prefix, kinds in ((original, "", frame_copies.KINDS), (another, "another-", TEMPLATES)):
        with Image(filename=str(photo)) as image:
            for number, kind in enumerate(frame_copies.KINDS):
                if kind in kinds:
                    with frame_copies.make(kind, image, SEED * 100 + number, fillers) as copy:
                        copy.format = "jpeg"
                        copy.save(filename=str(folder / (prefix + kind + ".jpg")))
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
    assert grouped.get("another-photo.jpg") != grouped["photo.jpg"]


@pytest.mark.parametrize("kind", TEMPLATES)
def test_another_photo_in_the_same_template_stays_apart(grouped, kind):
    # The same title and bullets, or the same side tiles: only the photo differs.
    assert grouped.get("another-" + kind + ".jpg") != grouped["photo.jpg"]


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


def test_two_photos_on_slides_of_one_template_stay_apart(tmp_path):
    # The same background, title and bullets at the same places: only the photos differ (a deck's slides).
    folder = tmp_path / "Pictures"
    folder.mkdir()
    for source in ("rocket.jpg", "hubble_deep_field.jpg"):
        with Image(filename=str(cut(source, folder / source, 0, 0, 480, 360))) as image:
            with frame_copies.make("slide", image, 1) as copy:
                copy.format = "jpeg"
                copy.save(filename=str(folder / ("slide-" + source)))
    db = tmp_path / "shashin.db"
    run("shashin-hash", "--db", db, "-q", folder, check=0)
    groups = json_lines(run("shashin-group", "--db", db, check=0).stdout)
    assert not any(
        {"slide-rocket.jpg", "slide-hubble_deep_field.jpg"} <= {p.rsplit("/", 1)[1] for p in g["paths"]} for g in groups
    )


@pytest.mark.parametrize("seed", [1, 43, 49])
def test_a_collage_whose_photo_is_smaller_than_the_tile_beside_it_joins_the_photo(tmp_path, seed):
    # The photo covers about 40% of the collage and one tile the rest: the tile is the largest block, the photo
    # the second (regions.content_boxes).
    folder = tmp_path / "Pictures"
    folder.mkdir()
    photo = cut("coffee.png", folder / "photo.jpg", 0, 0, 480, 360)
    fillers = [SAMPLES / name for name in ("color.png", "text.png", "logo.png")]
    with Image(filename=str(photo)) as image, frame_copies.collage(image, random.Random(seed), fillers) as copy:
        assert copy.width > 2.2 * image.width
        copy.format = "jpeg"
        copy.save(filename=str(folder / "collage.jpg"))
    db = tmp_path / "shashin.db"
    run("shashin-hash", "--db", db, "-q", folder, check=0)
    groups = json_lines(run("shashin-group", "--db", db, check=0).stdout)
    assert [sorted(path.rsplit("/", 1)[1] for path in group["paths"]) for group in groups] == [
        ["collage.jpg", "photo.jpg"]
    ]


def rgb_of(name, width, height):
    with Image(filename=str(SAMPLES / name)) as image:
        image.transform_colorspace("srgb")
        image.transform(resize="{}x{}^".format(width, height))
        image.crop(width=width, height=height, gravity="center")
        pixels = numpy.frombuffer(bytes(image.export_pixels(channel_map="RGB", storage="char")), numpy.uint8)
    return pixels.reshape(height, width, 3).astype(numpy.float32)


def save_rgb(pixels, path):
    pixels = numpy.clip(pixels, 0, 255).astype(numpy.uint8)
    height, width = pixels.shape[:2]
    with Image(width=width, height=height) as image:
        image.import_pixels(width=width, height=height, channel_map="RGB", storage="char", data=pixels.tobytes())
        image.format = "jpeg"
        image.save(filename=str(path))


@pytest.mark.parametrize("photo, texture", [("rocket.jpg", "gravel.png"), ("chelsea.png", "gravel.png")])
def test_a_photo_pasted_over_a_plain_part_of_another_stays_apart_from_it(tmp_path, photo, texture):
    # H: a photo beside a plain wall; T: H with the texture photo Q pasted over the wall. T's views match H's
    # (the wall has no gradients to disagree with), and Q lies inside T: T is a copy of both, but H's crop must
    # not be placed in T through H, where T holds what H lacks (an outside review's reproduction).
    folder = tmp_path / "Pictures"
    folder.mkdir()
    wall = numpy.linspace(140, 200, 270, dtype=numpy.float32)[None, :, None] * numpy.ones((480, 1, 3), numpy.float32)
    wall += numpy.linspace(-15, 15, 480, dtype=numpy.float32)[:, None, None]
    with_wall = numpy.concatenate([wall, rgb_of(photo, 370, 480)], axis=1)
    grain = rgb_of(texture, 270, 480)
    pasted = wall + grain - grain.mean()
    stickered = with_wall.copy()
    stickered[:, :270] = pasted
    for pixels, name in ((with_wall, "H.jpg"), (stickered, "T-sticker.jpg"), (pasted, "Q-texture.jpg")):
        save_rgb(pixels, folder / name)
    with Image(filename=str(folder / "H.jpg")) as image, frame_copies.make("aspect_16x9", image, 11) as crop:
        crop.format = "jpeg"
        crop.save(filename=str(folder / "H-crop.jpg"))
    db = tmp_path / "shashin.db"
    run("shashin-hash", "--db", db, "-q", folder, check=0)
    groups = json_lines(run("shashin-group", "--db", db, check=0).stdout)
    together = [{path.rsplit("/", 1)[1] for path in group["paths"]} for group in groups]
    assert not any(
        {"Q-texture.jpg", "H.jpg"} <= names or {"Q-texture.jpg", "H-crop.jpg"} <= names for names in together
    )


def test_pairs_beyond_the_threshold_are_each_contents_nearest_and_those_within_all_kept(monkeypatch):
    # Pictures of one layout meet 6 to 10 bits apart so often that, kept all, the pairs grow with the square
    # of the library: each content keeps its SLACK_NEIGHBOURS nearest beyond the threshold.
    rng = numpy.random.default_rng(5)
    count, base = 300, rng.integers(0, 2**64, dtype=numpy.uint64)

    def flipped(bits):
        return base ^ numpy.uint64(sum(1 << int(bit) for bit in rng.choice(64, bits, replace=False)))

    prints = rng.integers(0, 2**64, (count, similarity.WIDTH), dtype=numpy.uint64)
    # Every content's soft hash of the whole, and one region, 3 or 4 bits from one layout's hash: 6 to 8 apart.
    for row in prints:
        row[similarity.SOFT_COLUMN] = flipped(3)
        row[similarity.REGION_COLUMNS[0]] = flipped(4)
    prints[1, similarity.REGION_COLUMNS[0]] = prints[0, similarity.SOFT_COLUMN] ^ numpy.uint64(0b111)
    a, b, _, distance = similarity.candidate_pairs(prints, 5)
    beyond = distance > 5
    bound = similarity.SLACK_NEIGHBOURS * count
    assert 0 < beyond.sum() <= bound
    assert (0, 1) in set(zip(a[~beyond].tolist(), b[~beyond].tolist()))
    monkeypatch.setattr(similarity, "SLACK_NEIGHBOURS", count)
    assert (similarity.candidate_pairs(prints, 5)[3] > 5).sum() > 2 * bound
