"""circle_rotate.download and `circle-rotate models download|check` against a local server with the Hub's URL layout.

The server answers what huggingface_hub asks for a Hub file: HEAD ``/{repo}/resolve/{revision}/{path}`` with
``X-Repo-Commit``, ``ETag`` (the sha256 of an LFS file) and ``Content-Length``, then GET of the same URL, with
``Range: bytes=N-`` answered by 206 when resuming. HF_ENDPOINT points at it.
"""

from __future__ import annotations

import hashlib
import http.server
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from circle_rotate import download
from circle_rotate.cli import main
from circle_rotate.weights import WeightFile

COMMIT = "0123456789abcdef0123456789abcdef01234567"


class HubHandler(http.server.BaseHTTPRequestHandler):
    files: dict[str, bytes] = {}
    log: list[tuple[str, str, str | None]] = []

    def log_message(self, *args: object) -> None:  # keep pytest output clean
        pass

    def _headers(self, body: bytes, status: int = 200, start: int = 0) -> None:
        self.send_response(status)
        self.send_header("X-Repo-Commit", COMMIT)
        self.send_header("ETag", f'"{hashlib.sha256(body).hexdigest()}"')
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(len(body) - start))
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        self.end_headers()

    def _lookup(self, method: str) -> bytes | None:
        self.log.append((method, self.path, self.headers.get("Range")))
        body = self.files.get(self.path)
        if body is None:
            self.send_response(404)
            self.send_header("X-Error-Code", "EntryNotFound")
            self.send_header("Content-Length", "0")
            self.end_headers()
        return body

    def _redirect_to_cdn(self) -> bool:
        """LFS files on the real Hub: 302 to a CDN host, with the file's sha256 and size in X-Linked-* headers."""
        if not self.path.endswith(".lfs") or "/resolve/" not in self.path:
            return False
        self.log.append((self.command, self.path, self.headers.get("Authorization")))
        body = self.files[self.path]
        self.send_response(302)
        self.send_header("X-Repo-Commit", COMMIT)
        self.send_header("X-Linked-Etag", f'"{hashlib.sha256(body).hexdigest()}"')
        self.send_header("X-Linked-Size", str(len(body)))
        self.send_header("Location", f"http://localhost:{self.server.server_address[1]}/cdn{self.path}")
        self.send_header("Content-Length", "0")
        self.end_headers()
        return True

    def do_HEAD(self) -> None:  # noqa: N802 (http.server API)
        if self._redirect_to_cdn():
            return
        body = self._lookup("HEAD")
        if body is not None:
            self._headers(body)

    def do_GET(self) -> None:  # noqa: N802
        if self.path.startswith("/cdn/"):
            self.log.append(("CDN", self.path, self.headers.get("Authorization")))
            self.files.setdefault(self.path, self.files[self.path[4:]])
        body = self._lookup("GET")
        if body is None:
            return
        start = int(self.headers["Range"].split("=")[1].split("-")[0]) if self.headers.get("Range") else 0
        self._headers(body, 206 if start else 200, start)
        self.wfile.write(body[start:])


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[HubHandler]]:
    handler = type("Handler", (HubHandler,), {"files": {}, "log": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    handler.endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("HF_ENDPOINT", handler.endpoint)
    monkeypatch.setenv("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    yield handler
    server.shutdown()
    server.server_close()


def hub_entry(repo: str, path: str, folder: str = "loras", sha256: str | None = None, group: str = "generation") -> WeightFile:
    return WeightFile(
        key=path, name=Path(path).name, folder=folder, group=group, description="test file", licence="test",
        approx_size="1 kB", url=f"https://huggingface.co/{repo}/resolve/main/{path}", hf_repo=repo, hf_path=path,
        sha256=sha256,
    )


def test_download_places_hub_file_in_its_comfyui_folder(hub: type[HubHandler], tmp_path: Path) -> None:
    body = b"lora weights " * 1000
    hub.files["/org/repo/resolve/main/split_files/loras/a.safetensors"] = body
    entry = hub_entry("org/repo", "split_files/loras/a.safetensors")

    result = download.download_file(entry, tmp_path)

    assert result.status == "downloaded", result.message
    assert (tmp_path / "loras" / "a.safetensors").read_bytes() == body
    assert not (tmp_path / "loras" / "a.safetensors.part").exists()
    assert ("HEAD", "/org/repo/resolve/main/split_files/loras/a.safetensors", None) in hub.log


def test_download_resumes_from_part_file_with_range_request(hub: type[HubHandler], tmp_path: Path) -> None:
    body = bytes(range(256)) * 400
    hub.files["/org/repo/resolve/main/b.pt"] = body
    entry = hub_entry("org/repo", "b.pt", folder="sams", sha256=hashlib.sha256(body).hexdigest())
    part = tmp_path / "sams" / "b.pt.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(body[:40000])

    result = download.download_file(entry, tmp_path)

    assert result.status == "downloaded", result.message
    assert (tmp_path / "sams" / "b.pt").read_bytes() == body
    gets = [entry for entry in hub.log if entry[0] == "GET"]
    assert gets == [("GET", "/org/repo/resolve/main/b.pt", "bytes=40000-")]


def test_checksum_mismatch_fails_and_removes_partial_file(hub: type[HubHandler], tmp_path: Path) -> None:
    hub.files["/org/repo/resolve/main/c.pt"] = b"tampered content"
    entry = hub_entry("org/repo", "c.pt", folder="circle_rotate", sha256="0" * 64)

    result = download.download_file(entry, tmp_path)

    assert result.status == "failed"
    assert "checksum" in result.message and "0" * 64 in result.message
    assert not (tmp_path / "circle_rotate" / "c.pt").exists()
    assert not (tmp_path / "circle_rotate" / "c.pt.part").exists()


def test_hub_etag_is_checked_when_registry_has_no_sha256(hub: type[HubHandler], tmp_path: Path) -> None:
    body = b"x" * 5000
    hub.files["/org/repo/resolve/main/d.pt"] = body
    entry = hub_entry("org/repo", "d.pt")
    part = tmp_path / "loras" / "d.pt.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(b"y" * 1000)  # a corrupt beginning: the resumed file cannot match the Hub's sha256 ETag

    result = download.download_file(entry, tmp_path)

    assert result.status == "failed" and "sha256" in result.message
    assert not part.exists()


def test_plain_url_entry_downloads_without_hub_metadata(hub: type[HubHandler], tmp_path: Path) -> None:
    body = b"alexnet" * 300
    hub.files["/models/alexnet.pth"] = body
    entry = WeightFile(
        key="alex", name="alexnet.pth", folder="circle_rotate", group="metrics", description="t", licence="t",
        approx_size="2 kB", url=f"{hub.endpoint}/models/alexnet.pth", sha256=hashlib.sha256(body).hexdigest(),
    )

    result = download.download_file(entry, tmp_path)

    assert result.status == "downloaded", result.message
    assert (tmp_path / "circle_rotate" / "alexnet.pth").read_bytes() == body
    assert [method for method, _, _ in hub.log] == ["GET"]


def test_missing_remote_file_fails_with_its_url_and_others_continue(hub: type[HubHandler], tmp_path: Path) -> None:
    hub.files["/org/repo/resolve/main/ok.pt"] = b"ok"
    missing = hub_entry("org/repo", "gone.pt")
    present = hub_entry("org/repo", "ok.pt")

    results = download.download([missing, present], tmp_path)

    assert [result.status for result in results] == ["failed", "downloaded"]
    assert "https://huggingface.co/org/repo/resolve/main/gone.pt" in results[0].message


def test_check_reports_present_missing_partial_and_corrupt(tmp_path: Path) -> None:
    good = hub_entry("o/r", "good.pt", sha256=hashlib.sha256(b"good").hexdigest())
    bad = hub_entry("o/r", "bad.pt", sha256=hashlib.sha256(b"good").hexdigest())
    partial = hub_entry("o/r", "partial.pt")
    missing = hub_entry("o/r", "missing.pt")
    (tmp_path / "loras").mkdir()
    (tmp_path / "loras" / "good.pt").write_bytes(b"good")
    (tmp_path / "loras" / "bad.pt").write_bytes(b"evil")
    (tmp_path / "loras" / "partial.pt.part").write_bytes(b"pa")

    statuses = {result.entry.name: result.status for result in download.check([good, bad, partial, missing], tmp_path)}

    assert statuses == {"good.pt": "present", "bad.pt": "corrupt", "partial.pt": "partial", "missing.pt": "missing"}


def test_cli_download_exit_code_reflects_failures(
    hub: type[HubHandler], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from circle_rotate import weights

    hub.files["/org/repo/resolve/main/m.pt"] = b"metric"
    fake = [hub_entry("org/repo", "m.pt", folder="circle_rotate", group="metrics"), hub_entry("org/repo", "absent.pt", group="metrics")]
    monkeypatch.setattr(weights, "entries", lambda what: fake)

    code = main(["models", "download", "--what", "metrics", "--models-dir", str(tmp_path)])

    assert code == 1
    err = capsys.readouterr().err
    assert "absent.pt" in err and "failed" in err
    hub.files["/org/repo/resolve/main/absent.pt"] = b"now here"
    assert main(["models", "download", "--what", "metrics", "--models-dir", str(tmp_path)]) == 0
    assert main(["models", "check", "--what", "metrics", "--models-dir", str(tmp_path)]) == 0


def test_models_dir_from_rejects_a_folder_without_comfyui(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a ComfyUI checkout"):
        download.models_dir_from(tmp_path, None)
    (tmp_path / "main.py").write_text("")
    assert download.models_dir_from(tmp_path, None) == tmp_path / "models"


def test_lfs_redirect_downloads_from_cdn_without_the_token(hub: type[HubHandler], tmp_path: Path) -> None:
    body = b"large file " * 2000
    hub.files["/org/repo/resolve/main/big.lfs"] = body
    entry = hub_entry("org/repo", "big.lfs", folder="diffusion_models")

    result = download.download_file(entry, tmp_path, token="hf_secret")

    assert result.status == "downloaded", result.message
    assert (tmp_path / "diffusion_models" / "big.lfs").read_bytes() == body
    assert ("HEAD", "/org/repo/resolve/main/big.lfs", "Bearer hf_secret") in hub.log
    assert ("CDN", "/cdn/org/repo/resolve/main/big.lfs", None) in hub.log


def test_a_torch_hub_hash_prefix_is_checked_where_no_full_sha256_is_known(hub: type[HubHandler], tmp_path: Path) -> None:
    body = b"raft" * 500
    digest = hashlib.sha256(body).hexdigest()
    hub.files["/models/raft.pth"] = body

    def entry(prefix: str, name: str) -> WeightFile:
        return WeightFile(
            key=name, name=name, folder="circle_rotate", group="metrics", description="t", licence="t",
            approx_size="2 kB", url=f"{hub.endpoint}/models/raft.pth", sha256_prefix=prefix,
        )

    good = download.download_file(entry(digest[:8], "good.pth"), tmp_path)
    bad = download.download_file(entry("00000000", "bad.pth"), tmp_path)

    assert good.status == "downloaded" and f"prefix {digest[:8]}" in good.message
    assert bad.status == "failed" and "starting with 00000000" in bad.message
    assert not (tmp_path / "circle_rotate" / "bad.pth").exists()
    assert [result.status for result in download.check([entry(digest[:8], "good.pth")], tmp_path)] == ["present"]
    (tmp_path / "circle_rotate" / "good.pth").write_bytes(body[:-1] + b"!")
    assert [result.status for result in download.check([entry(digest[:8], "good.pth")], tmp_path)] == ["corrupt"]


def test_a_download_failing_before_its_first_byte_leaves_no_part_file(hub: type[HubHandler], tmp_path: Path) -> None:
    entry = WeightFile(
        key="gone", name="gone.pth", folder="circle_rotate", group="metrics", description="t", licence="t",
        approx_size="1 kB", url=f"{hub.endpoint}/models/gone.pth",
    )

    result = download.download_file(entry, tmp_path)

    assert result.status == "failed" and "bytes kept" not in result.message
    assert not (tmp_path / "circle_rotate" / "gone.pth.part").exists()
    assert [r.status for r in download.check([entry], tmp_path)] == ["missing"]
    (tmp_path / "circle_rotate" / "gone.pth.part").write_bytes(b"")  # left by an older version: not a partial download
    assert [r.status for r in download.check([entry], tmp_path)] == ["missing"]


@pytest.mark.parametrize("variable", ["CIRCLE_ROTATE_MODELS_DIR", "COMFYUI_PATH"])
def test_check_without_a_folder_uses_the_folders_eval_uses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], variable: str
) -> None:
    from circle_rotate import weights

    entry = hub_entry("o/r", "m.pt", folder="circle_rotate", group="metrics")
    monkeypatch.setattr(weights, "entries", lambda what: [entry])
    monkeypatch.delenv("CIRCLE_ROTATE_MODELS_DIR", raising=False)
    monkeypatch.delenv("COMFYUI_PATH", raising=False)
    models = tmp_path / "models" if variable == "COMFYUI_PATH" else tmp_path
    (models / "circle_rotate").mkdir(parents=True)
    (models / "circle_rotate" / "m.pt").write_bytes(b"m")
    monkeypatch.setenv(variable, str(tmp_path))

    assert main(["models", "check", "--what", "metrics"]) == 0
    assert f"1 of 1 files present in {models}" in capsys.readouterr().out


def test_check_with_no_folder_anywhere_reports_files_missing(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("CIRCLE_ROTATE_MODELS_DIR", raising=False)
    monkeypatch.delenv("COMFYUI_PATH", raising=False)

    assert main(["models", "check", "--what", "metrics"]) == 1  # not 2: nothing is wrong with the arguments
    captured = capsys.readouterr()
    assert "no models folder: pass --models-dir DIR" in captured.err and "0 of 6 files present" in captured.out


def _hint_commands(text: str) -> list[list[str]]:
    """The ``circle-rotate ...`` commands quoted in backticks in ``text``, placeholders <...> filled in."""
    return [re.sub(r"<[^>]+>", "X", command).split()[1:] for command in re.findall(r"`(circle-rotate [^`]+)`", text)]


def test_every_flag_a_hint_mentions_parses(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from circle_rotate import suite, weights
    from circle_rotate.cli import build_parser

    entry = weights.get_entry("raft_large")
    hints = {
        "missing weight (eval)": (weights.missing_message(entry, []), ["eval"]),
        "missing weight, looked somewhere": (weights.missing_message(entry, [tmp_path / "x.pth"]), ["eval"]),
        "check: missing": (download.check([entry], tmp_path)[0].message, ["models", "check"]),
        "check: no folder": (download.check([entry], None)[0].message, ["models", "check"]),
        "suite: no models": (suite.evaluate_frames(np.zeros((3, 8, 8, 3), np.uint8), 16.0, None, suite.SuiteOptions(metrics=("clip_i",)))["errors"]["clip_i"], ["eval"]),
    }
    parser = build_parser()
    for name, (text, command) in hints.items():
        commands = _hint_commands(text)
        for argv in commands:
            args = parser.parse_args(argv)  # exits 2 (SystemExit) on a flag that does not exist
            assert args.command == argv[0], name
        flags = set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", re.sub(r"`[^`]+`", "", text)))
        options = {flag for action in _subparser(parser, command)._actions for flag in action.option_strings}
        assert flags <= options, f"{name}: {flags - options} are not options of {' '.join(command)}"


def test_the_download_a_check_suggests_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from circle_rotate import weights

    monkeypatch.delenv("CIRCLE_ROTATE_MODELS_DIR", raising=False)
    monkeypatch.delenv("COMFYUI_PATH", raising=False)
    monkeypatch.setattr(download, "download", lambda files, models_dir, **kwargs: [])  # no network: argument handling only
    entry = weights.get_entry("raft_large")
    for text in (download.check([entry], tmp_path)[0].message, weights.missing_message(entry, [tmp_path / "x.pth"])):
        for argv in _hint_commands(text):
            assert main(argv) == 0, argv  # 2 would mean the suggested command is refused


def _subparser(parser, path: list[str]):
    for name in path:
        parser = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction").choices[name]
    return parser
