"""Multi-index Hamming search over 64-bit hashes: every pair within a threshold, never all pairs.

numpy alone: the hashes in, index arrays of the close pairs out.
"""

import math

import numpy

#: Default candidate radius in bits: the widest with no false pair in docs/accuracy.md,
#: and as cheap to search as 4 (three 21-22 bit chunks, one bit of slack each).
DEFAULT_HASH_DISTANCE = 5
#: Bits of the widest chunk the multi-index search will index with a direct table.
MAX_TABLE_BITS = 22
#: Candidate pairs a block of the Hamming search handles at once (about 30 bytes each).
CANDIDATES_PER_BLOCK = 2_000_000


def hamming_search(index, queries, threshold, beyond=None):
    """Every ``(query i, index j, distance)`` with Hamming distance at most ``threshold``, as arrays.

    Multi-index hashing: the 64 bits are cut into m chunks; two hashes within t bits
    agree within ``t // m`` bits on at least one chunk (pigeonhole), so each query only
    meets index entries whose chunk is one of its few neighbours there, looked up in a
    table of bucket offsets. m is chosen to make the expected work smallest.

    ``beyond`` (more than threshold) also keeps the pairs within that many bits that the
    same lookups meet: some of them, at no cost in lookups.
    """
    parts = []
    for query, entry, distance in _close_pairs(index, queries, threshold, upward=False, beyond=beyond):
        # A pair close on several chunks is found once per chunk.
        _, first = numpy.unique(query * len(index) + entry, return_index=True)
        parts.append((query[first], entry[first], distance[first]))
    return _joined(parts)


def hamming_pairs(hashes, threshold, beyond=None):
    """Every ``(i, j, distance)`` with i < j and distance at most ``threshold`` among ``hashes``.

    A self-join: a pair whose chunks differ is only looked up from the hash with the
    smaller chunk, which halves the lookups of :func:`hamming_search`. ``beyond`` as there.
    """
    parts = []
    for query, entry, distance in _close_pairs(hashes, hashes, threshold, upward=True, beyond=beyond):
        other = query != entry
        parts.append((numpy.minimum(query, entry)[other], numpy.maximum(query, entry)[other], distance[other]))
    a, b, distance = _joined(parts)
    _, first = numpy.unique(a * len(hashes) + b, return_index=True)
    return a[first], b[first], distance[first]


def _close_pairs(index, queries, threshold, upward, beyond=None):
    """Per block of queries, ``(query, entry, distance)`` of the close pairs, with repeats."""
    index = numpy.ascontiguousarray(index, numpy.uint64)
    queries = numpy.ascontiguousarray(queries, numpy.uint64)
    if not len(index) or not len(queries):
        return
    plan = _plan(len(index), len(queries) // (2 if upward else 1), threshold)
    tables = [_ChunkTable(index, shift, bits, masks) for shift, bits, masks in plan]
    # Blocks of about CANDIDATES_PER_BLOCK candidate pairs bound the memory of a search.
    per_query = sum(len(masks) * (1 + len(index) / 2**bits) for _, bits, masks in plan)
    block = int(min(max(CANDIDATES_PER_BLOCK / per_query, 1024), 1 << 16))
    for start in range(0, len(queries), block):
        chunk = queries[start : start + block]
        pairs = [table.candidates(chunk, upward) for table in tables]
        query = numpy.concatenate([q for q, _ in pairs])
        entry = numpy.concatenate([e for _, e in pairs]).astype(numpy.int64)
        distance = numpy.bitwise_count(chunk[query] ^ index[entry]).astype(numpy.int64)
        close = distance <= max(threshold, beyond or 0)
        yield query[close] + start, entry[close], distance[close]


def _joined(parts):
    if not parts:
        return tuple(numpy.array([], numpy.int64) for _ in range(3))
    return tuple(numpy.concatenate(column) for column in zip(*parts))


def _plan(index_size, query_count, threshold):
    """Chunks ``(shift, bits, masks)`` of the cheapest multi-index layout for this search."""
    best = None
    for count in range(math.ceil(64 / MAX_TABLE_BITS), 65):
        widths = [64 // count + (1 if i < 64 % count else 0) for i in range(count)]
        radius = threshold // count
        variants = sum(math.comb(widths[0], k) for k in range(radius + 1))
        cost = count * (query_count * variants * (1 + index_size / 2 ** widths[-1]) + 2 ** widths[0])
        if best is None or cost < best[0]:
            best = (cost, widths, radius)
    _, widths, radius = best
    chunks, shift = [], 0
    for bits in widths:
        chunks.append((shift, bits, _masks(bits, radius)))
        shift += bits
    return chunks


def _masks(bits, radius):
    """Every bit mask over ``bits`` bits with at most ``radius`` bits set."""
    masks = [0]
    for _ in range(radius):
        masks = sorted(set(masks) | {mask | (1 << bit) for mask in masks for bit in range(bits)})
    return numpy.array(masks, numpy.uint64)


class _ChunkTable:
    """Index entries bucketed by one chunk of their bits (a counting sort)."""

    def __init__(self, index, shift, bits, masks):
        self.shift, self.mask = numpy.uint64(shift), numpy.uint64((1 << bits) - 1)
        self.variants = masks.astype(numpy.int32)
        keys = self._keys(index)
        self.order = numpy.argsort(keys, kind="stable").astype(numpy.int32)
        # bounds[k]:bounds[k + 1] are the entries with key k; int32 keeps the table small.
        self.bounds = numpy.zeros((1 << bits) + 1, numpy.int32)
        numpy.cumsum(numpy.bincount(keys, minlength=1 << bits), out=self.bounds[1:])

    def _keys(self, hashes):
        return ((hashes >> self.shift) & self.mask).astype(numpy.int32)

    def candidates(self, queries, upward=False):
        """``(query, entry)`` for every entry whose chunk is a neighbour of the query's chunk.

        upward: only neighbours with a larger chunk (and equal ones); the others meet
        this query when they are the query.
        """
        keys = self._keys(queries)[:, None]
        neighbours = (keys ^ self.variants[None, :]).ravel()
        if upward:
            slot = numpy.flatnonzero(neighbours >= keys.repeat(len(self.variants)))
            neighbours = neighbours[slot]
        else:
            slot = numpy.arange(len(neighbours))
        low = self.bounds[neighbours]
        count = self.bounds[neighbours + 1] - low
        # Buckets hold a few entries: expand them a rank at a time.
        hit = numpy.flatnonzero(count)
        slot, low, count = slot[hit], low[hit], count[hit]
        query, entry = [], []
        rank = 0
        while len(slot):
            query.append(slot // len(self.variants))
            entry.append(self.order[low + rank])
            rank += 1
            more = count > rank
            slot, low, count = slot[more], low[more], count[more]
        if not query:
            return numpy.array([], numpy.int64), numpy.array([], numpy.int32)
        return numpy.concatenate(query), numpy.concatenate(entry)
