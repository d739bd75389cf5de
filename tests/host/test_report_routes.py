"""The report route serves report files under ComfyUI's output folder and nothing else.

Path traversal in every form (``..``, absolute paths, percent-encoded and double-encoded forms, backslashes,
symbolic links to files and folders outside) gets a 4xx, never the file.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

pytestmark = pytest.mark.server
SECRET = '{"secret": true}'


@pytest.fixture(scope="module")
def server(comfy_server):
    output = comfy_server.base_dir / "output"
    (output / "circle_rotate").mkdir(parents=True, exist_ok=True)
    (output / "circle_rotate" / "r_00001_report.json").write_text('{"frames": 9}', encoding="utf-8")
    (output / "circle_rotate" / "r_00001_report.csv").write_text("frames\n9\n", encoding="utf-8")
    (output / "circle_rotate" / "notes.txt").write_text("not a report", encoding="utf-8")
    outside = comfy_server.base_dir / "outside"
    outside.mkdir(exist_ok=True)
    (outside / "secret.json").write_text(SECRET, encoding="utf-8")
    (comfy_server.base_dir / "secret.json").write_text(SECRET, encoding="utf-8")
    for link, target in ((output / "link.json", outside / "secret.json"), (output / "linkdir", outside)):
        if not link.is_symlink():
            link.symlink_to(target)
    return comfy_server


def _get(server, query: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(f"{server.url}/circle_rotate/report?{query}", timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_serves_a_saved_report(server) -> None:
    status, body = _get(server, "filename=r_00001_report.json&subfolder=circle_rotate")
    assert (status, json.loads(body)) == (200, {"frames": 9})
    status, body = _get(server, "filename=r_00001_report.csv&subfolder=circle_rotate")
    assert (status, body) == (200, b"frames\n9\n")


def test_the_api_prefix_serves_it_too(server) -> None:
    with urllib.request.urlopen(f"{server.url}/api/circle_rotate/report?filename=r_00001_report.json&subfolder=circle_rotate") as response:
        assert json.loads(response.read()) == {"frames": 9}


@pytest.mark.parametrize(
    "query",
    [
        "filename=secret.json&subfolder=..",
        "filename=secret.json&subfolder=../outside",
        "filename=secret.json&subfolder=circle_rotate/../../outside",
        "filename=../secret.json",
        "filename=..%2Fsecret.json",
        "filename=secret.json&subfolder=%2E%2E",
        "filename=secret.json&subfolder=%2e%2e%2foutside",
        "filename=secret.json&subfolder=%252e%252e",
        "filename=..%5Csecret.json",
        "filename=secret.json&subfolder=..%5Coutside",
        "filename=link.json",
        "filename=secret.json&subfolder=linkdir",
        "filename=notes.txt&subfolder=circle_rotate",
        "filename=",
        "filename=secret.json%00.json&subfolder=..",
    ],
)
def test_traversal_gets_a_4xx(server, query: str) -> None:
    status, body = _get(server, query)
    assert 400 <= status < 500, (status, body)
    assert SECRET.encode() not in body


def test_absolute_paths_get_a_4xx(server) -> None:
    outside = server.base_dir / "outside"
    for query in (f"filename=secret.json&subfolder={outside}", f"filename={outside / 'secret.json'}",
                  f"filename=secret.json&subfolder={urllib.request.quote(str(outside), safe='')}"):
        status, body = _get(server, query)
        assert 400 <= status < 500 and SECRET.encode() not in body, (query, status, body)


def test_a_missing_report_is_404(server) -> None:
    assert _get(server, "filename=nothing.json&subfolder=circle_rotate")[0] == 404


@pytest.mark.parametrize(
    ("query", "blamed"),
    [
        ("filename=r_00001_report.json&subfolder=" + "a/" * 3000, "subfolder"),  # File name too long
        ("filename=r_00001_report.json&subfolder=" + "x" * 300, "subfolder"),  # one component too long
        ("filename=" + "x" * 300 + ".json&subfolder=circle_rotate", "filename"),
        ("filename=r_00001_report.json&subfolder=circle%00rotate", "subfolder"),
        ("filename=r_00001%00report.json&subfolder=circle_rotate", "filename"),
    ],
)
def test_malformed_requests_get_400_naming_the_parameter(server, query: str, blamed: str) -> None:
    status, body = _get(server, query)
    error = json.loads(body)["error"]
    assert status == 400 and error.startswith(f"{blamed} "), (status, body[:300])
    assert str(server.base_dir) not in error and len(error) < 400, error
