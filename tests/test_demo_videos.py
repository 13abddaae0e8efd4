"""The demo videos: a library decodes each original once, whatever the number of copies made of it."""

from conftest import record_calls
from shashin import demo_videos


def test_each_original_is_decoded_once_for_all_its_copies(tmp_path, monkeypatch):
    decoded = record_calls(monkeypatch, demo_videos, "decode")
    made = demo_videos.library(
        tmp_path, 2, seed=1, kinds=("resize", "whatsapp", "trim_end"), width=96, height=64, seconds=2.0, fps=8
    )
    assert decoded == [entry["original"] for entry in made]
    assert all(path.stat().st_size > 0 for entry in made for path in entry["copies"].values())
