"""Screenshots of the review plugin's pages for docs/review.md, taken again with one command.

Makes the demo library (``python -m shashin.demo``), scans it (``shashin-scan``), serves it with a
real ``datasette --root`` and photographs each page in Debian's chromium at 1440×900 and 390×844
(the top of the page, as a person first sees it), as JPEGs in docs/images/<page>-<width>.jpg:

  review       /-/shashin, as the scan left it
  compare      /-/shashin/compare/<the first group on the review page>
  suggestions  /-/shashin/suggestions, once five groups are decided and shashin-rank learnt from them
  trash        /-/shashin/trash, after those removals and accepting the suggestions

A page that answers 404 (not built yet) or a step that fails (shashin-rank) is reported and the
others are taken anyway.

  .venv/bin/python benchmarks/screenshots.py                  # into docs/images/
  .venv/bin/python benchmarks/screenshots.py --out /tmp/shots
"""

import argparse
import contextlib
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from browser import chromium, root_server  # noqa: E402
from shashin import demo, ranking, trash  # noqa: E402
from shashin.store import Store  # noqa: E402

BIN = Path(sys.executable).parent
SIZES = {"1440": {"width": 1440, "height": 900}, "390": {"width": 390, "height": 844}}
#: Lower than the page's default: the demo's few decisions give the model modest confidence.
THRESHOLD = "0.6"
QUALITY = 70


def decide_some(db, count):
    """What a person does first: keep the suggested keeper of count groups, the rest to the trash."""
    with contextlib.closing(Store(db)) as store:
        groups = store.group_ids()
        ranked = store.db["ranks"].exists()
        ranks = dict(store.db.execute("select path, rank from ranks").fetchall()) if ranked else {}
        for group_id in sorted(groups)[:count]:
            keeper, *others = sorted(groups[group_id], key=lambda path: ranks.get(path, float("inf")))
            try:
                trash.remove(store, group_id, others)
            except trash.Refused as refused:
                print(refused, file=sys.stderr)


def shoot(contexts, base, name, path, out, prepare=None):
    """One page at each size; False when the page is not there (404)."""
    for size, context in contexts.items():
        page = context.new_page()
        try:
            response = page.goto(base + path)
            if response.status == 404:
                print("{}: {} answers 404 (not built yet?); no screenshot".format(name, path), file=sys.stderr)
                return False
            page.wait_for_load_state("networkidle")
            target = out / "{}-{}.jpg".format(name, size)
            page.screenshot(path=str(target), type="jpeg", quality=QUALITY)
            print("{}: {} ({} kB)".format(name, target, target.stat().st_size // 1000), file=sys.stderr)
        finally:
            page.close()
    return True


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="shashin-screenshots-") as work:
        library, db = Path(work) / "Pictures", Path(work) / "shashin.db"
        demo.build(library)
        subprocess.run([str(BIN / "shashin-scan"), "--db", str(db), str(library)], check=False)
        with root_server(db) as (sign_in, base), chromium() as browser:
            contexts = {
                "1440": browser.new_context(viewport=SIZES["1440"]),
                "390": browser.new_context(viewport=SIZES["390"], is_mobile=True, has_touch=True),
            }
            signing = contexts["1440"].new_page()
            signing.goto(sign_in)
            contexts["390"].add_cookies(contexts["1440"].cookies())  # a sign-in link works once
            signing.goto(base + "/-/shashin")
            first = re.search(r'id="group-(\d+)"', signing.content())
            shoot(contexts, base, "review", "/-/shashin", args.out)
            if first:
                shoot(contexts, base, "compare", "/-/shashin/compare/" + first.group(1), args.out)
            decide_some(db, ranking.MIN_GROUPS)
            learnt = subprocess.run([str(BIN / "shashin-rank"), "--db", str(db)], capture_output=True, text=True)
            if learnt.returncode:
                print("shashin-rank failed; the suggestions page says so:\n" + learnt.stderr[-2000:], file=sys.stderr)
            suggestions = "/-/shashin/suggestions?threshold=" + THRESHOLD
            shoot(contexts, base, "suggestions", suggestions, args.out)
            signing.goto(base + suggestions)
            accept = signing.locator(".suggestions-page button.shashin-delete")
            if accept.count():
                accept.click()
                signing.wait_for_url("**/-/shashin/trash")
            shoot(contexts, base, "trash", "/-/shashin/trash", args.out)


if __name__ == "__main__":
    main()
