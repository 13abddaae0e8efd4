"""The multi-index Hamming search against numpy brute force: every pair it should find, once, and no other."""

import numpy
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shashin import hamming, similarity

#: The thresholds shashin-group accepts (--threshold).
THRESHOLDS = range(33)
#: Each search costs a few milliseconds: enough examples to shrink a failure, few enough to stay fast.
QUICK = settings(max_examples=15, deadline=None)


@st.composite
def hash_lists(draw, max_size=40):
    """64-bit values around a few bases: repeats, near pairs, far pairs, skewed bits.

    Hypothesis draws bases such as 0, 2**64 - 1 and small numbers (high bits all clear). Each
    value is a base with a few of its bits flipped (none: a repeat), or a base xor any 64 bits.
    """
    bases = draw(st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=4))
    few = st.sets(st.integers(0, 63), max_size=6).map(lambda bits: sum(1 << bit for bit in bits))
    flips = st.one_of(few, st.integers(0, 2**64 - 1))
    values = draw(st.lists(st.tuples(st.sampled_from(bases), flips), max_size=max_size))
    return numpy.array([base ^ mask for base, mask in values], numpy.uint64)


def distances(queries, index):
    return numpy.bitwise_count(queries[:, None] ^ index[None, :]).astype(numpy.int64)


def found(*columns):
    """The rows of a search's result as a set, after checking none is there twice."""
    rows = list(zip(*(column.tolist() for column in columns)))
    assert len(rows) == len(set(rows)), "a pair found twice"
    return set(rows)


def brute_search(index, queries, threshold):
    close = distances(queries, index)
    query, entry = numpy.nonzero(close <= threshold)
    return found(query, entry, close[query, entry])


def brute_pairs(hashes, threshold):
    close = distances(hashes, hashes)
    a, b = numpy.nonzero(numpy.triu(close <= threshold, k=1))
    return found(a, b, close[a, b])


def planted(threshold, rng, size=48):
    """Values with pairs at exactly threshold - 1, threshold and threshold + 1 bits, on skewed bits.

    Bits are set with probability 0.1, so unrelated values are nearer than uniform ones would be.
    """
    bases = numpy.packbits(rng.random((size // 4, 64)) < 0.1, axis=1).view(">u8")[:, 0].astype(numpy.uint64)
    values = [bases]
    for distance in (threshold - 1, threshold, threshold + 1):
        masks = [sum(1 << int(bit) for bit in rng.choice(64, max(distance, 0), replace=False)) for _ in bases]
        values.append(bases ^ numpy.array(masks, numpy.uint64))
    return rng.permutation(numpy.concatenate(values))


@pytest.mark.parametrize("threshold", THRESHOLDS)
def test_every_threshold_finds_exactly_the_pairs_within_it(threshold):
    hashes = planted(threshold, numpy.random.default_rng(threshold))
    assert found(*hamming.hamming_pairs(hashes, threshold)) == brute_pairs(hashes, threshold)
    queries = hashes[::3]
    assert found(*hamming.hamming_search(hashes, queries, threshold)) == brute_search(hashes, queries, threshold)


@QUICK
@given(hashes=hash_lists(), threshold=st.sampled_from(THRESHOLDS))
def test_pairs_within_one_set(hashes, threshold):
    assert found(*hamming.hamming_pairs(hashes, threshold)) == brute_pairs(hashes, threshold)


@QUICK
@given(index=hash_lists(), queries=hash_lists(max_size=12), threshold=st.sampled_from(THRESHOLDS))
def test_queries_against_an_index(index, queries, threshold):
    assert found(*hamming.hamming_search(index, queries, threshold)) == brute_search(index, queries, threshold)


def test_uniform_values_and_queries_in_several_blocks():
    # The search takes at least 1,024 queries a block: 2,500 make three.
    rng = numpy.random.default_rng(7)
    index = rng.integers(0, 2**64, 64, dtype=numpy.uint64)
    queries = numpy.concatenate([rng.integers(0, 2**64, 2500 - len(index), dtype=numpy.uint64), index])
    for threshold in (0, hamming.DEFAULT_HASH_DISTANCE, 24):
        assert found(*hamming.hamming_search(index, queries, threshold)) == brute_search(index, queries, threshold)


def turn(column):
    """The orientation a fingerprint column is of: the crop view is upright."""
    return 0 if column == similarity.CROP_COLUMN else column


def undoing(orientation):
    """The orientation that turns an image back, found by turning a 2x3 array both ways."""
    array = numpy.arange(6).reshape(2, 3)
    turned = similarity.orient(array, orientation)
    return next(o for o in range(8) if numpy.array_equal(similarity.orient(turned, o), array))


def brute_candidates(prints, threshold, rotations):
    """``{(a, b): distance}``, and for each pair the orientations of a that reach that distance."""
    columns = similarity.query_columns(prints.shape[1], rotations)
    best, orientations = {}, {}
    for a in range(len(prints)):
        for b in range(a + 1, len(prints)):
            # Column c of a against b upright turns a by c; column c of b against a upright turns a back.
            turns = [(turn(c), distances(prints[a, c : c + 1], prints[b, :1])[0, 0]) for c in columns]
            turns += [(undoing(turn(c)), distances(prints[b, c : c + 1], prints[a, :1])[0, 0]) for c in columns]
            closest = min(distance for _, distance in turns)
            if closest <= threshold:
                best[a, b] = closest
                orientations[a, b] = {c for c, distance in turns if distance == closest}
    return best, orientations


@QUICK
@given(
    values=hash_lists(max_size=72),
    threshold=st.sampled_from(THRESHOLDS),
    rotations=st.booleans(),
    width=st.sampled_from([1, similarity.CROP_COLUMN + 1]),
)
def test_candidate_pairs_with_and_without_rotations(values, threshold, rotations, width):
    prints = values[: len(values) // width * width].reshape(-1, width)
    a, b, orientation, distance = similarity.candidate_pairs(prints, threshold, rotations)
    best, orientations = brute_candidates(prints, threshold, rotations)
    assert found(a, b, distance) == {(x, y, d) for (x, y), d in best.items()}
    for x, y, o in zip(a.tolist(), b.tolist(), orientation.tolist()):
        assert o in orientations[x, y]


def test_turned_copies_are_found_with_the_turn_between_them():
    rng = numpy.random.default_rng(3)
    # Smooth random pictures (8x8 noise enlarged to 64x64) have a photo's dHash, not white noise's.
    views = rng.random((4, 8, 8)).repeat(8, axis=1).repeat(8, axis=2) * 255
    turned = numpy.array([similarity.orient(view, o) for view in views for o in range(similarity.ORIENTATIONS)])
    a, b, orientation, distance = similarity.candidate_pairs(similarity.fingerprints(turned), 0)
    between = {
        (x, y): next(o for o in range(8) if numpy.array_equal(similarity.orient(turned[x], o), turned[y]))
        for x in range(len(turned))
        for y in range(x + 1, len(turned))
        if x // 8 == y // 8
    }
    assert dict(zip(zip(a.tolist(), b.tolist()), orientation.tolist())) == between
    assert not distance.any()


@pytest.mark.parametrize("size", [0, 1, 2])
def test_tiny_and_empty_inputs(size):
    hashes = numpy.full(size, 0xF0F0F0F0F0F0F0F0, numpy.uint64)
    assert found(*hamming.hamming_pairs(hashes, 0)) == brute_pairs(hashes, 0)
    assert found(*hamming.hamming_search(hashes, hashes, 0)) == brute_search(hashes, hashes, 0)
    assert found(*hamming.hamming_search(hashes, hashes[:0], 5)) == set()
    assert [len(column) for column in similarity.candidate_pairs(numpy.zeros((size, 9), numpy.uint64), 5)] == [
        size * (size - 1) // 2
    ] * 4
