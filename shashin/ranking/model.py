"""The learned model of which copy a person keeps: pairwise signs, gradient-boosted trees, reasons, persistence.

A member is a row of the ``images`` table or a decision snapshot of one: a dict with
path, size, mtime, width, height, format, metadata (dict or JSON text), taken_at,
taken_at_source, make and model.

The model compares two copies of a group at a time. A pair is described by the signs of
the differences of its copies' facts (larger or smaller file, more pixels, earlier
capture, other format, folder and name words one has and the other lacks, the camera's
evidence, edited, the rule's order), plus each copy's long edge, so that a threshold
("at least 1200 px") can be learned. Gradient-boosted trees learn from every (kept,
deleted) pair which of the two is kept: an ordered preference ("the copy in Camera/,
else the largest") is a decision tree over such signs, which a linear model cannot
express. A member's keep probability is the product of its pairwise probabilities
against the others of its group, normalised over the group (for two members, exactly the
pairwise probability). Beside the trees, the order of criteria the decisions follow is read
(:mod:`.lexicographic`), from the same facts. The rule the model starts from is a parameter,
``positions`` (:func:`.rule.rule_positions`, or the person's own rules): its order is a feature
and a criterion; grouped cross-validation chooses what orders the groups: the trees, the learned
order, or the rule when neither beats it.
"""

import functools
import math
import os
import re

import joblib
import numpy as np
from lightgbm import LGBMClassifier
from sklearn.model_selection import GroupKFold

from ..formats import is_raw
from . import MIN_GROUPS, lexicographic, without_cycle_collector
from .rule import (
    camera_evidence,
    judged,
    judged_reason,
    name_marks,
    pixels,
    positions_of_keys,
    rule_positions,
    rule_reason,
)

#: Saved models of another version are trained again.
VERSION = 9
FOLDS = 5
#: The trees: boosting iterations, leaves per tree. Cross-validation chose 60 x 4 over 150 x 8 for three
#: people in four of the tuning population; one size halves the fits of each training.
TREES = (60, 4)
LEARNING_RATE = 0.2
#: A leaf holds at least this many pairs: few decisions still grow trees, and one odd decision does not.
MIN_LEAF = 3
#: L2 shrinkage of the leaves: with few decisions the trees would otherwise say 0.9999 (each of a few
#: consistent decisions pushes the log-odds up at every iteration), and accepting suggestions trusts them.
SHRINK = 1.0
#: The trees may order groups from this many decisions on. Before, cross-validation over a few decisions per
#: fold chose them by luck for one person in eight, who then did worse than under the learned orders
#: (docs/ranking.md).
TREES_FROM = 100
#: Cross-validation uses the latest decisions only, and the learned order is read from them, so that training
#: stays fast on a long history.
SELECTION_GROUPS = 3000
#: The orders are weighed on the latest decisions of those: past a few hundred, one order outweighs the rest.
ORDER_GROUPS = 500
#: Path words kept as features: the most frequent among those that differ within training pairs.
MAX_WORDS = 100
MAX_REASONS = 3
#: A criterion explains a ranking only if it moves the log-odds that a member wins its pair at least this much.
MIN_CONTRIBUTION = 0.1
#: Groups are ranked this many at a time, so that the pairs' features of 100,000 groups need not fit in memory.
CHUNK = 5000
LEARNING_CURVE = (5, 10, 20, 30, 50, 100, 200, 500, 1000, 2000, 5000)
FORMATS = ("JPEG", "HEIC", "PNG", "WEBP", "TIFF", "RAW", "GIF")
#: A member's facts compared within a pair by the sign of their difference, and the words of each direction.
FACTS = {
    "file size": ("larger file", "smaller file"),
    "pixels": ("more pixels", "fewer pixels"),
    "long edge": ("longer edge", "shorter edge"),
    "capture date": ("has a capture date", "no capture date"),
    "capture time": ("earlier capture", "later capture"),
    "metadata tags": ("more metadata", "less metadata"),
    "file time": ("older file", "newer file"),
    "path depth": ("deeper folder", "shallower folder"),
    "path length": ("longer path", "shorter path"),
    "edited": ("edited", "not edited"),
    "duration": ("longer clip", "shorter clip"),
    "bitrate": ("higher bitrate", "lower bitrate"),
    # As a file manager lists them, and dupeGuru's "Folder" and "Filename" criteria order them.
    "name order": ("first in name order", "later in name order"),
}
_EVIDENCE = tuple(camera_evidence({"path": ""}, {}))
_NUMBERS = len(FACTS) + len(_EVIDENCE)
_FACT_COLUMN = {fact: column for column, fact in enumerate(FACTS)}
_FACT_NAMES = list(FACTS)
_COLUMN_WORDS = list(FACTS.values()) + [(evidence, "no " + evidence) for evidence in _EVIDENCE]

_WORD = re.compile(r"[^\W\d_]+|\(\d+\)")
#: A name's first word ("IMG" of IMG_0001, "photo" of photo-IMG_0001), and a copy's counter at its end
#: ("IMG_0001-2", "IMG_0001 copy", "IMG_0001 (1)").
_FIRST_WORD = re.compile(r"^_?([^\W\d_]+)")
_COUNTER = re.compile(r"(\(\d+\)|[-_ ]\d{1,2}|[-_ ]copy(?: \d+)?)$")


# A member's facts


class _Members:
    """Groups of members flattened: sizes, offsets, the rule's positions, and each member's facts as arrays."""

    def __init__(self, groups, positions):
        self.groups = groups
        self.members = [member for members in groups for member in members]
        self.sizes = np.array([len(members) for members in groups], dtype=np.int64)
        self.starts = np.cumsum(self.sizes) - self.sizes
        self.group_of = np.repeat(np.arange(len(groups)), self.sizes)
        self.positions = positions
        tiers = [[0] * len(members) for members in groups]
        if positions is rule_positions:
            # The built-in rule's keys are read with the facts the model compares: read once.
            keys = [judgement.key for judgement in self._judged]
            ranked = [positions_of_keys(keys[start : start + size]) for start, size in zip(self.starts, self.sizes)]
        elif hasattr(positions, "places"):
            ranked, tiers = map(list, zip(*map(positions.places, groups))) if groups else ([], [])
        else:
            ranked = [positions(members) for members in groups]
        self.rule_position = np.array([p for positions_in_group in ranked for p in positions_in_group], dtype=np.int64)
        #: The person's keeper rules' own place of each member (0 without rules): what the learner orders within.
        self.tier = np.array([t for group_tiers in tiers for t in group_tiers], dtype=np.int64)
        self._word_columns = {}

    @functools.cached_property
    def _judged(self):
        return [judged(member) for member in self.members]

    @functools.cached_property
    def _facts(self):
        # Read only when the model compares members: the rule alone needs none of them.
        return [_facts(member, judgement) for member, judgement in zip(self.members, self._judged)]

    @functools.cached_property
    def numbers(self):
        numbers = np.array([n for n, _, _ in self._facts], dtype=float).reshape(len(self.members), _NUMBERS - 1)
        # A path's place in name order is among these members: an earlier path is "more".
        name_order = np.argsort(np.argsort([member["path"] for member in self.members], kind="stable"))
        return np.insert(numbers, _FACT_COLUMN["name order"], -name_order, axis=1)

    @functools.cached_property
    def listing(self):
        """Each member's place in name order (larger: listed first) and its look: an id shared by the copies of
        its group that look the same to a person, the same file size, pixels, long edge and format in the same
        place of their keeper rules (byte-identical copies, and a copy whose dates alone were rewritten). Of
        copies that look the same, a person keeps the first listed (:func:`.lexicographic.listed_first`)."""
        facts = self.numbers[:, [_FACT_COLUMN[fact] for fact in ("file size", "pixels", "long edge")]].tolist()
        places = zip(self.group_of.tolist(), self.tier.tolist(), facts, self.formats)
        seen = {}
        looks = [
            seen.setdefault((group, tier, *look, file_format), len(seen)) for group, tier, look, file_format in places
        ]
        return np.stack([self.numbers[:, _FACT_COLUMN["name order"]], np.array(looks, dtype=float)])

    @functools.cached_property
    def rows(self):
        """The numbers as lists, for reading one member at a time."""
        return self.numbers.tolist()

    @functools.cached_property
    def formats(self):
        return [file_format for _, file_format, _ in self._facts]

    @functools.cached_property
    def words(self):
        return [words for _, _, words in self._facts]

    def rule_reason(self, index, other):
        """The rule's criterion that puts member index before (or after) member other (:func:`.rule.rule_reason`),
        from what the built-in rule read of them, or the person's rules'."""
        if self.positions is rule_positions:
            return judged_reason(self._judged[index], self._judged[other])
        return getattr(self.positions, "reason", rule_reason)(self.members[index], self.members[other])

    @functools.cached_property
    def format_columns(self):
        """Each member's format as one-hot columns, in the order of :data:`FORMATS`."""
        return (np.array(self.formats, dtype=object)[:, None] == np.array(FORMATS, dtype=object)).astype(np.float32)

    def word_columns(self, vocabulary):
        """Each member's words among ``vocabulary`` (a tuple) as 0/1 columns, worked out once: ranking reads them
        for a chunk's pairs and again for its reasons, training for its pairs three ways."""
        if vocabulary not in self._word_columns:
            index = {word: i for i, word in enumerate(vocabulary)}
            columns = np.zeros((len(self.words), len(vocabulary)), dtype=np.float32)
            for row, member_words in enumerate(self.words):
                for word in member_words & index.keys():
                    columns[row, index[word]] = 1.0
            self._word_columns[vocabulary] = columns
        return self._word_columns[vocabulary]

    def pairs(self):
        """Every ordered pair of members within a group: index arrays (first, second), and where each
        pair's reverse is in them."""
        firsts, seconds, opposites, offset = [], [], [], 0
        for size in np.unique(self.sizes):
            starts = self.starts[self.sizes == size]
            a, b = np.nonzero(~np.eye(size, dtype=bool))
            place = np.zeros((size, size), dtype=np.int64)
            place[a, b] = np.arange(len(a))
            firsts.append((starts[:, None] + a).ravel())
            seconds.append((starts[:, None] + b).ravel())
            opposites.append((offset + len(a) * np.arange(len(starts))[:, None] + place[b, a]).ravel())
            offset += len(a) * len(starts)
        if not firsts:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64)
        return np.concatenate(firsts), np.concatenate(seconds), np.concatenate(opposites)


def _facts(member, judgement):
    """(numbers in the order of FACTS but the name order, then the camera's evidence, format,
    {"folder:word", "folder:/path", "name:word"})."""
    area, size = pixels(member), member.get("size") or 0
    taken, evidence = judgement.taken, judgement.evidence
    path = member["path"]
    folder, file_name = os.path.split(path)
    numbers = [
        math.log2(size) if size else 0.0,
        math.log2(area) if area else 0.0,
        max(member.get("width") or 0, member.get("height") or 0),
        float(taken is not None),
        -(taken or 0.0),  # earlier is "more"
        judgement.facts["tag_count"],
        -(member.get("mtime") or 0.0),  # older is "more"
        path.count(os.sep),
        len(path),
        float(bool(judgement.facts["edited"])),
        member.get("duration") or 0.0,
        math.log2(member["bitrate"]) if member.get("bitrate") else 0.0,
    ] + [float(evidence[kind]) for kind in _EVIDENCE]
    file_format = (member.get("format") or "").upper()
    # A person says "RAW" of every camera's RAW (NEF, CR2...), as keeper rules do.
    file_format = "RAW" if file_format and is_raw(file_format) else file_format
    return numbers, file_format, _folder_words(folder) | _name_words(os.path.splitext(file_name)[0])


@functools.lru_cache(maxsize=4096)
def _name_words(stem):
    """The name's words, "start:" its first word, "(n)" for a copy's counter at its end, and its marks
    (:data:`.rule.NAME_MARKS`), each as "name:" and the word. Cached: a group's copies often share a name."""
    words = set(_words(stem))
    first = _FIRST_WORD.match(stem.lower())
    if first:
        words.add("start:" + first.group(1))
    if _COUNTER.search(stem.lower()):
        words.add("(n)")
    words |= {"mark:" + mark for mark in name_marks(stem)}
    return frozenset("name:" + word for word in words)


def _folder(path):
    """A path's folder, as :func:`_absolute` gives it."""
    return _absolute(os.path.dirname(path))


def _absolute(folder):
    """A folder as the absolute path it names whatever the working directory ("/lib/Phone/../EOS" is /lib/EOS;
    a relative path is read from /)."""
    return os.path.normpath(os.path.join(os.sep, folder))


@functools.lru_cache(maxsize=4096)
def _folder_words(folder):
    """A folder's words as "folder:" and the word; and the folder (as a path names it) and each folder above
    it, as paths (``lexicographic.FOLDER``): "the copy in ~/Pictures/EOS/" is what a person says, where the
    words "pictures" and "eos" are also those of ~/Backup/Pictures/EOS/. Cached: the copies of a library share a
    few hundred folders."""
    found = {"folder:" + word for word in _words(folder)}
    folder = _absolute(folder)
    while folder != os.path.dirname(folder):
        found.add(lexicographic.FOLDER + folder)
        folder = os.path.dirname(folder)
    return frozenset(found)


def _words(text):
    return {"(n)" if word.startswith("(") else word for word in _WORD.findall(text.lower())}


# A pair's features


class _Columns:
    """The columns of a pair's features, each with the criterion (family) it belongs to."""

    def __init__(self, words):
        self.words = list(words)
        self.names = (
            ["sign:" + fact for fact in FACTS]
            + ["sign:" + evidence for evidence in _EVIDENCE]
            + ["camera evidence", "rule order", "rule pick"]
            + ["format:" + name for name in FORMATS]
            + self.words
            + ["long edge:first", "long edge:second"]
        )
        self.family = np.array([_family(name) for name in self.names])
        #: Each copy's own value, not a difference between them.
        self.own = np.array([name.startswith("long edge:") for name in self.names])
        self.families = sorted(set(self.family))

    def matrix(self, flat, first, second):
        """The features of the ordered pairs (first, second) of flat's members, as a dense float32 array."""
        numbers = flat.numbers
        # A capture time is compared only between two dated copies.
        both_dated = (numbers[first, 3] > 0) & (numbers[second, 3] > 0)
        signs = np.sign(numbers[first] - numbers[second])
        signs[:, 4] *= both_dated
        evidence = numbers[:, len(FACTS) :].sum(axis=1)
        formats, words = flat.format_columns, flat.word_columns(tuple(self.words))
        position = flat.rule_position
        return np.hstack(
            [
                signs,
                np.sign(evidence[first] - evidence[second])[:, None],
                np.sign(position[second] - position[first])[:, None],
                ((position[first] == 0).astype(float) - (position[second] == 0))[:, None],
                formats[first] - formats[second],
                words[first] - words[second],
                numbers[first, 2][:, None],
                numbers[second, 2][:, None],
            ]
        ).astype(np.float32)


def _family(name):
    """The criterion a column belongs to: 'sign:file size' -> 'file size', 'folder:camera' -> 'folder'."""
    if name.startswith("sign:"):
        name = name[5:]
        return "camera evidence" if name in _EVIDENCE else name
    if name in ("rule order", "rule pick"):
        return "rule"
    return name.split(":", 1)[0]


# The model


class Ranker:
    """Orders groups keeper first: the trained model, or the rule (``positions``) when it did not beat it.

    ``evaluation`` holds the grouped cross-validated accuracies that chose between them. A model is kept
    even when the rule orders: it still tells how sure it is of each group (:meth:`rank_and_sureness`).
    """

    def __init__(self, positions=rule_positions, columns=None, trees=None, criteria=(), orders=(), evaluation=None):
        self.positions = positions
        self.columns = columns
        self.trees = trees
        #: The orders of criteria the person's decisions follow, weighed (:mod:`.lexicographic`): ``orders``
        #: (heaviest first) give their criteria as indexes into ``criteria``.
        self.criteria = list(criteria)
        self.orders = list(orders)
        self.evaluation = evaluation or {}

    def __getstate__(self):
        # The rule is given again when the model is loaded: the person's rules are not pickled with it.
        return dict(self.__dict__, positions=None)

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.positions = rule_positions

    def learned_order(self):
        """The heaviest of the learned orders, its criteria in words."""
        rows = lexicographic.heaviest(self.orders)
        return [lexicographic.describe(self.criteria[row], _COLUMN_WORDS) for row in rows]

    @property
    def uses_model(self):
        """Whether what was learned orders the groups (the trees or the order read from the decisions)."""
        return self.trees is not None and self.evaluation.get("used") in ("model", "order")

    def rank(self, groups, explain=True):
        """Rank groups (lists of members): for each, its members keeper first as dicts with
        path, rank, keep_probability (None under the rule) and reasons (empty unless explain)."""
        return self.rank_and_sureness(groups, explain)[0]

    @without_cycle_collector
    def rank_and_sureness(self, groups, explain=True):
        """:meth:`rank`, and how sure the model is of each group: where the learned orders order the groups,
        the weight of those that choose its keeper; else the trees' keep probability of the suggested keeper,
        whether or not the trees order the groups (low where the rule picks another keeper than the trees
        would; None for every group without a model)."""
        ranked, sureness = [], []
        for chunk in range(0, len(groups), CHUNK):
            flat = _Members(groups[chunk : chunk + CHUNK], self.positions)
            probability = self._probabilities(flat)
            chunk_ranked, keepers, sure = self._rank(flat, probability, explain)
            ranked.extend(chunk_ranked)
            if sure is None:
                sureness.extend([None] * len(flat.sizes))
            else:
                sureness.extend(np.round(sure[keepers], 4).tolist())
        return ranked, sureness

    def least_sure_first(self, groups):
        """Indexes of groups, the one whose keeper the model is least sure of first: the groups whose
        decision would teach it most. Without a model yet, a shuffled order (the same for the same groups)."""
        if self.trees is None:
            return np.random.default_rng(len(groups)).permutation(len(groups)).tolist()
        return np.argsort(self.rank_and_sureness(groups, explain=False)[1], kind="stable").tolist()

    def _probabilities(self, flat):
        if self.trees is None:
            return None
        first, second, opposite = flat.pairs()
        if not len(first):
            return np.ones(len(flat.members))
        wins = self.trees.predict_proba(self.columns.matrix(flat, first, second))[:, 1]
        return _keep_probability(flat, first, opposite, wins)

    def _rank(self, flat, probability, explain):
        """Members keeper first by what orders the groups: the trees' probabilities, the learned order, or the
        rule; the index of each group's keeper; and each member's sureness (see :meth:`rank_and_sureness`)."""
        if not len(flat.members):
            return [], np.zeros(0, dtype=np.int64), probability
        used = self.evaluation.get("used") if probability is not None else "rule"
        sureness = probability
        key_table = lexicographic.table(flat, self.criteria, _FACT_NAMES) if used == "order" else None
        if used == "model":
            scores = probability
        elif used == "order":
            # A member's keep probability, and how sure: the weight of the orders that choose it, not the trees'
            # probability (which would not follow the ranks).
            chosen, probability, scores = _by_orders(key_table, self.orders, flat.starts, flat.listing)
            sureness = probability
        else:
            scores = -flat.rule_position.astype(float)
            probability = None
        if flat.tier.any() and probability is not None:
            # The person's rules decide between their places: the keeper, and every chance, is in the first. The
            # sureness stays the learner's own: low where the person's decisions go against their rules, so such
            # a keeper is asked about first and never accepted in bulk.
            probability = _within_first_tier(flat, probability)
        order = np.lexsort((flat.rule_position, -scores, flat.tier, flat.group_of))
        keeper = order[flat.starts]
        runner_up = order[np.minimum(flat.starts + 1, flat.starts + flat.sizes - 1)]
        # Each member is explained against the keeper; the keeper against the runner-up.
        partner = keeper[flat.group_of]
        partner[keeper] = runner_up
        if not explain:
            reasons = [[] for _ in flat.members]
        elif key_table is not None:
            reasons = self._order_reasons(flat, partner, keeper, key_table, chosen)
        elif probability is not None:
            reasons = self._reasons(flat, partner, keeper)
        else:
            reasons = [
                flat.rule_reason(index, other) if other != index else [] for index, other in enumerate(partner.tolist())
            ]
        if explain:
            for index in np.flatnonzero(flat.tier != flat.tier[partner]):
                reasons[index] = self.positions.reason(flat.members[index], flat.members[partner[index]])
        ranked = []
        for start, size in zip(flat.starts, flat.sizes):
            members = []
            for position, index in enumerate(order[start : start + size]):
                members.append(
                    {
                        "path": flat.members[index]["path"],
                        "rank": position + 1,
                        "keep_probability": None if probability is None else round(float(probability[index]), 4),
                        "reasons": reasons[index],
                    }
                )
            ranked.append(members)
        return ranked, keeper, sureness

    def _reasons(self, flat, partner, keepers, among=None):
        """For each member (of ``among`` if given), the criteria that decided between it and its partner, most
        decisive first: the criteria whose features move the trees' log-odds that the member wins the pair
        (TreeSHAP, summed by criterion) the most in its favour if it is the keeper, against it if not."""
        members = np.flatnonzero(partner != np.arange(len(partner)))
        if among is not None:
            members = np.intersect1d(members, among)
        reasons = [[] for _ in flat.members]
        if not len(members):
            return reasons
        matrix = self.columns.matrix(flat, members, partner[members])
        contributions = self.trees.booster_.predict(matrix, pred_contrib=True)[:, :-1]
        families = self.columns.families
        to_family = np.zeros((len(self.columns.names), len(families)))
        to_family[np.arange(len(self.columns.names)), [families.index(f) for f in self.columns.family]] = 1.0
        by_family = contributions @ to_family
        by_family[~np.isin(members, keepers)] *= -1
        # A criterion in which the two are equal may move the trees too, but it is no reason.
        differences = np.abs(matrix) @ (to_family * ~self.columns.own[:, None])
        by_family[differences == 0] = 0.0
        strongest = np.argsort(-by_family, axis=1, kind="stable")[:, : MAX_REASONS + 1].tolist()
        strong = (by_family >= MIN_CONTRIBUTION).tolist()
        for row, index in enumerate(members.tolist()):
            other = int(partner[index])
            # Two criteria may come to the same words (the rule's criterion is the camera's evidence). The
            # strongest come first, so the first that is not strong ends them.
            said = {}
            for family in strongest[row]:
                if len(said) == MAX_REASONS or not strong[row][family]:
                    break
                said.setdefault(_describe(families[family], flat, index, other))
            reasons[index] = list(said)
        return reasons

    def _order_reasons(self, flat, partner, keepers, key_table, chosen):
        """For each member, the criterion that decided between it and its partner in the heaviest learned
        order that puts the group's keeper first; where that order ties them, name order if they look the same
        (:func:`.lexicographic.listed_first`), else the trees say why."""
        reasons = [[] for _ in flat.members]
        tied = []
        looks = flat.listing[1].tolist()
        # Orders are heaviest first: the first that puts each group's keeper before its runner-up, else the
        # first that puts it first.
        keeper_first = chosen[:, keepers]
        before = keeper_first & ~chosen[:, partner[keepers]]
        deciding_order = np.where(before.any(axis=0), np.argmax(before, axis=0), np.argmax(keeper_first, axis=0))
        deciding_order = deciding_order[flat.group_of].tolist()
        orders = {}
        for index, other in enumerate(partner.tolist()):
            if deciding_order[index] not in orders:
                rows = list(self.orders[deciding_order[index]].rows)
                orders[deciding_order[index]] = ([self.criteria[row] for row in rows], key_table[rows])
            criterion = lexicographic.deciding(*orders[deciding_order[index]], index, other)
            if criterion is not None:
                reasons[index] = [_order_reason(criterion, flat, index, other)]
            elif index != other and looks[index] == looks[other]:
                reasons[index] = [_describe("name order", flat, index, other)]
            else:
                tied.append(index)
        if tied:
            by_trees = self._reasons(flat, partner, keepers, tied)
            for index in tied:
                reasons[index] = by_trees[index]
        return reasons


def _within_first_tier(flat, chances):
    """Chances kept to the members of the first place of the person's rules in each group and normalised there
    (shared evenly where none of them has any)."""
    first = (flat.tier == 0).astype(float)
    kept = chances * first
    sums = np.add.reduceat(kept, flat.starts)[flat.group_of]
    counts = np.add.reduceat(first, flat.starts)[flat.group_of]
    return np.where(sums > 0, kept / np.where(sums > 0, sums, 1.0), first / counts)


def _by_orders(key_table, weighed, starts, listing):
    """``(chosen, votes, scores)``: the weighed orders' choices in each group (:func:`.lexicographic.choices`),
    each member's share of their weight (:func:`.lexicographic.vote`) and the scores that rank by it."""
    chosen = lexicographic.choices(key_table, weighed, starts, listing)
    votes = lexicographic.vote(chosen, weighed, starts)
    return chosen, votes, _voted(votes, key_table, lexicographic.heaviest(weighed), listing[0], starts)


def _voted(votes, key_table, heaviest, name_order, starts):
    """Scores from the weighed orders' votes, larger preferred: first the copy with the most votes in its group,
    then the others by their votes to a thousandth (orders that together weigh less say nothing of a person:
    one that weighs a millionth put a smaller web copy before a byte-identical backup of the largest file);
    where they tie, the heaviest order's preference, then the first in name order: copies that no criterion
    tells apart (byte-identical backups) are kept as a file manager lists them, first."""
    preference = lexicographic.preference(key_table[list(heaviest)])
    most = lexicographic.tops(votes[None], np.ones(len(votes), dtype=bool), starts)[0]
    ranking = np.lexsort((name_order, preference, np.round(votes, 3), most))
    scores = np.empty(len(votes))
    scores[ranking] = np.arange(len(votes))
    return scores


def _order_reason(criterion, flat, index, other):
    """The words of a learned order's criterion that decided between member index and other, from index's side."""
    mine, dated = flat.rows[index], _FACT_COLUMN["capture date"]
    # A yes-or-no criterion, said from this member's side: "long edge under 1000 px" (the threshold the person
    # keeps to), "no camera make and model" (one of the camera's evidence), "not a messenger's name".
    if criterion.kind == "long edge":
        has = mine[_FACT_COLUMN["long edge"]] >= criterion.argument
    elif criterion.kind == "fact" and criterion.argument >= len(FACTS):
        has = mine[criterion.argument] > 0
    elif criterion.kind == "mark":
        has = lexicographic.MARK + criterion.argument in flat.words[index]
    else:
        has = None
    if has is not None:
        return lexicographic.describe(criterion._replace(direction=1 if has else -1), _COLUMN_WORDS)
    if criterion.kind == "capture" and mine[dated] != flat.rows[other][dated]:
        return _describe("capture date", flat, index, other)
    return _describe(_criterion_family(criterion), flat, index, other)


def _criterion_family(criterion):
    """The family (as of the trees' columns) whose words tell a criterion of the learned order."""
    kind, argument = criterion.kind, criterion.argument
    if kind in ("fact", "tie"):
        return _FACT_NAMES[argument]
    if kind == "word":
        return argument.split(":", 1)[0]
    return {"capture": "capture time", "evidence": "camera evidence"}.get(kind, kind)


def _keep_probability(flat, first, opposite, wins):
    """Each member's probability of being the keeper: the product of its pairwise probabilities (each pair
    seen from both sides, averaged), normalised over its group. ``wins[k]``: the probability that
    ``first[k]`` beats its pair's second; ``opposite[k]``: where the reversed pair is."""
    symmetric = np.clip((wins + 1 - wins[opposite]) / 2, 1e-6, 1 - 1e-6)
    log_score = np.bincount(first, weights=np.log(symmetric), minlength=len(flat.members))
    peak = np.maximum.reduceat(log_score, flat.starts)[flat.group_of]
    weights = np.exp(log_score - peak)
    return weights / np.add.reduceat(weights, flat.starts)[flat.group_of]


def _describe(family, flat, index, other):
    """Words for how member index differs from other in one criterion, as a person reads it."""
    member, partner = flat.members[index], flat.members[other]
    if family == "format":
        return "{} rather than {}".format(flat.formats[index] or "unknown", flat.formats[other] or "unknown")
    if family == "folder":
        return _where(member["path"], partner["path"])
    if family == "name":
        return "named {} rather than {}".format(
            os.path.splitext(os.path.basename(member["path"]))[0],
            os.path.splitext(os.path.basename(partner["path"]))[0],
        )
    mine, theirs = flat.rows[index], flat.rows[other]
    if family == "long edge":
        edge = _FACT_COLUMN["long edge"]
        return "long edge {:.0f} px rather than {:.0f} px".format(mine[edge], theirs[edge])
    if family in _FACT_COLUMN:
        larger, smaller = FACTS[family]
        return larger if mine[_FACT_COLUMN[family]] > theirs[_FACT_COLUMN[family]] else smaller
    mine, theirs = mine[len(FACTS) :], theirs[len(FACTS) :]
    # The built-in rule's first criterion is the camera's evidence: its words need not be asked of the rule.
    told_by_evidence = family == "rule" and flat.positions is rule_positions and sum(mine) != sum(theirs)
    if family == "camera evidence" or told_by_evidence:
        # rule.evidence_reason's words, from the evidence already read (it would read both members again).
        if sum(mine) > sum(theirs):
            return "camera evidence: " + ", ".join(e for e, m, t in zip(_EVIDENCE, mine, theirs) if m > t)
        return "less camera evidence: " + ", ".join("no " + e for e, m, t in zip(_EVIDENCE, mine, theirs) if m < t)
    # The rule's order decided: say the rule's own criterion between the two.
    words = flat.rule_reason(index, other)
    first = flat.rule_position[index] < flat.rule_position[other]
    return words[0] if words else "the rule's pick" if first else "not the rule's pick"


def _where(path, other):
    """'in Camera/ rather than WhatsApp/': the first folder where the two paths part."""
    mine = _folder(path).split(os.sep)
    theirs = _folder(other).split(os.sep)
    common = 0
    while common < min(len(mine), len(theirs)) and mine[common] == theirs[common]:
        common += 1
    here = mine[common] + "/" if common < len(mine) else None
    there = theirs[common] + "/" if common < len(theirs) else None
    if here and there:
        return "in {} rather than {}".format(here, there)
    return "in {}".format(here) if here else "not in {}".format(there)


# Training and evaluation


class _Decisions(_Members):
    """Decided groups, ``(members, kept)`` with kept a list of booleans, and their (kept, deleted) pairs."""

    def __init__(self, decisions, positions):
        decisions = [(members, kept) for members, kept in decisions if any(kept) and not all(kept)]
        super().__init__([members for members, _ in decisions], positions)
        self.kept = np.array([flag for _, kept in decisions for flag in kept], dtype=bool)
        first, second, _ = self.pairs()
        chosen = self.kept[first] & ~self.kept[second]
        self.pair_kept, self.pair_deleted = first[chosen], second[chosen]
        self.pair_group = self.group_of[self.pair_kept]

    def __len__(self):
        return len(self.sizes)

    def columns(self):
        """The pair columns for these decisions: path words kept only if they tell a kept and a deleted
        copy apart in at least two pairs; of folders, those where their paths part (the copy's folder
        EOS/, not also EOS/DCIM/ and EOS/DCIM/100CANON/ that tell the same copies apart here)."""
        counts = {}
        for kept, deleted in zip(self.pair_kept.tolist(), self.pair_deleted.tolist()):
            parted_in = os.path.commonpath([_folder(self.members[member]["path"]) for member in (kept, deleted)])
            for word in self.words[kept] ^ self.words[deleted]:
                if not lexicographic.is_folder(word) or os.path.dirname(word[len(lexicographic.FOLDER) :]) == parted_in:
                    counts[word] = counts.get(word, 0) + 1
        words = sorted((word for word, count in counts.items() if count >= 2), key=lambda w: (-counts[w], w))
        return _Columns(sorted(words[:MAX_WORDS]))


def _fit(decisions, matrix, group_indexes):
    """Trees fitted on the (kept, deleted) pairs of the given decided groups, seen both ways round."""
    chosen = np.isin(decisions.pair_group, group_indexes)
    forward, backward = matrix[0][chosen], matrix[1][chosen]
    features = np.vstack([forward, backward])
    labels = np.concatenate([np.ones(len(forward)), np.zeros(len(backward))])
    iterations, leaves = TREES
    trees = LGBMClassifier(
        n_estimators=iterations,
        num_leaves=leaves,
        learning_rate=LEARNING_RATE,
        min_child_samples=MIN_LEAF,
        min_child_weight=1e-3,
        reg_lambda=SHRINK,
        n_jobs=1,
        deterministic=True,
        random_state=0,
        verbose=-1,
    )
    return trees.fit(features, labels)


def _top1(decisions, scores, group_indexes):
    """Share of the given decided groups whose best-scored member (rule breaks ties) was kept."""
    hits = 0
    for g in group_indexes:
        start, size = decisions.starts[g], decisions.sizes[g]
        span = slice(start, start + size)
        best = np.lexsort((decisions.rule_position[span], -scores[span]))[0]
        hits += bool(decisions.kept[start + best])
    return hits / len(group_indexes) if len(group_indexes) else 0.0


def _folds(count):
    return list(GroupKFold(n_splits=min(FOLDS, count)).split(np.zeros(count), groups=np.arange(count)))


class _Trial:
    """Decided groups with every pair's features computed once, for fitting and scoring many times."""

    def __init__(self, decisions, columns):
        self.decisions = decisions
        self.columns = columns
        self.first, self.second, self.opposite = decisions.pairs()
        self.all_pairs = columns.matrix(decisions, self.first, self.second)
        self.matrix = (
            columns.matrix(decisions, decisions.pair_kept, decisions.pair_deleted),
            columns.matrix(decisions, decisions.pair_deleted, decisions.pair_kept),
        )
        self.criteria = lexicographic.candidates(decisions, _FACT_NAMES, columns.words)
        # The order is read from the latest decisions, those cross-validation chooses on: every criterion's
        # number for every member of a long history would not fit in memory.
        self.first_group = first_group = max(0, len(decisions) - SELECTION_GROUPS)
        self.first_recent = int(decisions.starts[first_group]) if len(decisions) else 0
        self.key_table = lexicographic.table(decisions, self.criteria, _FACT_NAMES, self.first_recent)
        self.recent_starts = decisions.starts[first_group:] - self.first_recent

    def fit(self, group_indexes):
        return _fit(self.decisions, self.matrix, group_indexes)

    def scores(self, trees):
        wins = trees.predict_proba(self.all_pairs)[:, 1]
        return _keep_probability(self.decisions, self.first, self.opposite, wins)

    def orders(self, group_indexes):
        """The orders of criteria that the latest ORDER_GROUPS of the given decided groups follow, weighed
        (of those among the latest SELECTION_GROUPS, whose criteria's numbers are kept)."""
        decisions = self.decisions
        groups = np.sort(group_indexes)
        groups = groups[groups >= self.first_group][-ORDER_GROUPS:]
        members = np.isin(decisions.group_of[self.first_recent :], groups)
        sizes = decisions.sizes[groups]
        kept = decisions.kept[self.first_recent :][members]
        listing = self.decisions.listing[:, self.first_recent :][:, members]
        return lexicographic.weigh(self.key_table[:, members], kept, np.cumsum(sizes) - sizes, self.criteria, listing)

    def order_scores(self, weighed, scores):
        """The weighed orders' scores of the latest groups' members; the trees' ``scores`` for older ones."""
        scores = scores.copy()
        listing = self.decisions.listing[:, self.first_recent :]
        scores[self.first_recent :] = _by_orders(self.key_table, weighed, self.recent_starts, listing)[2]
        return scores

    def cross_validate(self, groups, limit=None):
        """Top-1 accuracy of the model, of the learned order and of the rule over grouped folds of the given
        decided groups (training on at most limit of the rest)."""
        decisions = self.decisions
        rule = -decisions.rule_position.astype(float)
        model_hits = order_hits = rule_hits = 0.0
        for train, test in _folds(len(groups)):
            training = groups[np.sort(train)][:limit]
            scores = self.scores(self.fit(training))
            model_hits += _top1(decisions, scores, groups[test]) * len(test)
            order_hits += _top1(decisions, self.order_scores(self.orders(training), scores), groups[test]) * len(test)
            rule_hits += _top1(decisions, rule, groups[test]) * len(test)
        return model_hits / len(groups), order_hits / len(groups), rule_hits / len(groups)


def _select(decisions, positions):
    """Prepared decisions and the choice between the model and the rule, by grouped cross-validation."""
    decisions = _Decisions(decisions, positions)
    evaluation = {"groups": len(decisions), "pairs": int(len(decisions.pair_kept)), "used": "rule"}
    if len(decisions) < MIN_GROUPS:
        return None, evaluation
    trial = _Trial(decisions, decisions.columns())
    latest = np.arange(len(decisions))[-SELECTION_GROUPS:]
    model_accuracy, order_accuracy, rule_accuracy = trial.cross_validate(latest)
    # A tie goes to the learned order: it says what it does in a person's words.
    trees_lead = model_accuracy > order_accuracy and len(decisions) >= TREES_FROM
    best = ("model", model_accuracy) if trees_lead else ("order", order_accuracy)
    evaluation.update(
        model_accuracy=round(model_accuracy, 4),
        order_accuracy=round(order_accuracy, 4),
        rule_accuracy=round(rule_accuracy, 4),
        used=best[0] if best[1] >= rule_accuracy else "rule",
    )
    return trial, evaluation


@without_cycle_collector
def train(decisions, positions=rule_positions):
    """A :class:`Ranker` from decided groups, ``(members, kept)`` oldest first, starting from the rule
    ``positions`` (each member's place in a group, 0 for the one to keep).

    Grouped cross-validation over the latest decisions compares the model with the rule; the model
    orders the groups only if it is at least as accurate as the rule there.
    """
    trial, evaluation = _select(decisions, positions)
    if trial is None:
        return Ranker(positions, evaluation=evaluation)
    everything = np.arange(len(trial.decisions))
    weighed = trial.orders(everything)
    # Only the criteria the orders use are kept, and the orders' rows renumbered to them.
    used = sorted({row for rows, _ in weighed for row in rows})
    renumbered = [lexicographic.Weighed(tuple(used.index(row) for row in rows), weight) for rows, weight in weighed]
    criteria = [trial.criteria[row] for row in used]
    return Ranker(positions, trial.columns, trial.fit(everything), criteria, renumbered, evaluation)


@without_cycle_collector
def evaluate(decisions, positions=rule_positions):
    """Grouped cross-validated top-1 accuracy of the model, the learned order and the rule, and the learning
    curve.

    Returns the evaluation of :func:`train` with ``"learning_curve": [{"decisions",
    "model_accuracy", "order_accuracy", "rule_accuracy"}, ...]``: each fold trained on its first n decisions only.
    """
    trial, result = _select(decisions, positions)
    result["learning_curve"] = []
    if trial is None:
        return result
    groups = np.arange(len(trial.decisions))
    largest = len(groups) - len(groups) // min(FOLDS, len(groups))
    for size in [n for n in LEARNING_CURVE if n < largest] + [largest]:
        accuracies = zip(("model_accuracy", "order_accuracy", "rule_accuracy"), trial.cross_validate(groups, size))
        result["learning_curve"].append({"decisions": size, **{name: round(value, 4) for name, value in accuracies}})
    return result


# Persistence


def save(ranker, path):
    joblib.dump(ranker, path)


def load(path, positions=rule_positions):
    """The saved :class:`Ranker`, ranking with the rule ``positions``, or None if there is none."""
    if not os.path.exists(path):
        return None
    ranker = joblib.load(path)
    ranker.positions = positions
    return ranker
