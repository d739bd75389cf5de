"""Reading and checking batch jobs (circle_rotate.client.jobs)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from circle_rotate.client.jobs import convert, default_id, parse_jobs
from circle_rotate.client.workflow_fill import FieldMap, load_workflow

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "workflows" / "tiny_flf.json"


@pytest.fixture
def field_map() -> FieldMap:
    return FieldMap(load_workflow(TINY))


@pytest.fixture
def folder(tmp_path) -> Path:
    (tmp_path / "first.png").write_bytes(b"png")
    (tmp_path / "last.png").write_bytes(b"png")
    return tmp_path


def test_csv_rows_become_typed_jobs_and_bad_rows_name_line_and_field(folder, field_map) -> None:
    path = folder / "jobs.csv"
    path.write_text(
        "id,first_image,last_image,seed,cfg,prompt,colour\n"
        "a,first.png,last.png,1,1.5,a car orbits,\n"
        "b,missing.png,last.png,2,,,\n"
        "c,first.png,last.png,x,,,\n"
        "\n"
        "d,first.png,last.png,3,,,red\n"
        "e,first.png,last.png,4,2,\"multi\nline\",\n"
        "a,first.png,last.png,5,,,\n"
    )
    jobs, errors = parse_jobs(path, field_map)
    assert [(job.id, job.line) for job in jobs] == [("a", 2), ("e", 7)]
    assert jobs[0].values == {"first_image": folder / "first.png", "last_image": folder / "last.png", "seed": 1,
                              "cfg": 1.5, "prompt": "a car orbits"}
    assert jobs[1].values["prompt"] == "multi\nline" and jobs[1].values["cfg"] == 2.0
    assert [(e.line, e.field) for e in errors] == [(3, "first_image"), (4, "seed"), (6, "colour"), (9, "id")]
    assert "missing.png" in errors[0].message and "not an integer" in errors[1].message
    assert "unknown field" in errors[2].message and "repeats the job on line 2" in errors[3].message
    assert str(errors[1]).startswith("line 4, field 'seed': ")


def test_jsonl_rows_subject_prompt_and_lora_switch(folder, field_map) -> None:
    path = folder / "jobs.jsonl"
    images = {"first_image": "first.png", "last_image": "last.png"}
    rows = [
        {**images, "subject": "a car", "direction": "right", "lora": "off", "pair": "p1"},
        {**images, "subject": "a car", "direction": "right", "lora_high": 0.8, "pair": "p1"},
        {**images, "subject": "a car", "direction": "up"},
        {**images, "lora": False, "lora_low": 0.5},
        {**images, "seed": 1.5},
        {**images, "prompt": "x", "subject": "a car"},
        {"seed": 3},
    ]
    path.write_text("\n".join(json.dumps(row) for row in rows) + "\nnot json\n[1]\n")
    jobs, errors = parse_jobs(path, field_map)
    assert len(jobs) == 2
    off, on = jobs
    assert off.values["prompt"] == "A car, static side view, camera smoothly orbits right, medium shot"
    assert off.lora is False and off.values["lora_high"] == off.values["lora_low"] == off.values["lora_strength"] == 0
    assert on.lora is True and on.values["lora_high"] == 0.8 and on.pair == "p1"
    assert off.id != on.id and off.id == default_id(rows[0])
    assert [(e.line, e.field) for e in errors] == [
        (3, "direction"), (4, "lora_low"), (5, "seed"), (6, "subject"), (7, "first_image"), (8, None), (9, None)]


def test_default_id_is_stable_and_ignores_order() -> None:
    assert default_id({"seed": "1", "first_image": "a.png"}) == default_id({"first_image": "a.png", "seed": 1})
    assert default_id({"seed": "1"}) != default_id({"seed": "2"})


def test_unsafe_id_and_unknown_extension(folder, field_map) -> None:
    path = folder / "jobs.csv"
    path.write_text("id,first_image,last_image\n../x,first.png,last.png\n")
    jobs, errors = parse_jobs(path, field_map)
    assert not jobs and errors[0].field == "id" and "folder-safe" in errors[0].message
    with pytest.raises(ValueError, match="use .csv or .jsonl"):
        parse_jobs(folder / "jobs.txt", field_map)


@pytest.mark.parametrize(("value", "kind", "expected"), [
    ("3", int, 3), (3.0, int, 3), ("1e-1", float, 0.1), ("on", bool, True), ("0", bool, False), (5, str, "5"),
])
def test_convert(value, kind, expected) -> None:
    assert convert(value, kind) == expected


@pytest.mark.parametrize(("value", "kind"), [("1.5", int), (True, int), ("maybe", bool), ("x", float), ([1], str)])
def test_convert_refuses(value, kind) -> None:
    with pytest.raises(ValueError):
        convert(value, kind)


PACK_STYLE = {
    "1": {"class_type": "CircleRotateDualLora", "inputs": {"lora_high": "circle_rotate_h.safetensors",
                                                           "strength_high": 1.0, "strength_low": 1.0}},
    "2": {"class_type": "CircleRotateOrbitPromptEncode",
          "inputs": {"clip": ["9", 0], "subject": "汽车", "direction": "left_right", "language": "zh"}},
    "3": {"class_type": "LoadVideo", "inputs": {"file": "orbit.mp4"}},
}


def test_pack_nodes_take_subject_and_strengths_directly_and_videos_are_uploads(folder) -> None:
    (folder / "clip.mp4").write_bytes(b"mp4")
    path = folder / "jobs.jsonl"
    path.write_text(json.dumps({"subject": "a car", "direction": "up", "lora": "off", "video": "clip.mp4"}) + "\n"
                    + json.dumps({"video": "nope.mp4"}) + "\n")
    field_map = FieldMap(PACK_STYLE)
    jobs, errors = parse_jobs(path, field_map)
    assert jobs[0].values == {"subject": "a car", "direction": "up", "video": folder / "clip.mp4",
                              "lora_high": 0.0, "lora_low": 0.0, "lora_strength": 0.0}
    assert field_map.is_upload("video") and not field_map.is_upload("subject")
    assert [(e.line, e.field) for e in errors] == [(2, "video")] and "nope.mp4" in errors[0].message


def test_a_row_without_last_image_is_refused_when_the_workflow_takes_a_last_frame(folder, field_map) -> None:
    path = folder / "jobs.csv"
    path.write_text("id,first_image,last_image,seed\n"
                    "blank,first.png,,1\n"
                    "none,first.png,None,2\n"
                    "both,first.png,last.png,3\n")
    jobs, errors = parse_jobs(path, field_map)
    assert [(e.line, e.field) for e in errors] == [(2, "last_image")]
    assert "missing: the workflow takes a last frame (7.image)" in errors[0].message
    assert "or none to run without a last frame" in errors[0].message
    assert [job.id for job in jobs] == ["none", "both"]
    assert jobs[0].values["last_image"] is None and jobs[1].values["last_image"] == folder / "last.png"


def test_none_is_refused_when_a_consumer_needs_the_last_image(folder) -> None:
    workflow = load_workflow(TINY)
    workflow["20"] = {"class_type": "ImageInvert", "inputs": {"image": ["7", 0]}}
    path = folder / "jobs.jsonl"
    path.write_text(json.dumps({"first_image": "first.png", "last_image": "none"}) + "\n"
                    + json.dumps({"first_image": "first.png"}) + "\n")
    jobs, errors = parse_jobs(path, FieldMap(workflow))
    assert not jobs and [(e.line, e.field) for e in errors] == [(1, "last_image"), (2, "last_image")]
    assert "node 20 (ImageInvert) takes it in input 'image'" in errors[0].message
    assert "cannot run without it" in errors[1].message and "or none" not in errors[1].message


def test_a_first_frame_only_workflow_needs_no_last_image(folder) -> None:
    workflow = load_workflow(TINY)
    del workflow["7"], workflow["10"]["inputs"]["end_image"]
    path = folder / "jobs.csv"
    path.write_text("first_image,seed\nfirst.png,1\n")
    jobs, errors = parse_jobs(path, FieldMap(workflow))
    assert not errors and jobs[0].values == {"first_image": folder / "first.png", "seed": 1}
