"""Download the model files of ``weights.REGISTRY`` into a ComfyUI ``models/`` folder, and check what is there.

Hub-hosted files go through huggingface_hub: ``hf_hub_url`` + ``get_hf_file_metadata`` (a HEAD on
``{endpoint}/{repo}/resolve/{revision}/{path}``, which gives the final location, the size, the commit and the
ETag; for LFS files the ETag is the file's sha256) and ``file_download.http_get`` for the bytes. The endpoint is
``HF_ENDPOINT`` read at call time (a mirror, or a local test server). Files not on the Hub (torchvision's
AlexNet and RAFT) use ``http_get`` on their URL directly.

Resume: bytes go to ``<name>.part`` beside the target and a later run continues from its size with an HTTP
Range request; a download that fails before its first byte leaves no ``.part`` file (an empty one would read as
a partial download). (``hf_hub_download`` itself cannot resume across runs since huggingface_hub 1.x: it writes to a
process-unique temporary file that it deletes on failure.) Once complete, size and sha256 are checked (the
registry's sha256 where known, else the Hub's LFS ETag); a mismatch deletes the ``.part`` file and fails that
file. Only a verified file is renamed to its final name, so a file under its final name is always complete.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from .weights import MODELS_DIR_ENV, WeightFile, default_models_dir, sha256_of

_SHA256 = re.compile(r"[0-9a-f]{64}")
PART_SUFFIX = ".part"


@dataclass(frozen=True)
class FileStatus:
    """What happened to (or was found of) one file.

    ``status``: "present", "downloaded", "failed" (download), or for ``check``: "present", "missing", "partial"
    (only a ``.part`` file), "corrupt" (size or sha256 mismatch).
    """

    entry: WeightFile
    path: Path
    status: str
    message: str = ""


def models_dir_from(comfyui: str | Path | None, models_dir: str | Path | None) -> Path:
    """The ``models/`` folder: ``models_dir`` if given, else ``<comfyui>/models``, else ``default_models_dir()``.

    Raises:
        ValueError: if none is given, or ``comfyui`` is not a ComfyUI checkout (no main.py).
    """
    if models_dir is not None:
        return Path(models_dir).expanduser()
    if comfyui is None:
        fallback = default_models_dir()
        if fallback is not None:
            return fallback
        raise ValueError(
            f"give --comfyui PATH (a ComfyUI checkout) or --models-dir DIR (its models folder), "
            f"or set {MODELS_DIR_ENV} or COMFYUI_PATH."
        )
    root = Path(comfyui).expanduser()
    if not (root / "main.py").is_file():
        raise ValueError(f"--comfyui {str(root)!r} is not a ComfyUI checkout (no main.py there); fix the path.")
    return root / "models"


def target_path(entry: WeightFile, models_dir: str | Path) -> Path:
    """Where ``entry`` belongs under ``models_dir``."""
    return Path(models_dir) / entry.folder / entry.name


def part_path(target: Path) -> Path:
    """The partial-download file of ``target``."""
    return target.with_name(target.name + PART_SUFFIX)


def verify(path: Path, size: int | None, sha256: str | None, sha256_prefix: str | None = None) -> str:
    """An empty string if ``path`` has ``size`` bytes and ``sha256`` (each checked where not None), else why not.

    Where no full ``sha256`` is given, a ``sha256_prefix`` (torch.hub's file-name convention) is checked instead.
    """
    actual_size = path.stat().st_size
    if size is not None and actual_size != size:
        return f"size {actual_size} bytes, expected {size}"
    expected = (sha256 or sha256_prefix or "").lower()
    if expected:
        actual = sha256_of(path)
        if not actual.startswith(expected):  # a full digest has the digest's length: startswith is equality
            wanted = expected if sha256 else f"one starting with {expected} (the file name's hash prefix)"
            return f"sha256 {actual}, expected {wanted}"
    return ""


def _endpoint(endpoint: str | None) -> str | None:
    value = endpoint or os.environ.get("HF_ENDPOINT")
    return value.rstrip("/") if value else None


def _source(entry: WeightFile, endpoint: str | None, token: str | None) -> tuple[str, dict, int | None, str | None]:
    """(url to GET, headers, expected size, expected sha256) of ``entry``; a HEAD request for Hub files."""
    if entry.hf_repo is None or entry.hf_path is None:
        return entry.url, {}, entry.size_bytes, entry.sha256
    from huggingface_hub import get_hf_file_metadata, hf_hub_url
    from huggingface_hub.utils import build_hf_headers

    url = hf_hub_url(entry.hf_repo, entry.hf_path, revision=entry.hf_revision, endpoint=endpoint)
    meta = get_hf_file_metadata(url, token=token, endpoint=endpoint)
    etag = (meta.etag or "").strip('"').lower()
    sha256 = entry.sha256 or (etag if _SHA256.fullmatch(etag) else None)
    location = meta.location if meta.xet_file_data is None else url
    headers = build_hf_headers(token=token)
    if urlsplit(location).netloc != urlsplit(url).netloc:  # a signed CDN URL: never send the Hub token there
        headers.pop("authorization", None)
    return location, headers, entry.size_bytes or meta.size, sha256


def download_file(entry: WeightFile, models_dir: str | Path, endpoint: str | None = None, token: str | None = None) -> FileStatus:
    """Download one file into ``models_dir`` (see module doc); never raises for a network or checksum failure.

    Returns:
        FileStatus "present" (already there and verified where possible), "downloaded", or "failed" with the reason.
    """
    from huggingface_hub.file_download import http_get

    target = target_path(entry, models_dir)
    if target.is_file():
        problem = verify(target, entry.size_bytes, entry.sha256, entry.sha256_prefix)
        if not problem:
            return FileStatus(entry, target, "present")
        return FileStatus(
            entry, target, "failed",
            f"{target} exists but is corrupt ({problem}); delete it and run the download again.",
        )
    part = part_path(target)
    try:
        url, headers, size, sha256 = _source(entry, _endpoint(endpoint), token)
        target.parent.mkdir(parents=True, exist_ok=True)
        resume = part.stat().st_size if part.is_file() else 0
        if size is not None and resume > size:
            part.unlink()
            resume = 0
        with open(part, "ab") as handle:
            http_get(url, handle, resume_size=resume, headers=headers, expected_size=size, displayed_filename=entry.name)
    except Exception as error:  # network/HTTP/disk errors of any library: reported per file, the others go on
        if part.is_file() and part.stat().st_size == 0:
            part.unlink()  # nothing to resume
        kept = f" ({part.stat().st_size} bytes kept in {part.name}; the next run resumes)" if part.is_file() else ""
        return FileStatus(entry, target, "failed", f"download of {entry.url} failed: {type(error).__name__}: {error}{kept}")
    problem = verify(part, size, sha256, entry.sha256_prefix)
    if problem:
        part.unlink()
        return FileStatus(
            entry, target, "failed",
            f"checksum check failed for {entry.name}: {problem}; the partial file was deleted, run the download again.",
        )
    os.replace(part, target)
    if sha256:
        return FileStatus(entry, target, "downloaded")
    partly = f"only its sha256 prefix {entry.sha256_prefix} was checked" if entry.sha256_prefix else "sha256 unverified (none known)"
    return FileStatus(entry, target, "downloaded", partly)


def download(
    files: Iterable[WeightFile],
    models_dir: str | Path,
    endpoint: str | None = None,
    token: str | None = None,
    report: Callable[[FileStatus], None] | None = None,
) -> list[FileStatus]:
    """Download every file of ``files`` that is not yet in ``models_dir``; ``report`` is called after each."""
    results = []
    for entry in files:
        result = download_file(entry, models_dir, endpoint, token)
        if report is not None:
            report(result)
        results.append(result)
    return results


NO_FOLDER = (
    f"no models folder: pass --models-dir DIR or --comfyui PATH, or set {MODELS_DIR_ENV} or COMFYUI_PATH "
    "(the folders eval searches)"
)


def check(files: Iterable[WeightFile], models_dir: str | Path | None, hashes: bool = True) -> list[FileStatus]:
    """What of ``files`` is under ``models_dir``: present, missing, partial or corrupt.

    Args:
        models_dir: the ComfyUI ``models/`` folder; None (no folder given or set) reports every file missing,
            with ``NO_FOLDER`` as the message, as eval finds none of them.
        hashes: also compare sha256 where the registry knows it (reads every such file once).
    """
    if models_dir is None:
        return [FileStatus(entry, Path(entry.folder) / entry.name, "missing", NO_FOLDER) for entry in files]
    results = []
    for entry in files:
        target = target_path(entry, models_dir)
        if target.is_file():
            problem = verify(target, entry.size_bytes, *((entry.sha256, entry.sha256_prefix) if hashes else (None, None)))
            status = "corrupt" if problem else "present"
            results.append(FileStatus(entry, target, status, problem))
        elif part_path(target).is_file() and part_path(target).stat().st_size > 0:
            size = part_path(target).stat().st_size
            results.append(FileStatus(entry, target, "partial", f"{size} bytes downloaded; run the download to resume"))
        else:
            results.append(
                FileStatus(entry, target, "missing", f"run `circle-rotate models download --what {entry.group} --models-dir {models_dir}` or get {entry.url}")
            )
    return results
