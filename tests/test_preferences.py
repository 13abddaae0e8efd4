"""Keeper rules a person sets: the syntax, the order they give real scanned copies, shashin-rank --prefer."""

import contextlib
import os
import random
import unicodedata

import pytest
import test_rank

from conftest import copies, invoke, json_lines, run
from shashin.cli import rank as rank_command
from shashin.ranking import preferences, rule
from shashin.store import Store

# The library test_rank.py scans: Camera/ originals with the phone's EXIF, half-size WhatsApp/ copies, and
# Exports/ PNGs of the same pixels (larger files) edited in Photoshop; each test gets its own database.
PHOTOS, scanned, library = test_rank.PHOTOS, test_rank.scanned, test_rank.library


def kinds_in_order(db, rules):
    """For each group, its copies' kinds (camera, whatsapp, exports) keeper first, by these rules."""
    with contextlib.closing(Store(db)) as store:
        groups = store.ranking_groups()
    positions = preferences.parse(rules) if rules else None
    return [[kind_of(m["path"]) for m in rule.cold_start_order(members, positions)] for _, _, members in groups]


def kind_of(path):
    return {"Camera": "camera", "WhatsApp": "whatsapp", "Exports": "exports"}[os.path.basename(os.path.dirname(path))]


@pytest.mark.parametrize(
    "rules, order",
    [
        (None, ["camera", "whatsapp", "exports"]),  # the built-in rule: the camera's evidence
        ("largest-file", ["exports", "camera", "whatsapp"]),
        ("folder:whatsapp", ["whatsapp", "camera", "exports"]),
        ("not-folder:Camera, most-pixels", ["exports", "whatsapp", "camera"]),
        ("long-edge:600, smallest-file", ["camera", "exports", "whatsapp"]),
        ("not-edited, smallest-file", ["whatsapp", "camera", "exports"]),
        ("format:png", ["exports", "camera", "whatsapp"]),
        ("name:IMG-*-WA*", ["whatsapp", "camera", "exports"]),
        ("not-camera-exif, latest-capture", ["whatsapp", "exports", "camera"]),
        ("earliest-capture, fewest-pixels", ["camera", "whatsapp", "exports"]),
    ],
)
def test_the_first_rule_that_tells_copies_apart_decides(scanned, rules, order):
    _, db = scanned
    assert kinds_in_order(db, rules) == [order] * PHOTOS


def test_a_tie_falls_to_the_next_rule_and_then_to_the_built_in_rule(scanned):
    _, db = scanned
    with contextlib.closing(Store(db)) as store:
        _, _, members = store.ranking_groups()[0]
    by_kind = {kind_of(m["path"]): m for m in members}
    rules = preferences.parse("format:jpeg, not-edited")
    # Both JPEGs, neither edited: the built-in rule decides, and says why.
    assert rules.reason(by_kind["camera"], by_kind["whatsapp"]) == [
        "camera evidence: camera make and model, camera-style name, camera folder"
    ]
    assert rules.reason(by_kind["whatsapp"], by_kind["exports"]) == ["JPEG"]
    assert rules.reason(by_kind["exports"], by_kind["camera"]) == ["not JPEG"]
    most_tags = preferences.parse("most-tags").order(members)[0]
    assert rule.tag_count(most_tags) == max(map(rule.tag_count, members)) > min(map(rule.tag_count, members))
    assert rules(members) == [[m["path"] for m in rules.order(members)].index(m["path"]) for m in members]


@pytest.mark.parametrize(
    "text, problem",
    [
        ("bigest-file", "unknown keeper rule 'bigest-file'; the rules are: folder:TEXT, not-folder:TEXT,"),
        ("folder", "folder needs TEXT: folder:DCIM"),
        ("largest-file:2", "largest-file takes no argument (got '2')"),
        ("long-edge:big", "long-edge needs a whole number of pixels, like long-edge:1200 (got 'big')"),
        (
            "long-edge:²",
            "long-edge needs a whole number of pixels, like long-edge:1200 (got '²')",
        ),  # a digit int() refuses
        ("largest-file, :DCIM", "a keeper rule is missing before ':DCIM'"),
        ("format:bogus", "format: unknown format 'bogus'; formats: AVIF, BMP"),
        (" , ", "no keeper rule in ','"),
    ],
)
def test_bad_rules_say_what_is_wrong(text, problem):
    with pytest.raises(preferences.RuleError) as raised:
        preferences.parse(text)
    assert str(raised.value).startswith(problem) and "\n" not in str(raised.value)


def test_a_raw_file_is_the_camera_s_format_and_format_raw_names_every_raw():
    base = {"width": 100, "height": 100, "size": 10, "taken_at": None, "taken_at_source": None}
    raw, export = dict(base, path="/a/DSC_0001.NEF", format="NEF"), dict(base, path="/b/DSC_0001.png", format="PNG")
    assert rule.camera_evidence(raw, {})["camera format"] and not rule.camera_evidence(export, {})["camera format"]
    assert rule.cold_start_order([export, raw])[0] is raw
    for text in ("format:RAW", "format:nef"):
        assert preferences.parse(text).order([export, raw])[0] is raw
    assert preferences.parse("not-format:raw").order([raw, export])[0] is export


def test_names_as_macos_writes_them_match_rules_typed_composed():
    base = {"width": 100, "height": 100, "size": 10, "taken_at": None, "taken_at_source": None, "format": "JPEG"}
    decomposed = dict(base, path=unicodedata.normalize("NFD", "/Photos/Caméra/Été.jpg"))
    other = dict(base, path="/Photos/Other/Winter.jpg")
    for text in ("folder:caméra", "name:été*"):
        assert preferences.parse(text).order([other, decomposed])[0] is decomposed


def test_the_text_form_reads_back_the_same():
    rules = preferences.parse(" Folder:DCIM ,largest-file,, not-edited, name:IMG_* , long-edge:1200 ")
    assert str(rules) == "folder:DCIM, largest-file, not-edited, name:IMG_*, long-edge:1200"
    assert preferences.parse(str(rules)) == rules
    assert preferences.parse("") is preferences.parse("default") is preferences.parse(" DEFAULT ") is None


def test_prefer_stores_shows_and_clears_the_rules(library, open_store):
    folder, db = library
    result = invoke(rank_command.cli, "--db", db, "--prefer", "folder:WhatsApp, largest-file", check=0)
    assert "keeper rules: folder:WhatsApp, largest-file" in result.stderr
    store = open_store(db)
    assert store.keeper_rules() == [("folder", "WhatsApp"), ("largest-file", None)]
    assert preferences.load(store) == preferences.parse("folder:WhatsApp, largest-file")
    # Shown at every run, kept until changed.
    assert "keeper rules: folder:WhatsApp, largest-file" in invoke(rank_command.cli, "--db", db, check=0).stderr
    for clearing in ("default", ""):
        invoke(rank_command.cli, "--db", db, "--prefer", "not-edited", check=0)
        result = invoke(rank_command.cli, "--db", db, "--prefer", clearing, check=0)
        assert "keeper rules: none, the built-in rule decides" in result.stderr
        assert store.keeper_rules() == [] and preferences.load(store) is None


def test_rules_outrank_the_decisions_made_before_them(library, tmp_path, open_store):
    """Someone kept the WhatsApp copy of six photos, then said "the largest file": the rules decide, not the
    learned "smaller file" (and bulk accept is not offered the old keepers); a decision made since teaches."""
    folder, db = library
    kept_small = test_rank.keeps(folder, tmp_path, ["whatsapp"] * 6, range(6))
    before = invoke(rank_command.cli, "--db", db, "--decisions", kept_small, check=0)
    assert "the rule orders groups" not in before.stderr  # learned from them
    result = invoke(rank_command.cli, "--db", db, "--prefer", "largest-file", check=0)
    store = open_store(db)
    assert store.keep_decisions(preferences.load(store).agrees) == [] and len(store.keep_decisions()) == 6
    last = copies(folder, test_rank.PHOTOS - 1)
    keeper = max(last.values(), key=os.path.getsize)
    assert keeper in {group["members"][0]["path"] for group in json_lines(result.stdout)}
    assert "the rule orders groups (0 of the 5 decided groups needed to learn; 6 made before the keeper rules" in (
        result.stderr
    )
    since = test_rank.keeps(folder, tmp_path, ["whatsapp"], [test_rank.PHOTOS - 1])
    invoke(rank_command.cli, "--db", db, "--decisions", since, "-q", check=0)
    assert len(store.keep_decisions(preferences.load(store).agrees)) == 1


def test_the_learner_orders_copies_only_within_a_place_of_the_rules():
    """Decisions that keep the smallest file, none of them with a copy in Camera/: the rules "folder:Camera"
    tie those copies, so the decisions stand and teach "smaller file"; where a group has a Camera/ copy, the
    rules keep it, whatever the learner would, and say why; the learner's sureness says when it disagrees."""
    from shashin.ranking import model

    generator = random.Random(3)

    def group(number, folders):
        return [
            test_rank.jpeg_row("/library/{}/IMG_{:04d}-{}.jpg".format(where, number, index), generator)
            for index, where in enumerate(folders)
        ]

    rules = preferences.parse("folder:Camera")
    decided = [group(n, ["Backup", "Shared", "Old"]) for n in range(20)]
    smallest = [[m["size"] == min(x["size"] for x in members) for m in members] for members in decided]
    assert all(rules.agrees(members, kept) for members, kept in zip(decided, smallest))
    ranker = model.train(list(zip(decided, smallest)), rules)
    assert ranker.evaluation["used"] != "rule"
    fresh = [group(n, ["Backup", "Camera", "Old"]) for n in range(20, 30)]
    ranks, sureness = ranker.rank_and_sureness(fresh)
    for members, ranked, sure in zip(fresh, ranks, sureness):
        assert "/Camera/" in ranked[0]["path"] and ranked[0]["keep_probability"] == 1.0
        # How sure is the learner's own: where it would keep another copy, the keeper is no bulk accept.
        smallest = min(members, key=lambda m: m["size"])
        assert (sure > 0.5) == ("/Camera/" in smallest["path"]), (sure, smallest["path"])
        assert all(member["reasons"] == ["not in a folder with Camera"] for member in ranked[1:])
        assert all(member["keep_probability"] == 0.0 for member in ranked[1:])
    tied = [group(n, ["Backup", "Shared", "Old"]) for n in range(30, 40)]
    for members, ranked in zip(tied, ranker.rank(tied)):
        assert ranked[0]["path"] == min(members, key=lambda m: m["size"])["path"]  # the learner, within the tie


def test_a_twin_the_rules_put_after_its_copy_does_not_take_the_learner_s_choice_from_it():
    """Someone who keeps the larger file, under the rules "not-folder:Archive": of two byte-identical copies
    the learner keeps the first listed, but only within a place of the rules. Archive/ is listed before
    Phone/, yet its copy is no stand-in for the Phone/ copy the larger file keeps, which stays the keeper
    over a smaller copy with more pixels."""
    from shashin.ranking import model

    generator = random.Random(5)

    def copies(number, where, *folders):
        original = test_rank.jpeg_row("/library/{}/IMG_{:04d}.jpg".format(where, number), generator)
        return original, [dict(original, path="/library/{}/IMG_{:04d}.jpg".format(f, number)) for f in folders]

    decided = []
    for number in range(30):
        # Folders at random, so that no folder's word explains the decisions as the larger file does.
        original, (web,) = copies(number, *generator.sample(["Phone", "Camera", "Pictures", "Web", "Shared"], 2))
        width, height = generator.choice([(640, 480), (1600, 1200)])
        decided.append(([original, dict(web, width=width, height=height, size=original["size"] // 3)], [True, False]))
    ranker = model.train(decided, preferences.parse("not-folder:Archive"))
    assert ranker.evaluation["used"] == "order"
    fresh = []
    for number in range(30, 40):
        original, (twin, shared) = copies(number, "Phone", "Archive", "Shared")
        fresh.append([twin, original, dict(shared, width=1600, height=1200, size=original["size"] * 2 // 3)])
    for members, ranked in zip(fresh, ranker.rank(fresh)):
        assert [member["path"] for member in ranked] == [members[1]["path"], members[2]["path"], members[0]["path"]]


def test_the_preview_is_a_floor_where_saved_rules_chose_the_model_s_keepers(library, tmp_path, open_store):
    """Rules keep the WhatsApp copy; the person kept the Camera/ one six times since (the learner disagrees):
    rules that say nothing leave the WhatsApp keepers to the model, which may choose others: "at least"."""
    folder, db = library
    invoke(rank_command.cli, "--db", db, "--prefer", "folder:WhatsApp", "-q", check=0)
    kept_camera = test_rank.keeps_camera(folder, tmp_path, range(6))
    invoke(rank_command.cli, "--db", db, "--decisions", kept_camera, "-q", check=0)
    store = open_store(db)
    assert store.ranked_by_model()
    preview = preferences.preview(store, preferences.parse("folder:Nothing"))
    assert preview["at_least"] and preview["changed"] == 0
    assert not preferences.preview(store, None)["at_least"]  # the built-in rule: compared as it is


def test_bad_prefer_is_one_line_and_exit_2_and_changes_nothing(library, open_store):
    _, db = library
    invoke(rank_command.cli, "--db", db, "--prefer", "most-pixels", check=0)
    result = run("shashin-rank", "--db", db, "--prefer", "folder:DCIM, bigest-file", check=2)
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("Error: --prefer: unknown keeper rule")
    assert result.stdout == ""
    assert open_store(db).keeper_rules() == [("most-pixels", None)]


def test_stored_rules_order_copies_as_typed(library, open_store):
    folder, db = library
    invoke(rank_command.cli, "--db", db, "--prefer", "folder:WhatsApp", check=0)
    store = open_store(db)
    rules = preferences.load(store)
    for _, _, members in store.ranking_groups():
        keeper = rules.order(members)[0]["path"]
        assert keeper in {copies(folder, n)["whatsapp"] for n in range(PHOTOS)}


def test_shashin_rank_ranks_by_the_rules_and_says_why(library):
    folder, db = library
    result = invoke(rank_command.cli, "--db", db, "--prefer", "not-camera-exif, largest-file", check=0)
    for group in json_lines(result.stdout):
        keeper, second, third = group["members"]
        assert (kind_of(keeper["path"]), kind_of(second["path"]), kind_of(third["path"])) == (
            "exports",
            "whatsapp",
            "camera",
        )
        assert keeper["reasons"] == ["larger file"] and third["reasons"] == ["has camera EXIF"]
    cleared = invoke(rank_command.cli, "--db", db, "--prefer", "default", check=0)
    assert {kind_of(group["members"][0]["path"]) for group in json_lines(cleared.stdout)} == {"camera"}


def test_new_rules_drop_the_ranks_made_under_the_old_ones_a_model_s_too(library, open_store):
    """A model's keepers under old rules are no suggestion under new ones: bulk accept would act on them."""
    _, db = library
    invoke(rank_command.cli, "--db", db, "-q", check=0)
    store = open_store(db)
    ranked = store.db["ranks"].count
    assert ranked == 3 * PHOTOS and not store.ranked_by_model()
    preferences.save(store, preferences.parse("largest-file"))
    assert store.db["ranks"].count == 0  # the page orders by the new rules until shashin-rank runs
    model_ranks = [
        {
            "path": m["path"],
            "group_id": g,
            "rank": i + 1,
            "keep_probability": 0.9 - i / 10,
            "reasons": [],
            "sureness": 0.9,
        }
        for g, _, members in store.ranking_groups()
        for i, m in enumerate(members)
    ]
    store.save_ranks(model_ranks)
    assert store.confident_suggestions(0.5)
    assert all("/Camera/" in row["path"] for row in model_ranks if row["rank"] == 1)
    # Rules that say nothing of these copies leave the model's keepers; rules against them change them all.
    assert preferences.preview(store, preferences.parse("folder:Nowhere"))["changed"] == 0
    assert preferences.preview(store, preferences.parse("folder:WhatsApp"))["changed"] == PHOTOS
    preferences.save(store, preferences.parse("smallest-file"))
    assert store.db["ranks"].count == 0 and store.keeper_rules() == [("smallest-file", None)]
    assert store.confident_suggestions(0.5) == []
