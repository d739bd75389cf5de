"""Study pairs (circle_rotate.study.manifest): CSV manifests, two folders, batch run folders; every input checked first."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from circle_rotate.study import manifest
from fixtures.synthetic_video import moving_disc, write_video


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    """Two small videos (9 frames, 64x48) with masks beside them, a conditioning image and an unreadable video."""
    folder = tmp_path_factory.mktemp("clips")
    t = np.arange(9, dtype=float)
    for name, speed in (("a", 1.0), ("b", 2.0)):
        video = moving_disc(np.stack([20 + speed * t, 24 + 0 * t], axis=1), height=48, width=64)
        write_video(video.frames, folder / f"{name}.mp4")
        np.savez(folder / f"{name}.masks.npz", masks=video.masks)
    Image.fromarray(np.zeros((48, 64, 3), np.uint8)).save(folder / "first.png")
    (folder / "broken.mp4").write_bytes(b"this is not a video")
    (folder / "notnpz.masks.npz").write_bytes(b"nope")
    return folder


def _write(folder, text):
    path = folder / "pairs.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_pairs_resolve_paths_relative_to_the_manifest_and_find_masks_beside_videos(clips, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # relative paths must not depend on the working directory
    path = _write(clips, "pair,base,lora,first\np1,a.mp4,b.mp4,first.png\np2,b.mp4,a.mp4,\n")
    result = manifest.from_csv(path)
    assert result.problems == []
    assert [p.id for p in result.pairs] == ["p1", "p2"]
    first = result.pairs[0]
    assert first.base.video == clips / "a.mp4" and first.lora.video == clips / "b.mp4"
    assert first.base.masks == clips / "a.masks.npz" and first.lora.masks == clips / "b.masks.npz"
    assert first.base.first == clips / "first.png" and result.pairs[1].base.first is None
    assert first.line == 2 and result.pairs[1].line == 3
    assert first.base.error is None


def test_bad_rows_are_reported_by_line_and_field_and_skipped(clips):
    text = (
        "pair,base,lora,base_masks,first\n"
        "good,a.mp4,b.mp4,,\n"
        "nolora,a.mp4,,,\n"
        "missing,a.mp4,gone.mp4,,\n"
        "good,b.mp4,a.mp4,,\n"
        "badmasks,a.mp4,b.mp4,notnpz.masks.npz,\n"
        "badimage,a.mp4,b.mp4,,a.masks.npz\n"
        "bad id!,a.mp4,b.mp4,,\n"
    )
    result = manifest.from_csv(_write(clips, text))
    assert [p.id for p in result.pairs] == ["good"]
    found = {(p.line, p.field) for p in result.problems}
    assert found == {(3, "lora"), (4, "lora"), (5, "pair"), (6, "base_masks"), (7, "first"), (8, "pair")}
    messages = {p.line: p.error for p in result.problems}
    assert "gone.mp4" in messages[4] and "does not exist" in messages[4]
    assert "used twice" in messages[5]
    assert "line 4, field 'lora'" in str(next(p for p in result.problems if p.line == 4))


def test_an_unreadable_video_keeps_its_pair_with_the_reason(clips):
    result = manifest.from_csv(_write(clips, "pair,base,lora\np,a.mp4,broken.mp4\n"))
    assert result.problems == []
    pair = result.pairs[0]
    assert pair.base.error is None
    assert pair.lora.error is not None and "broken.mp4" in pair.lora.error


def test_a_manifest_without_a_required_column_or_with_an_unknown_one_is_refused(clips):
    with pytest.raises(ValueError, match="lacks the column.*lora"):
        manifest.from_csv(_write(clips, "pair,base\np,a.mp4\n"))
    with pytest.raises(ValueError, match="unknown column.*masks"):
        manifest.from_csv(_write(clips, "pair,base,lora,masks\np,a.mp4,b.mp4,x\n"))
    with pytest.raises(ValueError, match="does not exist"):
        manifest.from_csv(clips / "absent.csv")


def test_folders_pair_videos_by_file_name_and_report_videos_without_a_twin(tmp_path):
    base, lora, masks = tmp_path / "base", tmp_path / "lora", tmp_path / "masks"
    for folder in (base, lora, masks):
        folder.mkdir()
    video = moving_disc(np.stack([20 + np.arange(9.0), np.full(9, 24.0)], axis=1), height=48, width=64)
    for folder, names in ((base, ("x.mp4", "y.mp4", "only_base.mp4")), (lora, ("x.mp4", "y.mp4"))):
        for name in names:
            write_video(video.frames, folder / name)
    np.savez(masks / "x.masks.npz", masks=video.masks)
    result = manifest.from_folders(base, lora, masks_dir=masks)
    assert [p.id for p in result.pairs] == ["x", "y"]
    assert result.pairs[0].base.masks == masks / "x.masks.npz" and result.pairs[0].lora.masks == masks / "x.masks.npz"
    assert result.pairs[1].base.masks is None
    assert len(result.problems) == 1 and "only_base.mp4" in result.problems[0].error and result.problems[0].field == "base"
    with pytest.raises(ValueError, match="share no video"):
        manifest.from_folders(base, masks)


def test_batch_run_pairs_come_from_results_jsonl(clips, tmp_path):
    run = tmp_path / "run"
    for job in ("j1", "j2", "j3"):
        (run / job).mkdir(parents=True)
    (run / "j1" / "out.mp4").write_bytes((clips / "a.mp4").read_bytes())
    (run / "j2" / "out.mp4").write_bytes((clips / "b.mp4").read_bytes())
    records = [
        {"id": "j1", "status": "done", "lora": False, "pair_key": "car 1", "outputs": ["j1/report.json", "j1/out.mp4"],
         "values": {"first_image": str(clips / "first.png")}},
        {"id": "j2", "status": "done", "lora": True, "pair_key": "car 1", "outputs": ["j2/out.mp4"], "values": {}},
        {"id": "j3", "status": "failed", "lora": True, "pair_key": "car 2", "outputs": [], "values": {}},
        {"id": "j4", "status": "done", "lora": None, "pair_key": None, "outputs": [], "values": {}},
    ]
    (run / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    result = manifest.from_batch_run(run)
    assert len(result.pairs) == 1
    pair = result.pairs[0]
    assert pair.id == "car_1"
    assert pair.base.video == run / "j1" / "out.mp4" and pair.lora.video == run / "j2" / "out.mp4"
    assert pair.base.first == clips / "first.png"
    assert [(p.line, p.field) for p in result.problems] == [(3, "status")]
    with pytest.raises(ValueError, match="results.jsonl"):
        manifest.from_batch_run(tmp_path)
