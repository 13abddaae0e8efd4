"""shashin-rank: the cold-start rule, learning from decisions, reasons, evaluation, bulk-accept preview."""

import contextlib
import gc
import json
import os
import random
import shutil
import sqlite3

import exiftool
import numpy
import pytest

from conftest import copies, invoke, json_lines, phone_library, run, scanned_archive
from shashin import ranking, trash
from shashin.cli import rank as rank_command
from shashin.ranking import lexicographic, model, rule
from shashin.ranking.model import FACTS, train
from shashin.ranking.model import load as load_model
from shashin.store import Store

PHOTOS = 7  # the last one is never decided


@pytest.fixture(scope="module")
def scanned(tmp_path_factory):
    """A :func:`phone_library` (the Exports/ PNGs edited in Photoshop), hashed, read and grouped for real."""
    root = tmp_path_factory.mktemp("library")
    folder, db = root / "Pictures", root / "shashin.db"
    phone_library(folder, PHOTOS)
    with exiftool.ExifToolHelper() as tool:
        params = ["-overwrite_original"]
        tool.set_tags(
            sorted(map(str, (folder / "Camera").iterdir())),
            {"DateTimeOriginal": "2019:07:04 10:00:00", "Make": "Apple", "Model": "iPhone 8"},
            params,
        )
        tool.set_tags(sorted(map(str, (folder / "Exports").iterdir())), {"Software": "Adobe Photoshop 21.0"}, params)
    hashed = run("shashin-hash", "--db", db, "-q", folder, check=0).stdout
    run("shashin-meta", "--db", db, "-q", input=hashed, check=0)
    run("shashin-group", "--db", db, "-q", check=0)
    return folder.resolve(), db


@pytest.fixture
def library(scanned, tmp_path):
    """The scanned library with a database of this test's own."""
    folder, db = scanned
    own = tmp_path / "shashin.db"
    with sqlite3.connect(db) as source, sqlite3.connect(own) as target:
        source.backup(target)
    return folder, own


def keeps_camera(folder, tmp_path, photos=range(PHOTOS - 1)):
    """A decisions file of someone who kept the Camera/ original of these photos."""
    return keeps(folder, tmp_path, ["camera"] * len(photos), photos)


def keeps(folder, tmp_path, kinds, photos):
    """A decisions file: of each of these photos, the copy of this kind (camera, whatsapp, exports) kept."""
    path = tmp_path / "decisions.jsonl"
    with open(path, "w") as lines:
        for kind, n in zip(kinds, photos):
            paths = copies(folder, n)
            decision = {"kept": [paths[kind]], "deleted": [paths[other] for other in paths if other != kind]}
            lines.write(json.dumps(decision) + "\n")
    return path


def keepers(output):
    return {line["group"]: line["members"][0] for line in json_lines(output)}


def test_without_decisions_the_rule_orders_groups(library, open_store):
    folder, db = library
    result = invoke(rank_command.cli, "--db", db, check=0)
    groups = json_lines(result.stdout)
    assert len(groups) == PHOTOS
    for group in groups:
        members = group["members"]
        assert [m["rank"] for m in members] == [1, 2, 3]
        # The camera's file, explained against the WhatsApp copy (the PNG export has more bytes, but was edited).
        assert "/Camera/" in members[0]["path"]
        assert members[0]["reasons"] == ["camera evidence: camera make and model, camera-style name, camera folder"]
        # Neither copy carries more evidence than the other; the export was edited in Photoshop.
        assert "/Exports/" in members[2]["path"] and members[2]["reasons"] == [
            "less camera evidence: no camera make and model, no camera format, no camera folder"
        ]
        assert all(m["keep_probability"] is None for m in members)
    assert "the rule orders groups (0 of the 5 decided groups needed to learn)" in result.stderr
    assert not os.path.exists(ranking.model_path(str(db)))
    store = open_store(db)
    assert store.db["ranks"].count == 3 * PHOTOS


def test_learns_from_imported_decisions_and_explains(library, tmp_path, open_store):
    folder, db = library
    result = invoke(rank_command.cli, "--db", db, "--decisions", keeps_camera(folder, tmp_path), check=0)
    # Someone who keeps the camera's file follows the camera-original rule: what shashin reads from them.
    assert "the learned order (the rule's order) orders groups" in result.stderr
    assert "6 imported, 0 already imported, 0 failed" in result.stderr
    undecided = copies(folder, PHOTOS - 1)
    for group in json_lines(result.stdout):
        keeper, second, third = group["members"]
        assert "/Camera/" in keeper["path"]
        assert keeper["keep_probability"] > 0.5 > second["keep_probability"] >= third["keep_probability"]
        assert abs(sum(m["keep_probability"] for m in group["members"]) - 1) < 0.01
        # The keeper is explained against the runner-up, the others against the keeper: what decided, in words.
        assert all(1 <= len(member["reasons"]) <= 3 for member in group["members"])
    assert os.path.exists(ranking.model_path(str(db)))
    store = open_store(db)
    ranks = {row["path"]: row for row in store.db.query("select * from ranks")}
    assert ranks[undecided["camera"]]["rank"] == 1
    assert (
        json.loads(ranks[undecided["camera"]]["reasons"])
        == keepers(result.stdout)[ranks[undecided["camera"]]["group_id"]]["reasons"]
    )
    [decision] = [d for d in store.decisions() if d["members"][0]["path"] == copies(folder, 0)["camera"]]
    assert decision["source"] == "import" and decision["action"] == "keep"
    assert decision["group_id"] == ranks[copies(folder, 0)["camera"]]["group_id"]


def test_learns_a_preference_the_rule_does_not_share_and_says_why(library, tmp_path, open_store):
    """Someone who keeps the WhatsApp copy (the smallest file, in WhatsApp/), where the rule keeps the camera's."""
    folder, db = library
    decisions = keeps(folder, tmp_path, ["whatsapp"] * 5, range(5))
    result = invoke(rank_command.cli, "--db", db, "--decisions", decisions, check=0)
    assert "the learned order (smaller file) orders groups" in result.stderr
    rows = open_store(db).images_by_path(copies(folder, PHOTOS - 1).values())
    assert "/Camera/" in rule.cold_start_order(list(rows.values()))[0]["path"]
    for group in json_lines(result.stdout):
        keeper, runner_up, last = group["members"]
        assert "/WhatsApp/" in keeper["path"] and keeper["keep_probability"] > 0.9
        # How sure: the weight of the learned orders that choose the keeper (here nearly all of it).
        assert group["sureness"] > 0.9
        # The criterion that decided, from each member's side: the kept copy is the smaller file.
        assert keeper["reasons"] == ["smaller file"]
        assert runner_up["reasons"] == last["reasons"] == ["larger file"]


def test_the_rule_orders_when_the_model_does_not_beat_it(library, tmp_path):
    """Decisions that contradict each other: trained on the others, the model gets each one wrong."""
    folder, db = library
    decisions = keeps(folder, tmp_path, ["whatsapp", "camera", "whatsapp", "camera", "whatsapp"], range(5))
    result = invoke(rank_command.cli, "--db", db, "--decisions", decisions, check=0)
    said = "the rule orders groups (grouped cross-validated top-1: model 0.000, learned order 0.000, rule 0.400"
    assert said in result.stderr
    for group in json_lines(result.stdout):
        assert "/Camera/" in group["members"][0]["path"]
        assert all(member["keep_probability"] is None for member in group["members"])
        assert group["sureness"] is not None  # the model still says how sure it would be


def test_ask_prints_the_undecided_groups_least_sure_first(library, tmp_path, open_store):
    folder, db = library
    # Before any decision: groups in a shuffled order, nothing known.
    asked = json_lines(invoke(rank_command.cli, "--db", db, "--ask", 3, check=0).stdout)
    assert len(asked) == 3 and len({line["group"] for line in asked}) == 3
    assert all(m["keep_probability"] is None for line in asked for m in line["members"])
    assert all("/Camera/" in line["members"][0]["path"] for line in asked)  # ranked by the rule: its keeper first
    decisions = keeps(folder, tmp_path, ["camera", "camera", "whatsapp", "camera", "camera"], range(5))
    result = invoke(rank_command.cli, "--db", db, "--ask", 10, "--decisions", decisions, check=0)
    asked = json_lines(result.stdout)
    store = open_store(db)
    undecided = set(store.groups_of_paths([copies(folder, n)["camera"] for n in (5, 6)]).values())
    assert {line["group"] for line in asked} == undecided  # only 2 groups are undecided
    assert asked[0]["sureness"] <= asked[1]["sureness"] < 1
    for line in asked:
        chances = [member["keep_probability"] for member in line["members"]]
        assert chances == sorted(chances, reverse=True) and 0 <= line["sureness"] <= 1
    assert "2 asked" in result.stderr
    [least_sure] = json_lines(invoke(rank_command.cli, "--db", db, "--ask", 1, check=0).stdout)
    assert least_sure == asked[0]
    assert store.db["ranks"].count == 0  # asking ranks nothing


def test_deleted_files_still_teach(library, tmp_path):
    folder, db = library
    invoke(rank_command.cli, "--db", db, "--decisions", keeps_camera(folder, tmp_path), "-q", check=0)
    deleted = [copies(folder, n)[kind] for n in range(PHOTOS - 1) for kind in ("whatsapp", "exports")]
    aside = tmp_path / "aside"
    aside.mkdir()
    try:  # the library is shared by this module's tests: put the deleted copies back afterwards
        for path in deleted:
            shutil.move(path, aside / os.path.basename(path))
        run("shashin-hash", "--db", db, "-q", "--prune", folder, check=0)
        run("shashin-group", "--db", db, "-q", check=0)
    finally:
        for path in deleted:
            shutil.move(aside / os.path.basename(path), path)
    os.remove(ranking.model_path(str(db)))  # retrain from the snapshots alone
    result = invoke(rank_command.cli, "--db", db, check=0)
    assert "the learned order (the rule's order) orders groups" in result.stderr
    [group] = json_lines(result.stdout)  # only the undecided photo still has copies
    assert "/Camera/" in group["members"][0]["path"] and group["members"][0]["keep_probability"] > 0.5


def test_review_page_removals_teach_and_trashed_copies_are_not_ranked(library, open_store):
    folder, db = library
    (folder.parent / ".shashin-trash").mkdir(mode=0o700, exist_ok=True)
    paths = copies(folder, 0)
    store = open_store(db)
    group = store.groups_of_paths([paths["camera"]])[paths["camera"]]
    batch, outcomes = trash.remove(store, group, [paths["whatsapp"], paths["exports"]])
    try:
        assert all(outcome.ok for outcome in outcomes)
        result = invoke(rank_command.cli, "--db", db, check=0)
        ranked = {line["group"]: [member["path"] for member in line["members"]] for line in json_lines(result.stdout)}
        assert ranked[group] == [paths["camera"]]
        [(members, kept)] = store.keep_decisions()
        assert {m["path"]: k for m, k in zip(members, kept)} == {
            paths["camera"]: True,
            paths["whatsapp"]: False,
            paths["exports"]: False,
        }
        assert "the rule orders groups (1 of the 5 decided groups needed to learn)" in result.stderr
    finally:  # the library is shared by this module's tests
        trash.restore_batch(store, batch)


def test_saved_model_is_reused_until_decisions_change(library, tmp_path):
    folder, db = library
    invoke(rank_command.cli, "--db", db, "--decisions", keeps_camera(folder, tmp_path, range(5)), "-q", check=0)
    saved_model = ranking.model_path(str(db))
    saved = os.stat(saved_model).st_mtime_ns
    invoke(rank_command.cli, "--db", db, "-q", check=0)
    assert os.stat(saved_model).st_mtime_ns == saved
    result = invoke(rank_command.cli, "--db", db, "--decisions", keeps_camera(folder, tmp_path, range(6)), check=0)
    assert "1 imported, 5 already imported, 0 failed" in result.stderr
    assert load_model(saved_model).evaluation["groups"] == 6


def test_a_model_that_cannot_be_saved_is_one_line_and_ranking_goes_on(library, tmp_path):
    folder, db = library
    os.mkdir(ranking.model_path(str(db)))  # a folder where the model would go
    result = invoke(rank_command.cli, "--db", db, "--decisions", keeps_camera(folder, tmp_path, range(5)), check=1)
    assert "cannot save the model (" in result.stderr and "Traceback" not in result.stderr
    assert len(json_lines(result.stdout)) == PHOTOS


def record_person(db, keeps_larger, count=30):
    """A fresh database at db with count decisions of someone who keeps the larger (or the smaller) of two files."""
    for stale in (db, ranking.model_path(str(db))):
        if os.path.exists(stale):
            os.remove(stale)
    base = {"md5": None, "width": 100, "height": 100, "format": "JPEG", "metadata": {}, "mtime": 0}
    with contextlib.closing(Store(db)) as store:
        for n in range(count):
            large = dict(base, path="/a/{}/large.jpg".format(n), size=2000 + n)
            small = dict(base, path="/b/{}/small.jpg".format(n), size=1000 + n)
            store.record_decision(None, "keep", [(large, keeps_larger), (small, not keeps_larger)])
    return [large, small]


def test_a_model_of_other_decisions_is_never_reused(tmp_path, open_store):
    db = tmp_path / "shashin.db"
    pair = record_person(db, keeps_larger=True)
    list(ranking.rank_groups(open_store(db)))
    assert load_model(ranking.model_path(str(db))).rank([pair])[0][0]["path"] == pair[0]["path"]
    # Another person's database at the same path, with as many decisions: their model, not the first one's.
    pair = record_person(db, keeps_larger=False)
    list(ranking.rank_groups(open_store(db)))
    assert load_model(ranking.model_path(str(db))).rank([pair])[0][0]["path"] == pair[1]["path"]


def test_evaluate_compares_model_and_rule(library, tmp_path, open_store):
    folder, db = library
    result = invoke(rank_command.cli, "--db", db, "--evaluate", "--decisions", keeps_camera(folder, tmp_path), check=0)
    summary, *curve = json_lines(result.stdout)
    assert summary["groups"] == 6 and summary["pairs"] == 12
    assert summary["model_accuracy"] == summary["order_accuracy"] == summary["rule_accuracy"] == 1.0
    assert summary["used"] == "order"
    assert [point["decisions"] for point in curve] == [5]
    assert curve[0]["model_accuracy"] == curve[0]["order_accuracy"] == 1.0
    store = open_store(db)
    assert store.db["ranks"].count == 0  # evaluating ranks nothing


def test_bad_decision_lines_are_reported_and_the_rest_imported(library, tmp_path):
    folder, db = library
    paths = copies(folder, 0)
    decisions = tmp_path / "decisions.jsonl"
    decisions.write_text(
        "\n".join(
            [
                "not json",
                json.dumps({"kept": paths["camera"], "deleted": [paths["exports"]]}),
                json.dumps({"kept": [paths["camera"]], "deleted": [str(tmp_path / "never-scanned.jpg")]}),
                json.dumps({"kept": [paths["camera"]], "deleted": [paths["camera"], paths["whatsapp"]]}),
                json.dumps({"kept": [paths["camera"]], "deleted": [paths["exports"], paths["whatsapp"]]}),
                json.dumps({"kept": [paths["camera"]], "deleted": [copies(folder, 1)["exports"]]}),
                json.dumps({"kept": [paths["camera"]], "deleted": [str(folder / "alone.jpg")]}),
            ]
        )
    )
    with contextlib.closing(Store(db)) as store:  # a photo of its own: scanned, in no group
        store.db["images"].insert({"path": str(folder / "alone.jpg"), "size": 1, "mtime": 1.0, "md5": "0" * 32})
    result = invoke(rank_command.cli, "--db", db, "--decisions", decisions, check=1)
    errors = [line for line in result.stderr.splitlines() if "keeper rules:" not in line]
    assert "decisions.jsonl line 1: not a JSON object" in errors[0]
    assert "decisions.jsonl line 2: not a JSON object" in errors[1]
    assert "never-scanned.jpg: not in the database" in errors[2]
    assert "line 3: needs a kept and a deleted file" in errors[3]
    assert "line 4: kept and deleted at once: " + paths["camera"] in errors[4]
    assert "line 6: its files are in different groups (" in errors[5]  # another photo's copy
    assert "line 7: its files are in different groups (" in errors[6] and " and none)" in errors[6]
    assert "1 imported, 0 already imported, 6 failed" in result.stderr
    assert len(json_lines(result.stdout)) == PHOTOS  # ranking went on


def test_accept_preview_counts_what_would_go(library, tmp_path, open_store):
    folder, db = library
    invoke(rank_command.cli, "--db", db, "--decisions", keeps_camera(folder, tmp_path), "-q", check=0)
    store = open_store(db)
    [suggestion] = store.confident_suggestions(0.5)  # decided groups are not suggested again
    undecided = copies(folder, PHOTOS - 1)
    assert suggestion["keep"] == undecided["camera"]
    assert {m["path"] for m in suggestion["remove"]} == {undecided["whatsapp"], undecided["exports"]}
    preview = ranking.acceptance_preview([suggestion])
    assert preview == {
        "groups": 1,
        "files": 2,
        "bytes": os.path.getsize(undecided["whatsapp"]) + os.path.getsize(undecided["exports"]),
    }
    assert store.confident_suggestions(1.0) == []


def test_learns_an_ordered_preference_with_a_threshold_and_says_it():
    """Someone who keeps the smallest copy whose long edge is still at least 1000 px: the learned order reads
    that from 40 decisions (of the thresholds between the long edges that tell it, 800 and 1280 px, the roundest,
    as a person says it), ranks new groups by it, and explains each member by the criterion that decided."""
    generator = random.Random(7)

    def group(number):
        edges = generator.sample([640, 800, 1280, 1600, 2048, 4032], 4)
        return [
            {
                "path": "/library/{}/copy-{}.jpg".format(number, letter),
                "width": edge,
                "height": edge * 3 // 4,
                "size": edge * generator.randint(100, 400),
                "format": "JPEG",
                "taken_at": None,
                "taken_at_source": None,
            }
            for letter, edge in zip("abcd", edges)
        ]

    def keeper(members):
        return min(members, key=lambda m: (m["width"] < 1000, m["size"]))

    groups = [group(n) for n in range(60)]
    ranker, ranked_groups = learned(groups, keeper, 40)
    assert ranker.learned_order() == ["long edge at least 1000 px", "smaller file"]
    for members, ranked in ranked_groups:
        assert ranked[0]["path"] == keeper(members)["path"]
        assert ranked[0]["reasons"] == ["smaller file"]
        for member in ranked[1:]:
            edge = next(m["width"] for m in members if m["path"] == member["path"])
            assert member["reasons"] == ["larger file" if edge >= 1000 else "long edge under 1000 px"]


def test_training_and_ranking_leave_the_cycle_collector_as_they_found_it():
    """They pause it (ranking makes millions of objects and no cycles), and turn it back on only if it was on."""
    groups = [
        [{"path": "/library/{}/{}.jpg".format(n, w), "width": 100 * w, "height": 100, "size": w} for w in (1, 2)]
        for n in range(40)
    ]
    decisions = [(members, [True, False]) for members in groups]
    assert gc.isenabled()
    train(decisions).rank(groups)
    assert gc.isenabled()
    gc.disable()
    try:
        train(decisions).rank(groups)
        assert not gc.isenabled()
    finally:
        gc.enable()


@pytest.mark.parametrize(
    "low, high, said",
    [(800, 1280, 1000), (824, 1000, 900), (1440, 1536, 1500), (612, 613, 613), (0, 3, 1), (999, 1000, 1000)],
)
def test_a_long_edge_threshold_is_the_roundest_number_between_the_edges_seen(low, high, said):
    assert lexicographic.roundest(low, high) == said


def test_a_rounder_long_edge_is_likelier_said():
    """Of two thresholds of the same kind, a person is ROUNDER times likelier to say the one with a significant
    digit fewer, and the kind as a whole is as likely as any other."""
    found = [lexicographic.Criterion("long edge", edge, 1) for edge in (800.0, 760.0, 763.0)]
    found.append(lexicographic.Criterion("fact", 0, 1))
    prior = numpy.exp(lexicographic.log_prior(found))
    assert prior[0] == pytest.approx(lexicographic.ROUNDER * prior[1])
    assert prior[1] == pytest.approx(lexicographic.ROUNDER * prior[2])
    assert prior[:3].sum() == pytest.approx(prior[3]) == pytest.approx(0.5)


@pytest.mark.parametrize(
    "stem, marks",
    [
        ("IMG_1234", ["camera"]),
        ("IMG_1234-Edit", ["edit"]),  # an edit of the camera's name is not the camera's name
        ("DSC01370-2", ["edit"]),
        ("IMG_E1234", ["edit"]),
        ("beach edited", ["edit"]),
        ("meredith_birthday", []),
        ("credit_scan", []),
        ("2019-09-03", []),
        ("20210304-2", []),  # a date and a number: only a camera's name with -2 is a second version
        ("IMG_1234-edits", ["edit"]),
        ("IMG_1234-Bearbeitet", ["edit"]),
        ("photo-2021-03-04", ["web"]),  # WhatsApp's exports are PHOTO-..., upper case
        ("DSC01282-scaled", ["web"]),
        ("holiday-1024x768", ["web"]),
        ("photo-IMG_1148", ["web"]),
        ("PHOTO-2021-05-03-12-34-56", ["messenger"]),  # WhatsApp's export, not a web download
        ("IMG-20200824-WA9127", ["messenger"]),
        ("DSC01370-Enhanced-SR", ["upscaler"]),
    ],
)
def test_name_marks(stem, marks):
    assert rule.name_marks(stem) == marks


def test_a_criterion_that_decides_a_few_groups_is_not_lost_behind_a_tie_that_decides_most():
    """Someone who keeps what is not edited, then a long edge of at least 700 px, then the oldest file: the
    first two decide 3 groups each of 30, the oldest file the rest. Orders that a tie's criterion completes at
    once (any criterion, then the oldest file) gain more from one step to the next than "not edited, long edge
    at least 700 px" does before the oldest file completes it, and filled the search's beam before it; the
    heaviest order is the person's."""
    generator = random.Random(1)
    groups, size = 30, 3
    count = groups * size
    starts = numpy.arange(0, count, size)
    age = numpy.array([generator.random() for _ in range(count)])
    edited, small = numpy.zeros(count), numpy.zeros(count)
    kept = numpy.zeros(count, dtype=bool)
    for group in range(groups):
        members = numpy.arange(group * size, group * size + size)
        oldest = members[numpy.argmax(age[members])]
        if group < 3:
            edited[oldest] = 1
        elif group < 6:
            small[oldest] = 1
        kept[min(members, key=lambda member: (edited[member], small[member], -age[member]))] = True
    found = [
        lexicographic.Criterion("fact", list(FACTS).index("edited"), -1),
        lexicographic.Criterion("long edge", 700.0, 1),
        lexicographic.Criterion("tie", list(FACTS).index("file time"), 1),
    ]
    table = [-edited, 1 - small, age]
    # Folders that each hold one deleted copy: every decision agrees with them.
    for folder in range(120):
        found.append(lexicographic.Criterion("folder", "/library/{}".format(folder), -1))
        members = numpy.arange(folder % groups * size, folder % groups * size + size)
        table.append(-numpy.isin(numpy.arange(count), generator.choice(members[~kept[members]])).astype(float))
    listing = numpy.vstack([-numpy.arange(count, dtype=float), numpy.arange(count)])
    weighed = lexicographic.weigh(numpy.vstack(table), kept, starts, found, listing)
    assert set(weighed[0].rows) == {0, 1, 2}


def test_the_keeper_is_the_copy_with_the_most_votes_however_close():
    """The copies after the keeper follow their share of the weighed orders' vote to a thousandth, where the
    heaviest order's preference breaks ties; the keeper is still the copy with the most, by however little."""
    votes, heaviest_prefers_second = numpy.array([0.5004, 0.4996]), numpy.array([[0.0, 1.0]])
    scores = model._voted(votes, heaviest_prefers_second, (0,), numpy.array([0.0, -1.0]), numpy.array([0]))
    assert scores[0] > scores[1]


def jpeg_row(path, generator):
    """An 800 x 600 JPEG's row as ranking reads it, of a random size, with no capture date."""
    size = generator.randint(50_000, 400_000)
    return {"path": path, "width": 800, "height": 600, "size": size, "format": "JPEG", "taken_at": None}


def learned(groups, keeper, count):
    """A ranker trained on the first count groups as someone who keeps keeper(members) decides them, made to
    rank by its learned order, and the other groups, each with its ranking."""
    ranker = train([(members, [m is keeper(members) for m in members]) for members in groups[:count]])
    ranker.evaluation["used"] = "order"
    return ranker, list(zip(groups[count:], ranker.rank(groups[count:])))


def test_learns_a_name_mark_and_says_it():
    """Someone who never keeps a messenger's copy (WhatsApp's -WA0001 names, in any folder), else the largest
    file: the learned order says it in the words a person would, and explains the messenger's copy by it."""
    generator = random.Random(11)
    names = ("IMG_{:04d}", "IMG-20210101-WA{:04d}", "photo-{:04d}", "beach {:04d} edited")

    def group(number):
        folders = generator.sample(["Phone", "Backup", "Shared", "Downloads", "Old"], len(names))
        return [
            jpeg_row("/library/{}/{}.jpg".format(folder, name.format(number)), generator)
            for folder, name in zip(folders, names)
        ]

    def keeper(members):
        return min(members, key=lambda m: ("-WA" in m["path"], -m["size"]))

    groups = [group(n) for n in range(60)]
    ranker, ranked_groups = learned(groups, keeper, 30)
    assert ranker.learned_order() == ["not a messenger's name", "larger file"]
    for members, ranked in ranked_groups:
        assert ranked[0]["path"] == keeper(members)["path"]
        messenger = next(member for member in ranked if "-WA" in member["path"])
        if messenger is not ranked[0]:
            assert messenger["reasons"] == ["a messenger's name"]


def test_learns_a_folder_by_its_path_not_its_words():
    """Someone who keeps the copy in the camera's folder /library/EOS/, else the largest file: the backup in
    /library/Backup/EOS/ has the same folder words, so only the folder's path says it, and the learned order
    says that path."""
    generator = random.Random(7)
    folders = ("EOS/DCIM/100CANON", "Backup/EOS/DCIM/100CANON", "Exports", "Phone")

    def group(number):
        return [
            jpeg_row("/library/{}/IMG_{:04d}.jpg".format(folder, number), generator)
            for folder in generator.sample(folders, 3)
        ]

    def keeper(members):
        return min(members, key=lambda m: (not m["path"].startswith("/library/EOS/"), -m["size"]))

    groups = [group(n) for n in range(60)]
    ranker, ranked_groups = learned(groups, keeper, 30)
    assert ranker.learned_order() == ["in /library/EOS/", "larger file"]
    for members, ranked in ranked_groups:
        assert ranked[0]["path"] == keeper(members)["path"]
        backup = next((member for member in ranked if "/Backup/" in member["path"]), None)
        if backup and ranked[0]["path"].startswith("/library/EOS/"):
            assert backup["reasons"] == ["in Backup/ rather than EOS/"]


def test_a_folder_word_that_parts_the_same_copies_as_a_path_is_said_and_holds_in_other_folders():
    """Someone who keeps the copy in Originals/, else the largest, decided in 2019's folders: the word
    "originals" and the path /library/2019/Originals/ part the same copies, and of the two the word is
    learned, so that 2020's groups get their Originals/ copy too."""
    generator = random.Random(3)
    names = {"Originals": "beach {:04d}", "Prints": "beach {:04d} print", "Edits": "beach {:04d} edit"}

    def group(year, number, folders=tuple(names)):
        return [
            jpeg_row("/library/{}/{}/{}.jpg".format(year, folder, names[folder].format(number)), generator)
            for folder in folders
        ]

    def keeper(members):
        return min(members, key=lambda m: ("/Originals/" not in m["path"], -m["size"]))

    decided = [group(2019, n) for n in range(30)] + [group(2019, n, ("Prints", "Edits")) for n in range(30, 40)]
    generator.shuffle(decided)
    ranker, ranked_groups = learned(decided + [group(2020, n) for n in range(30)], keeper, len(decided))
    assert ranker.learned_order() == ['folder word "originals"', "larger file"]
    for members, ranked in ranked_groups:
        assert ranked[0]["path"] == keeper(members)["path"]


def test_of_copies_that_look_the_same_the_first_listed_is_kept_with_no_criterion_for_it():
    """Someone who keeps the largest file, and of two byte-identical backups the one a file manager lists first:
    the learned order is "larger file" alone (a person keeps the first listed of copies nothing tells apart,
    without saying so), ranks new groups the same way, and says why the twin comes second."""
    generator = random.Random(5)

    def group(number):
        first, second = generator.sample(["Backup", "Phone", "Old Laptop", "NAS/2019", "Camera Roll"], 2)
        original = jpeg_row("/library/{}/IMG_{:04d}.jpg".format(first, number), generator)
        twin = dict(original, path="/library/{}/IMG_{:04d}.jpg".format(second, number))
        width, height = generator.choice([(640, 480), (1600, 1200)])
        web = dict(original, path="/library/Web/IMG_{:04d}-web.jpg".format(number), width=width, height=height)
        return [original, twin, dict(web, size=original["size"] // 3)]

    def keeper(members):
        return min(members, key=lambda m: (-m["size"], m["path"]))

    groups = [group(n) for n in range(60)]
    ranker, ranked_groups = learned(groups, keeper, 30)
    assert ranker.learned_order() == ["larger file"]
    for members, ranked in ranked_groups:
        assert [member["path"] for member in ranked[:2]] == sorted(m["path"] for m in members[:2])
        assert [member["reasons"] for member in ranked] == [
            ["first in name order"],
            ["later in name order"],
            ["smaller file"],
        ]
    # A copy alone in its group is told apart from no other.
    assert ranker.rank([groups[0][:1]])[0][0]["reasons"] == []


def test_no_db_is_not_an_option():
    assert "No such option '--no-db'" in invoke(rank_command.cli, "--no-db", check=2).stderr


def test_cold_start_order_is_the_documented_rule():
    base = {"width": 100, "height": 100, "size": 10, "taken_at": None, "taken_at_source": None, "format": "PNG"}
    members = [
        dict(base, path="/a/longer/path.png"),
        dict(base, path="/a/short.png"),
        dict(base, path="/a/dated-late.png", taken_at="2020-01-01T00:00:00", taken_at_source="DateTimeOriginal"),
        dict(base, path="/a/dated-early.png", taken_at="2019-01-01T00:00:00+02:00", taken_at_source="CreateDate"),
        dict(base, path="/a/mtime-only.png", taken_at="2018-01-01T00:00:00", taken_at_source="FileModifyDate"),
        dict(base, path="/a/big-file.png", size=20),
        dict(base, path="/a/large.png", width=200),
        dict(base, path="/a/edited.jpg", format="JPEG", width=300, metadata={"EXIF:Software": "GIMP 2.10"}),
        dict(base, path="/a/camera.jpg", format="JPEG", width=50),
    ]
    order = [os.path.basename(m["path"]) for m in rule.cold_start_order(members)]
    assert order == [
        "camera.jpg",
        "edited.jpg",
        "large.png",
        "dated-early.png",
        "dated-late.png",
        "big-file.png",
        "short.png",
        "mtime-only.png",
        "path.png",
    ]


def test_the_rule_keeps_the_whole_clip_over_a_trimmed_copy_with_more_bytes():
    """A trim re-encoded at a higher bitrate has more bytes and as many pixels: the longer clip is the original."""
    base = {"width": 1920, "height": 1080, "format": "MP4", "taken_at": None, "taken_at_source": None}
    original = dict(base, path="/v/Phone/VID_0001.mp4", size=40_000_000, duration=20.0, bitrate=16_000_000)
    trimmed = dict(base, path="/v/Edits/VID_0001.mp4", size=60_000_000, duration=10.0, bitrate=48_000_000)
    assert [m["path"] for m in rule.cold_start_order([trimmed, original])] == [original["path"], trimmed["path"]]
    assert rule.rule_reason(original, trimmed) == ["longer clip"]


def test_the_rule_finds_the_camera_original_among_every_kind_of_copy(tmp_path):
    """Each photo with one copy of every kind: PNG, WebP and TIFF of the same pixels, a brightened Lightroom
    export, an upscaled one, a watermarked, a date-shifted, a messenger, a web copy and an edit."""
    photos, rows = scanned_archive(tmp_path)
    for photo in photos:
        members = [rows[str(path)] for path in photo["files"]]
        keeper = rule.cold_start_order(members)[0]["path"]
        assert keeper in {str(path) for path in photo["originals"]}, keeper
        assert max(members, key=rule.pixels)["path"] != keeper  # the upscaled copy has more pixels
        assert rule.camera_evidence(rows[keeper])["camera make and model"] and not rule.edited(rows[keeper])


def test_the_dated_copy_kept_says_it_has_a_capture_date_and_a_long_history_evaluates(monkeypatch):
    """Someone who keeps the only copy with a capture date: the learned orders say so from each member's side
    (not "later capture" for the dated one); and --evaluate trains on decisions older than those the orders are
    weighed on (the learning curve's first folds) without failing."""
    generator = random.Random(5)

    def group(number):
        members = [
            {
                "path": "/library/{}/{}{}.jpg".format(number, generator.choice("abcdef"), copy),
                "width": edge,
                "height": edge * 3 // 4,
                "size": generator.randint(10**5, 10**6),
                "mtime": generator.randint(1, 10**9),
                "format": "JPEG",
                "taken_at": None,
                "taken_at_source": None,
            }
            for copy, edge in enumerate(generator.sample([640, 1024, 2048, 4000], 3))
        ]
        members[0].update(taken_at="2019-0{}-01T10:00:00".format(1 + number % 9), taken_at_source="DateTimeOriginal")
        generator.shuffle(members)
        return members

    groups = [group(n) for n in range(40)]
    decisions = [(members, [m["taken_at"] is not None for m in members]) for members in groups]
    ranker = train(decisions[:30])
    ranker.evaluation["used"] = "order"
    for members, ranked in zip(groups[30:], ranker.rank(groups[30:])):
        assert ranked[0]["path"] == next(m["path"] for m in members if m["taken_at"])
        assert ranked[0]["reasons"] == ["has a capture date"]
        assert all(member["reasons"] == ["no capture date"] for member in ranked[1:])
    monkeypatch.setattr(model, "SELECTION_GROUPS", 20)
    curve = model.evaluate(decisions)["learning_curve"]
    assert curve[-1]["order_accuracy"] == 1.0
