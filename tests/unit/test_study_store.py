"""The study's per-video report store (circle_rotate.study.store): content keys, atomic writes, resume."""

from __future__ import annotations

import hashlib
import json

import pytest

from circle_rotate.study.store import ReportStore, content_digest, input_digests, report_key


@pytest.fixture
def inputs(tmp_path):
    video, masks = tmp_path / "v.mp4", tmp_path / "v.masks.npz"
    video.write_bytes(b"video bytes")
    masks.write_bytes(b"mask bytes")
    return video, masks


def test_content_digest_is_the_files_sha256_and_covers_folders_by_name_and_content(tmp_path, inputs):
    video, _ = inputs
    assert content_digest(video) == hashlib.sha256(b"video bytes").hexdigest()
    folder = tmp_path / "frames"
    folder.mkdir()
    (folder / "0001.png").write_bytes(b"a")
    (folder / "0002.png").write_bytes(b"b")
    before = content_digest(folder)
    (folder / "0002.png").write_bytes(b"c")
    changed = content_digest(folder)
    (folder / "0002.png").rename(folder / "0003.png")
    assert len({before, changed, content_digest(folder)}) == 3


def test_the_key_changes_with_any_input_or_option_and_only_then(inputs, tmp_path):
    video, masks = inputs
    digests = input_digests(video, masks, None, None)
    assert digests["first"] is None and digests["masks"] == hashlib.sha256(b"mask bytes").hexdigest()
    options = {"metrics": ["motion"], "num_frames": 16}
    key = report_key(digests, options)
    assert report_key(input_digests(video, masks, None, None), dict(reversed(list(options.items())))) == key
    assert report_key(digests, {**options, "num_frames": 8}) != key
    assert report_key(input_digests(video, None, None, None), options) != key
    masks.write_bytes(b"other masks")
    assert report_key(input_digests(video, masks, None, None), options) != key


def test_a_saved_report_loads_under_its_key_only(tmp_path):
    store = ReportStore(tmp_path / "videos")
    path = store.save("p.base", "k1", {"video": "abc"}, {"num_frames": 16}, report={"video": "v.mp4", "x": 1.5, "y": float("nan")})
    assert path == tmp_path / "videos" / "p.base.json"
    assert store.load("p.base", "k1")["report"] == {"video": "v.mp4", "x": 1.5, "y": None}  # strict JSON: NaN becomes null
    assert store.load("p.base", "k2") is None
    assert store.load("p.lora", "k1") is None
    stored = json.loads(path.read_text())
    assert stored["key"] == "k1" and stored["inputs"] == {"video": "abc"} and stored["options"] == {"num_frames": 16}
    assert [p.name for p in path.parent.iterdir()] == ["p.base.json"]  # no temporary file left behind


def test_an_unreadable_or_foreign_entry_counts_as_missing(tmp_path):
    store = ReportStore(tmp_path)
    store.path("a").write_text("{ cut off")
    store.path("b").write_text(json.dumps({"key": "k", "report": "not a dict"}))
    store.path("c").write_bytes(b"\xff\xfe")
    assert store.load("a", "k") is None and store.load("b", "k") is None and store.load("c", "k") is None
    store.save("a", "k", {}, {}, report={"ok": 1})
    assert store.load("a", "k")["report"] == {"ok": 1}


def test_a_failure_is_stored_with_its_key_and_an_entry_needs_exactly_one_outcome(tmp_path):
    store = ReportStore(tmp_path)
    store.save("p.lora", "k", {}, {}, error="masks of the wrong shape")
    assert store.load("p.lora", "k") == {"version": 1, "key": "k", "inputs": {}, "options": {}, "error": "masks of the wrong shape"}
    assert store.load("p.lora", "other") is None
    with pytest.raises(ValueError):
        store.save("p.lora", "k", {}, {})
    with pytest.raises(ValueError):
        store.save("p.lora", "k", {}, {}, report={}, error="x")
