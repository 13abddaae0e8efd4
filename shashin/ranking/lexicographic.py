"""A person's ordered preference read from their decisions: the criteria, one after another, that they follow.

"Keep the copy in Camera/, else the largest file" is an ordered list of criteria, and a person who
follows one is told by it exactly. A few decisions fit many orders, which disagree on the groups not
decided yet, so the learner does not pick one: it weighs them (:func:`weigh`). An order's weight is how
likely it makes the decisions (a person follows their order but in ``NOISE`` of their decisions, taken
at random; of copies it leaves tied that look the same, the first a file manager lists, :func:`listed_first`;
other copies it leaves tied are a draw) times how likely a person is to say
it (each kind of criterion as likely as another, then each of its kind; a longer order is a product of
more of them). A beam search finds the heaviest orders, and a group's keeper is the copy the weighed
orders choose most (:func:`vote`). A criterion compares two copies by a number of each, larger
preferred: one of the facts the trees compare (file size, pixels, capture time...) either way round, a
format, a folder (by its path), a word of the folders or the name, having it or not, a long edge at least
N px (N between two long edges seen), the camera's evidence, or the rule's order.

The members are given as the learner's flattened groups (``model._Members``): their facts as
``numbers`` (the columns of ``model.FACTS``, then the camera's evidence), ``formats``, ``words``,
``rule_position`` and ``listing`` (each one's place in name order and which look the same).
"""

import collections
import os
from typing import NamedTuple

import numpy as np

#: The share of their decisions a person takes at random (a slip, a whim), not by their order.
NOISE = 0.05
#: How much likelier a person is to say a long edge one significant digit shorter: 800 px than 760.
ROUNDER = 4
#: The search: criteria in an order at most, orders extended at each step, orders weighed in the end.
#: (Once ranked by their promise, 100 orders extended did no better than 50, in twice the time: docs/ranking.md.)
MAX_CRITERIA, WIDTH, KEPT = 5, 50, 100
#: A name mark's word among a member's words ("name:" and the name's "mark:...", :data:`.rule.NAME_MARKS`).
MARK = "name:mark:"
#: A folder's word among a member's words: "folder:" and its absolute path, for it and every folder above it.
FOLDER = "folder:"
#: How a name mark is said, for a copy that has it and for one that has not.
MARK_WORDS = {
    "camera": ("a camera's name", "not a camera's name"),
    "edit": ("an edit's name", "not an edit's name"),
    "web": ("a web copy's name", "not a web copy's name"),
    "messenger": ("a messenger's name", "not a messenger's name"),
    "upscaler": ("an upscaler's name", "not an upscaler's name"),
}


class Criterion(NamedTuple):
    """``kind``: "fact" (argument: a column of numbers), "tie" (a column a person falls back on where their
    other criteria leave copies tied: it only extends an order), "capture" (a dated copy first, then the
    earlier (direction 1) or later (-1)), "format", "word", "mark" (a name mark), "folder" (argument: its
    path), "long edge" (argument: at least this many px), "evidence", "rule";
    ``direction``: 1 when more is preferred, -1 when less."""

    kind: str
    argument: object
    direction: int


def values(flat, criterion, facts):
    """Each member's number under a criterion, larger preferred (-inf: last, tied with other -inf)."""
    kind, argument, direction = criterion
    numbers = flat.numbers
    if kind in ("fact", "tie"):
        value = numbers[:, argument]
    elif kind == "capture":
        dated = numbers[:, facts.index("capture date")] > 0
        # The column is minus the capture time: earlier is more.
        return np.where(dated, direction * numbers[:, facts.index("capture time")], -np.inf)
    elif kind == "format":
        value = np.array([file_format == argument for file_format in flat.formats], dtype=float)
    elif kind in ("word", "mark", "folder"):
        word = {"mark": MARK, "folder": FOLDER}.get(kind, "") + argument
        value = np.array([word in words for words in flat.words], dtype=float)
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
    a format, a folder (by its path), a word of the folders or the name, a name mark, a long edge of at least
    N px; and the ties', what a person falls back on where the others leave copies tied: the larger or
    smaller file, the older or newer, the shorter or longer path, name order. A wider choice (every fact
    either way, each of the camera's evidence) lets more orders explain a few decisions by accident
    (docs/ranking.md). In the order in which one is said over another that the decisions cannot tell from it
    (of two orders as heavy, the heaviest said is the first met): the rule first (the person's own, or the
    camera original's), the ties' last."""
    said = [facts.index(fact) for fact in ("file size", "pixels", "metadata tags", "edited", "file time")]
    # The first of the camera's evidence, after the facts: its make and model.
    said.append(len(facts))
    ties = [facts.index(fact) for fact in ("path length", "name order", "file size", "file time")]
    # The rule's order, not against it: its reverse ("the least camera evidence, the fewest pixels...") is no
    # one's preference, and where it only happens to follow one ("the smallest file"), that one is said instead.
    found = [Criterion("rule", None, 1)] + [Criterion("evidence", None, direction) for direction in (1, -1)]
    found += [Criterion("capture", None, direction) for direction in (1, -1)]
    found += [Criterion("fact", column, direction) for column in said for direction in (1, -1)]
    found += [Criterion("format", name, d) for name in sorted(set(decisions.formats)) for d in (1, -1)]
    plain = [word for word in words if not word.startswith(MARK) and not is_folder(word)]
    found += [Criterion("word", word, d) for word in plain for d in (1, -1)]
    found += [Criterion("mark", word[len(MARK) :], d) for word in words if word.startswith(MARK) for d in (1, -1)]
    found += [Criterion("folder", folder, d) for folder in _folders_said(decisions, words, facts) for d in (1, -1)]
    edges = np.unique(decisions.numbers[:, facts.index("long edge")]).tolist()
    found += [Criterion("long edge", roundest(a, b), d) for a, b in zip(edges, edges[1:]) for d in (1, -1)]
    found += [Criterion("tie", column, direction) for column in ties for direction in (1, -1)]
    return found


def roundest(low, high):
    """The threshold a person says of those between two long edges seen, which all part these copies the same:
    the roundest number above ``low`` and up to ``high`` ("at least 800 px", not 763), the fewest significant
    digits, and of those the nearest the middle."""
    middle = (low + high) / 2
    for digits in range(1, 16):
        found = []
        for power in range(16):
            step, limit = 10**power, min(high, 10 ** (power + digits) - 1)
            found += range((int(low) // step + 1) * step, int(limit) + 1, step)
        if found:
            return float(min(found, key=lambda number: abs(number - middle)))
    return middle


def _folders_said(decisions, words, facts):
    """The folders (paths) among words that part the decided copies otherwise than any folder word: of "in
    ~/2019/Originals/" and the word "originals", which part the same copies, a person says the word, which
    also holds in ~/2020/Originals/."""
    parts = {values(decisions, Criterion("word", word, 1), facts).tobytes() for word in words if is_folder_word(word)}
    folders = [word[len(FOLDER) :] for word in words if is_folder(word)]
    return [
        folder for folder in folders if values(decisions, Criterion("folder", folder, 1), facts).tobytes() not in parts
    ]


def is_folder_word(word):
    """Whether a member's word is a word of its folders ("folder:whatsapp"), not a folder's path."""
    return word.startswith(FOLDER) and not is_folder(word)


def is_folder(word):
    """Whether a member's word is a folder's path (the folder words are words: letters only)."""
    return word.startswith(FOLDER + os.sep)


def table(flat, criteria, facts, start=0):
    """Each member's number under each criterion: a (criteria x members) array, of the members from start on."""
    if not criteria:
        return np.zeros((0, len(flat.members) - start))
    return np.stack([values(flat, criterion, facts)[start:] for criterion in criteria])


class Weighed(NamedTuple):
    """An order (``rows``: indexes of its criteria) and its weight among the orders weighed, which sum to 1."""

    rows: tuple
    weight: float


def log_prior(found):
    """How likely a person is to say each criterion (log): every kind as likely as another (each fact is a
    kind of its own), then every criterion of its kind, but a long edge the likelier the rounder its threshold
    (:data:`ROUNDER`); so a word among a hundred seen is not more likely than the file size just because there
    are more words. A tie's criterion is not one of the kinds: whatever
    their order, a person keeps one of two copies their criteria leave tied somehow, so only which tie's is
    chosen."""
    kinds = [(criterion.kind, criterion.argument if criterion.kind == "fact" else None) for criterion in found]
    counts = collections.Counter(kinds)
    said = len(counts) - (("tie", None) in counts)
    within = np.array([-np.log(counts[k]) for k in kinds])
    edges = np.array([criterion.kind == "long edge" for criterion in found])
    if edges.any():
        roundness = -np.log(ROUNDER) * np.array([_digits(c.argument) for c in found if c.kind == "long edge"])
        within[edges] = roundness - np.log(np.exp(roundness).sum())
    return within - np.array([0 if k[0] == "tie" else np.log(said) for k in kinds])


def _digits(number):
    """A threshold's significant digits (16 for one that is not a whole number)."""
    return len(str(int(number)).rstrip("0")) if number == int(number) and number > 0 else 16


def tops(key_table, mask, starts):
    """For each criterion (row), the members it puts first among those of mask in their group (or for one
    criterion, the members it puts first among those of each row of mask)."""
    group_of = np.repeat(np.arange(len(starts)), np.diff(np.append(starts, key_table.shape[1])))
    integers = np.issubdtype(key_table.dtype, np.integer)
    masked = np.where(mask, key_table, np.iinfo(key_table.dtype).min if integers else -np.inf)
    best = np.maximum.reduceat(masked, starts, axis=1)
    return (masked == best[:, group_of]) & mask


def ranks(key_table):
    """Each row's numbers replaced by their places among the row's values (int32): a criterion puts the same
    members first by either, and numpy finds a group's largest small integer twice as fast as its largest float."""
    order = np.argsort(key_table, axis=1, kind="stable")
    ordered = np.take_along_axis(key_table, order, axis=1)
    places = np.zeros(key_table.shape, dtype=np.int32)
    np.cumsum(ordered[:, 1:] != ordered[:, :-1], axis=1, out=places[:, 1:])
    ranked = np.empty_like(places)
    np.put_along_axis(ranked, order, places, axis=1)
    return ranked


def group_sums(flags, starts):
    """Each row's count of flags in each group (the groups' members starting at starts)."""
    running = np.cumsum(flags, axis=1, dtype=np.int32)
    ends = np.append(starts[1:], flags.shape[1])[: len(starts)] - 1
    return np.diff(running[:, ends], axis=1, prepend=0)


def listed_first(chosen, listing):
    """Of the copies that look the same among those each row of chosen puts first in their group, the one a file
    manager lists first: what a person keeps of copies nothing tells apart. ``listing``: each member's place in
    name order (larger: listed first) and its look (an id shared by the copies of a group that look the same)."""
    listed, looks = listing
    # Only copies that share their look with another can be set aside.
    _, inverse, counts = np.unique(looks, return_inverse=True, return_counts=True)
    shared = np.flatnonzero(counts[inverse] > 1)
    if not len(shared):
        return chosen
    by_look = shared[np.argsort(looks[shared], kind="stable")]
    sorted_looks = looks[by_look]
    starts = np.flatnonzero(np.r_[True, sorted_looks[1:] != sorted_looks[:-1]])
    first = chosen.copy()
    first[:, by_look] = tops(listed[by_look][None], chosen[:, by_look], starts)
    return first


def _log_likelihood(chosen, kept, starts, sizes, listing):
    """How likely each row of chosen (members an order puts first) makes the decisions kept, where of the copies
    it chose that look the same a person keeps the first listed (:func:`listed_first`)."""
    chosen = listed_first(chosen, listing)
    first, hits = group_sums(chosen, starts), group_sums(chosen & kept, starts)
    at_random = NOISE / sizes
    return np.log(np.where(hits > 0, (1 - NOISE) / np.maximum(first, 1) + at_random, at_random)).sum(axis=1)


def weigh(key_table, kept, starts, found, listing):
    """The heaviest orders of the criteria ``found`` (rows of key_table, over the decided groups' members
    starting at starts), for the decisions ``kept`` (each member's flag), heaviest first; ``listing``: the
    members' place in name order and look (:func:`listed_first`).

    A beam search: each of the WIDTH most promising orders is extended by every criterion that parts members
    it leaves tied, up to MAX_CRITERIA criteria; the KEPT heaviest orders met are weighed against each other.
    An order's promise is its weight, or, if that is more, its weight once completed by the tie's criterion
    that best completes the order it extends (:func:`_completed_gains`). Only the groups an order leaves tied
    are looked at to extend it. A tie's criterion only extends an order: it tells apart what a person's
    criteria leave tied, it is no one's preference.
    """
    sizes = np.diff(np.append(starts, key_table.shape[1]))
    key_table = ranks(key_table)
    prior = log_prior(found)
    said = np.array([criterion.kind != "tie" for criterion in found], dtype=bool)
    # The file's size and time are a kind a person says and ties' criteria both: after the first criterion, as
    # ties only, or each order they extend would be weighed twice.
    ties = {(criterion.argument, criterion.direction) for criterion in found if criterion.kind == "tie"}
    first_only = np.array([c.kind == "fact" and (c.argument, c.direction) in ties for c in found], dtype=bool)
    tie_rows = np.flatnonzero(~said)
    tie_table, tie_prior = key_table[tie_rows], prior[tie_rows]
    everything = np.ones(key_table.shape[1], dtype=bool)
    beam = [((), everything, float(_log_likelihood(everything[None], kept, starts, sizes, listing)[0]))]
    met = {(): beam[0][2]}
    for step in range(MAX_CRITERIA):
        extended, parted = [], []
        for order, mask, weight in beam:
            tied = group_sums(mask[None], starts)[0] > 1
            members, tied_sizes = np.repeat(tied, sizes), sizes[tied]
            tied_starts = np.cumsum(tied_sizes) - tied_sizes
            order_here = mask[members]
            chosen = tops(key_table[:, members], order_here, tied_starts)
            parting = np.flatnonzero((chosen != order_here).any(axis=1) & (~first_only if order else said))
            decided, tied_listing = kept[members], listing[:, members]
            tied_groups = (decided, tied_starts, tied_sizes, tied_listing)
            before = _log_likelihood(order_here[None], *tied_groups)[0]
            extensions = chosen[parting]
            gains = _log_likelihood(extensions, *tied_groups) - before + prior[parting]
            # An extension is ranked by what it would weigh completed by a tie's criterion, if that is more: a
            # criterion that decides a few groups before the tie's that decides most ("not edited, long edge at
            # least 700 px, then the oldest file") gains little until then, and orders that the tie's criterion
            # completes at once filled the beam before it. The last step's orders are not extended.
            promise = gains
            if step < MAX_CRITERIA - 1:
                ties_here = tie_table[:, members]
                completed = _completed_gains(ties_here, tie_prior, order_here, extensions, tied_groups, before)
                promise = np.maximum(gains, completed + prior[parting])
            # No more than WIDTH extensions of one order can be among the WIDTH most promising: only theirs are kept.
            best = np.argsort(-promise, kind="stable")[:WIDTH]
            parted.append((members, chosen[parting[best]]))
            index = len(parted) - 1
            extended.extend(
                (weight + promise[k], weight + gains[k], index, place, int(parting[k])) for place, k in enumerate(best)
            )
        extended.sort(key=lambda candidate: -candidate[0])
        next_beam = []
        for _, weight, index, place, row in extended[:WIDTH]:
            rows, mask, _ = beam[index]
            members, chosen = parted[index]
            longer = mask.copy()
            longer[members] = chosen[place]
            next_beam.append((rows + (row,), longer, weight))
            met[rows + (row,)] = weight
        beam = next_beam
    heaviest = sorted(met.items(), key=lambda item: -item[1])[:KEPT]
    weights = np.exp(np.array([weight for _, weight in heaviest]) - heaviest[0][1])
    return [Weighed(rows, float(weight)) for (rows, _), weight in zip(heaviest, weights / weights.sum())]


def _completed_gains(tie_table, tie_prior, mask, chosen, tied_groups, before):
    """For each extension (a row of chosen: the members it puts first) of an order (mask, under which the
    decisions' log-likelihood is ``before``), how much likelier it makes the decisions, completed by the tie's
    criterion (a row of tie_table, its log prior in tie_prior) that best completes the order itself.
    ``tied_groups``: the decisions (kept, starts, sizes, listing) of the groups the order leaves tied."""
    if not len(tie_table):
        return np.full(len(chosen), -np.inf)
    completions = tops(tie_table, mask, tied_groups[1])
    tie = int(np.argmax(_log_likelihood(completions, *tied_groups) + tie_prior))
    completed = tops(tie_table[tie][None], chosen, tied_groups[1])
    return _log_likelihood(completed, *tied_groups) - before + tie_prior[tie]


def heaviest(weighed):
    """The rows of the heaviest order that prefers something (the empty order, no preference, may weigh more)."""
    return next((rows for rows, _ in weighed if rows), ())


def choices(key_table, weighed, starts, listing):
    """For each order weighed, the members it puts first in their group (each criterion's choice over
    the choice of the criteria before it, then the first listed of those that look the same), as rows of a
    bool array."""
    first = {(): np.ones(key_table.shape[1], dtype=bool)}
    for rows, _ in weighed:
        for length in range(1, len(rows) + 1):
            if rows[:length] not in first:
                row = rows[length - 1]
                first[rows[:length]] = tops(key_table[row : row + 1], first[rows[: length - 1]], starts)[0]
    chosen = np.array([first[rows] for rows, _ in weighed]).reshape(len(weighed), key_table.shape[1])
    return listed_first(chosen, listing)


def vote(chosen, weighed, starts):
    """Each member's share of the weighed orders' choice: the sum of the weights of the orders that put it
    first, each shared among the members it leaves tied."""
    weights = np.array([weight for _, weight in weighed])
    counts = group_sums(chosen, starts)
    sizes = np.diff(np.append(starts, chosen.shape[1]))
    return weights @ (chosen / np.repeat(counts, sizes, axis=1))


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
    if kind in ("fact", "tie"):
        return column_words[argument][0 if more else 1]
    if kind == "mark":
        return MARK_WORDS[argument][0 if more else 1]
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
    if kind == "folder":
        return "{}in {}/".format("" if more else "not ", argument)
    if kind == "long edge":
        return "long edge {} {:.0f} px".format("at least" if more else "under", argument)
    if kind == "evidence":
        return "more camera evidence" if more else "less camera evidence"
    return "the rule's order" if more else "against the rule's order"
