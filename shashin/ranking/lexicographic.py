"""A person's ordered preference read from their decisions: the criteria, one after another, that they follow.

"Keep the copy in Camera/, else the largest file" is an ordered list of criteria, and a person who
follows one is told by it exactly. From decided groups, the order is searched over the (kept, deleted)
pairs (:func:`choose`): criteria that decide many pairs the person's way and next to none against them,
one after another over the pairs the ones before left tied, the shortest order that explains the most
pairs. A criterion compares two copies by a number
of each, larger preferred: one of the facts the trees compare (file size, pixels, capture time...)
either way round, a format, a folder or name word, having it or not, a long edge at least N px (N
between two long edges seen), the camera's evidence, or the rule's order.

The members are given as the learner's flattened groups (``model._Members``): their facts as
``numbers`` (the columns of ``model.FACTS``, then the camera's evidence), ``formats``, ``words``
and ``rule_position``.
"""

from typing import NamedTuple

import numpy as np

#: How many pairs decided the person's way one pair decided against it outweighs: a criterion the person
#: follows is rarely against them (a mistaken decision), one that only goes with them often is often against.
PENALTY = 10
#: A criterion against the person in more than this share of the pairs it decides is not one they follow.
WRONG_SHARE = 0.05
#: The search: criteria in an order at most, orders kept at each step, criteria tried after each order.
MAX_CRITERIA, WIDTH, BRANCHES = 5, 20, 10
#: An order's cost: 1 for each pair it leaves tied, these for each pair it gets wrong and for each criterion.
WRONG_COST, LENGTH_COST = 3, 1


class Criterion(NamedTuple):
    """``kind``: "fact" (argument: a column of numbers), "capture" (a dated copy first, then the earlier
    (direction 1) or later (-1)), "format", "word", "long edge" (argument: at least this many px), "evidence",
    "rule"; ``direction``: 1 when more is preferred, -1 when less."""

    kind: str
    argument: object
    direction: int


def values(flat, criterion, facts):
    """Each member's number under a criterion, larger preferred (-inf: last, tied with other -inf)."""
    kind, argument, direction = criterion
    numbers = flat.numbers
    if kind == "fact":
        value = numbers[:, argument]
    elif kind == "capture":
        dated = numbers[:, facts.index("capture date")] > 0
        # The column is minus the capture time: earlier is more.
        return np.where(dated, direction * numbers[:, facts.index("capture time")], -np.inf)
    elif kind == "format":
        value = np.array([file_format == argument for file_format in flat.formats], dtype=float)
    elif kind == "word":
        value = np.array([argument in words for words in flat.words], dtype=float)
    elif kind == "long edge":
        value = (numbers[:, facts.index("long edge")] >= argument).astype(float)
    elif kind == "evidence":
        value = numbers[:, len(facts) :].sum(axis=1)
    else:
        value = -flat.rule_position.astype(float)
    return direction * value


def candidates(decisions, facts, words):
    """Every criterion the learner may choose from for these decided groups: those a person says, in keeper
    rules (shashin's, dupeGuru's re-prioritize list): the rule, the camera's evidence (more of it, or the
    make and model), the capture (earlier or later), the file's size, pixels, tags, edited, modified time,
    a format, a folder or name word, a long edge of at least N px, the path's length and name order. A wider
    choice (every fact either way) lets more orders explain a few decisions, and the learner picked the
    wrong one more often (docs/ranking.md). In the order in which one is taken over another that the
    decisions cannot tell from it: the rule first (the person's own, or the camera original's), last what
    only happens to go along (the path's length, name order)."""
    said = [facts.index(fact) for fact in ("file size", "pixels", "metadata tags", "edited", "file time")]
    # The first of the camera's evidence, after the facts: its make and model.
    said.append(len(facts))
    incidental = [facts.index(fact) for fact in ("path length", "name order")]
    # The rule's order, not against it: its reverse ("the least camera evidence, the fewest pixels...") is no
    # one's preference, and where it only happens to follow one ("the smallest file"), that one is said instead.
    found = [Criterion("rule", None, 1)] + [Criterion("evidence", None, direction) for direction in (1, -1)]
    found += [Criterion("capture", None, direction) for direction in (1, -1)]
    found += [Criterion("fact", column, direction) for column in said for direction in (1, -1)]
    found += [Criterion("format", name, d) for name in sorted(set(decisions.formats)) for d in (1, -1)]
    found += [Criterion("word", word, direction) for word in words for direction in (1, -1)]
    edges = np.unique(decisions.numbers[:, facts.index("long edge")])
    # Thresholds halfway between two long edges seen: the same split of these copies, the widest margin.
    found += [Criterion("long edge", float(e), d) for e in (edges[1:] + edges[:-1]) / 2 for d in (1, -1)]
    found += [Criterion("fact", column, direction) for column in incidental for direction in (1, -1)]
    return found


def table(flat, criteria, facts, start=0):
    """Each member's number under each criterion: a (criteria x members) array, of the members from start on."""
    if not criteria:
        return np.zeros((0, len(flat.members) - start))
    return np.stack([values(flat, criterion, facts)[start:] for criterion in criteria])


def pair_signs(key_table, first, second):
    """For each criterion (row) and pair: 1 if the pair's first member is preferred, -1 if the second, else 0."""
    with np.errstate(invalid="ignore"):
        # Two -inf are tied: nan, which is made 0.
        return np.nan_to_num(np.sign(key_table[:, first] - key_table[:, second]))


class _Order(NamedTuple):
    """A partial order being searched: its criteria (rows), the pairs it leaves tied, the pairs it gets wrong."""

    rows: tuple
    tied: np.ndarray
    wrong: int

    def cost(self):
        return int(self.tied.sum()) + WRONG_COST * self.wrong + LENGTH_COST * len(self.rows)


def choose(signs, found):
    """The rows of ``signs`` (criteria ``found`` over (kept, deleted) pairs), in the order a person follows them.

    A beam search over orders: each order is extended by the BRANCHES criteria that decide the most of its
    tied pairs the person's way (each against counting PENALTY times, none against in more than WRONG_SHARE
    of what it decides), the WIDTH cheapest orders are kept, and the cheapest order met is the answer. Its
    cost, the pairs it leaves tied, those it gets wrong and its length, prefers the shortest explanation of
    the decisions: a criterion that only goes along with the person's (a file size that happens to follow
    their folder) leaves pairs to explain with more criteria than theirs does.
    """
    right, against = signs > 0, signs < 0
    beam = [_Order((), np.ones(signs.shape[1], dtype=bool), 0)]
    best = beam[0]
    for _ in range(MAX_CRITERIA):
        extended = {}
        for order in beam:
            decides_right, decides_against = right[:, order.tied].sum(axis=1), against[:, order.tied].sum(axis=1)
            score = decides_right - PENALTY * decides_against
            followed = np.flatnonzero(
                (score > 0) & (decides_against <= WRONG_SHARE * (decides_right + decides_against))
            )
            for row in followed[np.argsort(-score[followed], kind="stable")[:BRANCHES]]:
                row = _middle_threshold(found, signs[:, order.tied], int(row))
                longer = _Order(
                    order.rows + (row,), order.tied & (signs[row] == 0), order.wrong + int(decides_against[row])
                )
                # Orders that leave the same pairs tied and wrong are one for what follows: the shortest is kept.
                key = (longer.tied.tobytes(), longer.wrong)
                if key not in extended or len(longer.rows) < len(extended[key].rows):
                    extended[key] = longer
        if not extended:
            break
        beam = sorted(extended.values(), key=_Order.cost)[:WIDTH]
        best = min(best, beam[0], key=_Order.cost)
    return list(best.rows)


def _middle_threshold(found, signs, best):
    """Of the long-edge thresholds that split the pairs exactly as the best one does, the middle one: they
    all lie between the same two long edges of these copies, and the middle one is furthest from both."""
    if found[best].kind != "long edge":
        return best
    alike = [
        row
        for row, criterion in enumerate(found)
        if criterion.kind == "long edge"
        and criterion.direction == found[best].direction
        and np.array_equal(signs[row], signs[best])
    ]
    return alike[len(alike) // 2]


def preference(key_table):
    """Each member's place under the criteria as one number, larger preferred (equal: tied in every one)."""
    if not len(key_table):
        return np.zeros(key_table.shape[1])
    return np.unique(key_table.T, axis=0, return_inverse=True)[1].reshape(-1).astype(float)


def deciding(criteria, key_table, index, other):
    """The first of the criteria in which member index differs from other (what decides between them), or None."""
    for row, criterion in enumerate(criteria):
        if key_table[row, index] != key_table[row, other]:
            return criterion
    return None


def describe(criterion, column_words):
    """A criterion in words: 'larger file', 'long edge at least 1200 px', 'folder word "camera"'.
    ``column_words``: the words for more and for less of each column of the members' numbers."""
    kind, argument, direction = criterion
    more = direction > 0
    if kind == "fact":
        return column_words[argument][0 if more else 1]
    if kind == "capture":
        return "earlier capture" if more else "later capture"
    if kind == "format":
        return argument if more else "not " + argument
    if kind == "word":
        where, word = argument.split(":", 1)
        if word.startswith("start:"):
            return '{} starting "{}"'.format("a name" if more else "no name", word[len("start:") :])
        if word == "(n)":
            return "{} copy counter in the name".format("a" if more else "no")
        return '{}{} word "{}"'.format("" if more else "no ", where, word)
    if kind == "long edge":
        return "long edge {} {:.0f} px".format("at least" if more else "under", argument)
    if kind == "evidence":
        return "more camera evidence" if more else "less camera evidence"
    return "the rule's order" if more else "against the rule's order"
