"""The pairwise model of which copy a person keeps: features, learning, reasons, persistence (scikit-learn).

A member is a row of the ``images`` table or a decision snapshot of one: a dict with
path, size, mtime, width, height, format, metadata (dict or JSON text), taken_at,
taken_at_source, make and model.

The model learns preferences, not absolute properties: every (kept, deleted) pair of
a decided group is one example, the difference of the two members' features. It is a
linear model, so a member's score is one dot product, the keep probabilities within a
group are the softmax of the scores (for two members, exactly the pairwise
probability), and each reason is the weight of a feature times a difference.
"""

import math
import os
import re

import joblib
import numpy as np
from scipy.sparse import csr_matrix, vstack
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, MaxAbsScaler

from . import MIN_GROUPS
from .rule import capture_timestamp, edited, metadata_of, pixels, rule_positions, rule_reason

FOLDS = 5
#: The rule's pick weighs this much more than other features after scaling, so that its weight
#: costs little regularisation: with few decisions the model leans on the rule, and leaves it
#: as the decisions contradict it.
RULE_PRIOR = 2.0
#: Regularisation strengths tried by grouped cross-validation.
CANDIDATES = (0.1, 1.0, 10.0)
#: Cross-validation uses the latest decisions only, so that choosing stays fast on a long history.
SELECTION_GROUPS = 3000
#: Path words kept as features: the most frequent among those that differ within training pairs.
MAX_WORDS = 200
MAX_REASONS = 3
#: A feature explains a ranking only if it moves the log-odds at least this much.
MIN_CONTRIBUTION = 0.05
LEARNING_CURVE = (5, 10, 20, 30, 50, 100, 200, 500, 1000, 2000, 5000)

_WORD = re.compile(r"[^\W\d_]+|\(\d+\)")


# Features


def group_features(members, positions=None):
    """Feature dicts of a group's members, in order; some features compare a member with the others.

    ``positions``: the members' :func:`rule_positions`, if already known.
    """
    if positions is None:
        positions = rule_positions(members)
    times = [capture_timestamp(member) for member in members]
    dated = [t for t in times if t is not None]
    earliest = min(dated) if dated else None
    oldest = min(member.get("mtime") or 0 for member in members)
    return [
        member_features(
            member,
            has_date=taken is not None,
            earliest=taken is not None and taken == earliest,
            oldest=(member.get("mtime") or 0) == oldest,
            rule_pick=positions[index] == 0,
        )
        for index, (member, taken) in enumerate(zip(members, times))
    ]


def member_features(member, has_date, earliest, oldest, rule_pick):
    area, size = pixels(member), member.get("size") or 0
    metadata = metadata_of(member)
    software = str(metadata.get("EXIF:Software") or metadata.get("XMP:CreatorTool") or "")
    path = member["path"]
    folder, name = os.path.split(path)
    features = {
        "resolution": math.log2(area) if area else 0.0,
        "file size": math.log2(size) if size else 0.0,
        "bytes per pixel": math.log2(size / area) if area and size else 0.0,
        "format": (member.get("format") or "unknown").upper(),
        "capture date": float(has_date),
        "earliest capture date": float(earliest),
        "camera make": float(bool(member.get("make"))),
        "camera model": float(bool(member.get("model"))),
        "metadata tags": math.log2(1 + len(metadata)),
        "software tag": float(bool(software)),
        "edited": float(edited(member, metadata)),
        "path depth": float(path.count(os.sep)),
        "path length": math.log2(len(path) or 1),
        "oldest file": float(oldest),
        "rule pick": float(rule_pick),
    }
    for word in _words(folder):
        features["folder:" + word] = 1.0
    for word in _words(os.path.splitext(name)[0]):
        features["name:" + word] = 1.0
    return features


def _words(text):
    return {"(n)" if word.startswith("(") else word for word in _WORD.findall(text.lower())}


def _family(feature):
    """The reason a feature belongs to: 'format=HEIC' -> 'format', 'folder:camera' -> 'folder'."""
    head = re.split("[=:]", feature, maxsplit=1)[0]
    return {"camera make": "camera", "camera model": "camera", "software tag": "software", "edited": "software"}.get(
        head, head
    )


# Data: groups of members as flat feature rows


class _Groups:
    """Groups of members flattened: group sizes and offsets, the rule's order, feature dicts (if asked)."""

    def __init__(self, groups, featured=True):
        self.members = [member for members in groups for member in members]
        self.sizes = np.array([len(members) for members in groups], dtype=np.int64)
        self.starts = np.cumsum(self.sizes) - self.sizes
        self.group_of = np.repeat(np.arange(len(groups)), self.sizes)
        positions = [rule_positions(members) for members in groups]
        self.rule_position = np.array([p for group in positions for p in group], dtype=np.int64)
        self.features = None
        if featured:
            self.features = [row for members, p in zip(groups, positions) for row in group_features(members, p)]


def _transform(vectorizer, features):
    """What ``vectorizer.transform(features)`` gives, as CSR, several times faster on many small dicts."""
    vocabulary = vectorizer.vocabulary_
    indptr, indices, data = [0], [], []
    for row in features:
        for key, value in row.items():
            if isinstance(value, str):
                key, value = key + vectorizer.separator + value, 1.0
            column = vocabulary.get(key)
            if column is not None:
                indices.append(column)
                data.append(value)
        indptr.append(len(indices))
    return csr_matrix((data, indices, indptr), shape=(len(features), len(vocabulary)))


class _Decisions(_Groups):
    """Decided groups: ``(members, kept)`` with kept a list of booleans, one per member."""

    def __init__(self, decisions):
        decisions = [(members, kept) for members, kept in decisions if any(kept) and not all(kept)]
        super().__init__([members for members, _ in decisions])
        self.kept = np.array([flag for _, kept in decisions for flag in kept], dtype=bool)
        kept_members, deleted_members = [], []
        for start, (_, kept) in zip(self.starts, decisions):
            for i, keep in enumerate(kept):
                for j, other in enumerate(kept):
                    if keep and not other:
                        kept_members.append(start + i)
                        deleted_members.append(start + j)
        self.pair_kept = np.array(kept_members, dtype=np.int64)
        self.pair_deleted = np.array(deleted_members, dtype=np.int64)
        self.pair_group = self.group_of[self.pair_kept] if len(self.pair_kept) else np.zeros(0, np.int64)

    def __len__(self):
        return len(self.sizes)

    def vectorized(self):
        """A vectorizer fitted on these members, and their feature matrix.

        Path words are kept only if they tell a kept and a deleted copy apart.
        """
        names = {
            key + "=" + value if isinstance(value, str) else key for row in self.features for key, value in row.items()
        }
        # Fitted on the names alone ("format=HEIC" names the column of {"format": "HEIC"}): much faster.
        vectorizer = DictVectorizer().fit([dict.fromkeys(names, 1.0)])
        matrix = _transform(vectorizer, self.features)
        differing = (matrix[self.pair_kept] != matrix[self.pair_deleted]).sum(axis=0).A1
        names = vectorizer.get_feature_names_out()
        words = [i for i, name in enumerate(names) if ":" in name and differing[i] >= 2]
        words = sorted(words, key=lambda i: -differing[i])[:MAX_WORDS]
        keep = np.zeros(len(names), dtype=bool)
        keep[[i for i, name in enumerate(names) if ":" not in name] + words] = True
        return vectorizer.restrict(keep), matrix[:, keep]


# The model


class Ranker:
    """Orders groups keeper first: the trained model, or the cold-start rule when it did not beat it.

    ``evaluation`` holds the grouped cross-validated accuracies that chose between them.
    """

    def __init__(self, vectorizer=None, pipeline=None, evaluation=None):
        self.vectorizer = vectorizer
        self.pipeline = pipeline
        self.evaluation = evaluation or {}

    @property
    def uses_model(self):
        return self.pipeline is not None

    def weights(self):
        """Per-feature weight on the unscaled features."""
        scaler, emphasis, model = self.pipeline
        return model.coef_[0] * emphasis.kw_args["weights"] / scaler.scale_

    def rank(self, groups):
        """Rank groups (lists of members): for each, its members keeper first as dicts with
        path, rank, keep_probability (None under the rule) and reasons."""
        flat = _Groups(groups, featured=self.uses_model)
        if not len(flat.members):
            return []
        if self.uses_model:
            matrix = _transform(self.vectorizer, flat.features)
            scores = self.pipeline.decision_function(matrix)
        else:
            matrix, scores = None, -flat.rule_position.astype(float)
        order = np.lexsort((flat.rule_position, -scores, flat.group_of))
        probability = _softmax(scores, flat) if self.uses_model else None
        keeper = order[flat.starts]
        runner_up = order[np.minimum(flat.starts + 1, flat.starts + flat.sizes - 1)]
        # Each member is explained against the keeper; the keeper against the runner-up.
        partner = keeper[flat.group_of]
        partner[keeper] = runner_up
        reasons = self._reasons(flat, matrix, partner, keeper)
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
        return ranked

    def _reasons(self, flat, matrix, partner, keeper):
        is_keeper = np.zeros(len(flat.members), dtype=bool)
        is_keeper[keeper] = True
        if not self.uses_model:
            return [
                rule_reason(member, flat.members[other]) if other != index else []
                for index, (member, other) in enumerate(zip(flat.members, partner))
            ]
        names = self.vectorizer.get_feature_names_out()
        families = sorted({_family(name) for name in names})
        # Sums the columns of each family.
        to_family = csr_matrix(
            (np.ones(len(names)), (np.arange(len(names)), [families.index(_family(name)) for name in names])),
            shape=(len(names), len(families)),
        )
        difference = matrix - matrix[partner]
        by_family = (difference @ to_family).toarray()
        contribution = (difference.multiply(self.weights()).tocsr() @ to_family).toarray()
        contribution[~is_keeper] *= -1
        reasons = []
        for index, member in enumerate(flat.members):
            other = partner[index]
            strength = contribution[index]
            chosen = [f for f in np.argsort(-strength) if strength[f] >= MIN_CONTRIBUTION][:MAX_REASONS]
            reasons.append(
                [
                    _describe(
                        families[f],
                        by_family[index, f],
                        member,
                        flat.members[other],
                        flat.features[index],
                        flat.features[other],
                    )
                    for f in chosen
                ]
                if other != index
                else []
            )
        return reasons


def _softmax(scores, flat):
    peak = np.maximum.reduceat(scores, flat.starts)[flat.group_of]
    weights = np.exp(scores - peak)
    return weights / np.add.reduceat(weights, flat.starts)[flat.group_of]


# Words for a member whose value is larger, and smaller, than the other's.
_DESCRIPTIONS = {
    "resolution": ("higher resolution", "lower resolution"),
    "file size": ("larger file", "smaller file"),
    "bytes per pixel": ("less compressed", "more compressed"),
    "capture date": ("has capture date", "no capture date"),
    "earliest capture date": ("earliest capture date", "not the earliest capture date"),
    "camera": ("has camera make and model", "no camera make or model"),
    "metadata tags": ("more metadata", "less metadata"),
    "path depth": ("deeper folder", "shallower folder"),
    "path length": ("longer path", "shorter path"),
    "oldest file": ("oldest file", "newer file"),
    "rule pick": ("the default rule's pick", "not the default rule's pick"),
}


def _describe(family, difference, member, other, mine, theirs):
    """Words for how member differs from other in one family of features (difference: summed)."""
    if family == "format":
        return "{} rather than {}".format(mine["format"], theirs["format"])
    if family == "software":
        if mine["edited"] != theirs["edited"]:
            return "edited" if mine["edited"] else "not edited"
        return "has a software tag" if mine["software tag"] else "no software tag"
    if family == "folder":
        return _where(member["path"], other["path"])
    if family == "name":
        return "named {} rather than {}".format(
            os.path.splitext(os.path.basename(member["path"]))[0],
            os.path.splitext(os.path.basename(other["path"]))[0],
        )
    larger, smaller = _DESCRIPTIONS[family]
    return larger if difference > 0 else smaller


def _where(path, other):
    """'in Camera/ rather than WhatsApp/': the first folder where the two paths part."""
    mine = os.path.dirname(path).split(os.sep)
    theirs = os.path.dirname(other).split(os.sep)
    common = 0
    while common < min(len(mine), len(theirs)) and mine[common] == theirs[common]:
        common += 1
    here = mine[common] + "/" if common < len(mine) else None
    there = theirs[common] + "/" if common < len(theirs) else None
    if here and there:
        return "in {} rather than {}".format(here, there)
    return "in {}".format(here) if here else "not in {}".format(there)


# Training and evaluation


def _emphasise(matrix, weights):
    return matrix.multiply(weights).tocsr()


def _emphasis(vectorizer):
    return np.where(vectorizer.get_feature_names_out() == "rule pick", RULE_PRIOR, 1.0)


def _fit(decisions, matrix, emphasis, group_indexes, strength):
    """A pipeline fitted on the pairs of the given decided groups (indexes into decisions)."""
    chosen = np.isin(decisions.pair_group, group_indexes)
    difference = matrix[decisions.pair_kept[chosen]] - matrix[decisions.pair_deleted[chosen]]
    # Both orientations of every pair, so the model has no preference for first or second.
    features = vstack([difference, -difference]).tocsr()
    labels = np.concatenate([np.ones(difference.shape[0]), np.zeros(difference.shape[0])])
    pipeline = make_pipeline(
        MaxAbsScaler(),
        FunctionTransformer(_emphasise, kw_args={"weights": emphasis}, accept_sparse=True),
        LogisticRegression(C=strength, fit_intercept=False, max_iter=1000),
    )
    return pipeline.fit(features, labels)


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


def _cross_validate(decisions, matrix, emphasis, strength, groups, limit=None):
    """Over grouped folds of the given decided groups (training on at most limit of the rest):
    top-1 accuracy of the model and of the rule, and the model's mean log-loss on the pairs."""
    rule = -decisions.rule_position.astype(float)
    model_hits = rule_hits = loss = 0.0
    for train, test in _folds(len(groups)):
        train_groups = groups[np.sort(train)][:limit]
        pipeline = _fit(decisions, matrix, emphasis, train_groups, strength)
        scores = pipeline.decision_function(matrix)
        model_hits += _top1(decisions, scores, groups[test]) * len(test)
        rule_hits += _top1(decisions, rule, groups[test]) * len(test)
        pairs = np.isin(decisions.pair_group, groups[test])
        margin = scores[decisions.pair_kept[pairs]] - scores[decisions.pair_deleted[pairs]]
        loss += np.logaddexp(0, -margin).sum()
    pairs = np.isin(decisions.pair_group, groups).sum()
    return model_hits / len(groups), rule_hits / len(groups), loss / pairs


def _select(decisions):
    """Prepared decisions and the choice between model and rule, by grouped cross-validation."""
    decisions = _Decisions(decisions)
    evaluation = {"groups": len(decisions), "pairs": int(len(decisions.pair_kept)), "used": "rule"}
    if len(decisions) < MIN_GROUPS:
        return decisions, None, None, evaluation
    vectorizer, matrix = decisions.vectorized()
    emphasis = _emphasis(vectorizer)
    latest = np.arange(len(decisions))[-SELECTION_GROUPS:]
    results = {strength: _cross_validate(decisions, matrix, emphasis, strength, latest) for strength in CANDIDATES}
    # Equally accurate strengths are told apart by how well their probabilities fit.
    strength = max(CANDIDATES, key=lambda c: (results[c][0], -results[c][2]))
    model_accuracy, rule_accuracy, _ = results[strength]
    evaluation.update(
        model_accuracy=round(model_accuracy, 4),
        rule_accuracy=round(rule_accuracy, 4),
        regularisation=strength,
        used="model" if model_accuracy >= rule_accuracy else "rule",
    )
    return decisions, vectorizer, matrix, evaluation


def train(decisions):
    """A :class:`Ranker` from decided groups, ``(members, kept)`` oldest first.

    The regularisation strength is chosen by grouped cross-validation over the latest
    decisions; the model is used only if it is at least as accurate as the rule there.
    """
    decisions, vectorizer, matrix, evaluation = _select(decisions)
    if evaluation["used"] == "rule":
        return Ranker(evaluation=evaluation)
    pipeline = _fit(decisions, matrix, _emphasis(vectorizer), np.arange(len(decisions)), evaluation["regularisation"])
    return Ranker(vectorizer, pipeline, evaluation)


def evaluate(decisions):
    """Grouped cross-validated top-1 accuracy of the model and of the rule, and the learning curve.

    Returns the evaluation of :func:`train` with ``"learning_curve": [{"decisions",
    "model_accuracy", "rule_accuracy"}, ...]``: each fold trained on its first n decisions only.
    """
    decisions, vectorizer, matrix, result = _select(decisions)
    result["learning_curve"] = []
    if matrix is None:
        return result
    emphasis = _emphasis(vectorizer)
    groups = np.arange(len(decisions))
    largest = len(groups) - len(groups) // min(FOLDS, len(groups))
    for size in [n for n in LEARNING_CURVE if n < largest] + [largest]:
        model_accuracy, rule_accuracy, _ = _cross_validate(
            decisions, matrix, emphasis, result["regularisation"], groups, size
        )
        result["learning_curve"].append(
            {"decisions": size, "model_accuracy": round(model_accuracy, 4), "rule_accuracy": round(rule_accuracy, 4)}
        )
    return result


# Persistence


def save(ranker, path):
    joblib.dump(ranker, path)


def load(path):
    """The saved :class:`Ranker`, or None if there is none."""
    return joblib.load(path) if os.path.exists(path) else None
