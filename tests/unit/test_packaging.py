"""What the Comfy registry, comfy-cli and pip read from the pack: pyproject.toml, requirements.txt, .comfyignore.

The registry rules are comfy-cli's (``comfy_cli/registry/config_parser.py``, ``comfy_cli/file_utils.py``): it sends
only the Homepage, Documentation, Repository and Issues URLs, drops every accelerator when one ``Environment ::``
classifier is not in its list, reads ``[tool.comfy] requires-comfyui`` as ``[operator]X.Y.Z`` parts, and zips the
git-tracked files minus the ``.comfyignore`` patterns (gitwildmatch), never dropping files under ``includes``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import warnings
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

ROOT = Path(__file__).resolve().parents[2]
REGISTRY_URLS = ("Homepage", "Documentation", "Repository", "Issues")
ACCELERATORS = {"GPU :: NVIDIA CUDA", "GPU :: AMD ROCm", "GPU :: Intel Arc", "NPU :: Huawei Ascend", "GPU :: Apple Metal"}
VERSION_PART = re.compile(r"^(?:(==|>=|<=|!=|~=|>|<|<>|=)\s*)?(\d+\.\d+\.\d+(?:-[a-zA-Z0-9]+)?)?$")
DEVELOPER_FOLDERS = ("tests/", "bench/", ".ci/", "scripts/")


@pytest.fixture(scope="module")
def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def requirement_lines() -> list[str]:
    """requirements.txt without comments and blank lines."""
    lines = (line.split("#", 1)[0].strip() for line in (ROOT / "requirements.txt").read_text().splitlines())
    return [line for line in lines if line]


def tracked_files() -> list[str]:
    """``git ls-files`` of the checkout (skips when this is no git checkout, e.g. an unpacked zip)."""
    git = shutil.which("git")
    if git is None or not (ROOT / ".git").exists():
        pytest.skip("the published file set is computed from git-tracked files: needs git and a git checkout")
    result = subprocess.run([git, "-C", str(ROOT), "ls-files"], capture_output=True, text=True, check=True)
    return [line for line in result.stdout.splitlines() if line.strip()]


def pack_files(includes: list[str]) -> set[str]:
    """The files ``comfy node pack`` zips: tracked files minus .comfyignore matches, plus the ``includes`` folders."""
    pathspec = pytest.importorskip("pathspec")
    ignore = ROOT / ".comfyignore"
    patterns = [line.strip() for line in ignore.read_text(encoding="utf-8").splitlines()
                if line.strip() and not line.lstrip().startswith("#")] if ignore.is_file() else []
    with warnings.catch_warnings():  # pathspec 1.x deprecates "gitwildmatch", which comfy-cli still uses
        warnings.simplefilter("ignore", DeprecationWarning)
        spec = pathspec.PathSpec.from_lines("gitwildmatch", patterns)

    def ignored(path: str) -> bool:
        forced = any(path == folder or path.startswith(folder + "/") for folder in includes)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return not forced and spec.match_file(path)

    files = {path for path in tracked_files() if not ignored(path) and (ROOT / path).exists()}
    for folder in includes:
        for directory, _, names in os.walk(ROOT / folder):
            files.update(Path(directory, name).relative_to(ROOT).as_posix() for name in names)
    return files


def test_registry_reads_all_four_urls(pyproject) -> None:
    urls = pyproject["project"]["urls"]
    assert set(REGISTRY_URLS) <= set(urls), f"comfy-cli reads only {REGISTRY_URLS}; missing {set(REGISTRY_URLS) - set(urls)}"
    assert all(urls[key].startswith("https://") for key in REGISTRY_URLS)
    assert "Bug Tracker" not in urls


def test_requires_comfyui_and_accelerator_classifiers_pass_comfy_cli(pyproject) -> None:
    requires = pyproject["tool"]["comfy"]["requires-comfyui"]
    assert all(VERSION_PART.match(part.strip()) for part in requires.split(",")), requires
    environments = [c.removeprefix("Environment :: ") for c in pyproject["project"]["classifiers"]
                    if c.startswith("Environment ::")]
    assert "GPU :: NVIDIA CUDA" in environments
    assert set(environments) <= ACCELERATORS, "one unknown Environment classifier makes comfy-cli drop them all"
    assert any(c.startswith("Operating System :: ") for c in pyproject["project"]["classifiers"])


def test_dependencies_are_listed_once_in_requirements_txt(pyproject) -> None:
    from packaging.requirements import Requirement

    project = pyproject["project"]
    assert "dependencies" not in project and "dependencies" in project["dynamic"]
    assert pyproject["tool"]["setuptools"]["dynamic"]["dependencies"] == {"file": ["requirements.txt"]}
    names = [Requirement(line).name for line in requirement_lines()]
    assert "numpy" in names and "torch" not in names and len(names) == len(set(names))


def test_ray_extra_and_the_test_extra_includes_it(pyproject) -> None:
    extras = pyproject["project"]["optional-dependencies"]
    assert extras["ray"] == ["ray[default]>=2.9"]
    assert f"{pyproject['project']['name']}[ray]" in extras["test"]


def test_setuptools_reads_requirements_and_packages_every_sample(monkeypatch) -> None:
    """What ``pip install`` builds: setuptools' own reading of pyproject.toml (no wheel is built)."""
    from setuptools.config.pyprojecttoml import apply_configuration
    from setuptools.dist import Distribution

    monkeypatch.chdir(ROOT)
    dist = apply_configuration(Distribution(), ROOT / "pyproject.toml")
    assert dist.install_requires == requirement_lines()
    build_py = dist.get_command_obj("build_py")
    build_py.ensure_finalized()
    build_py.manifest_files = {}  # package data from [tool.setuptools.package-data] only, no MANIFEST.in
    data = set(build_py.find_data_files("circle_rotate", "circle_rotate"))
    samples = {path.relative_to(ROOT).as_posix() for path in (ROOT / "circle_rotate" / "samples").rglob("*")
               if path.is_file() and "__pycache__" not in path.parts}
    assert "circle_rotate/samples/inputs/circle_rotate_first.jpg" in samples
    assert samples <= data, sorted(samples - data)


def test_published_zip_leaves_out_developer_folders(pyproject) -> None:
    includes = pyproject["tool"]["comfy"]["includes"]
    tracked = tracked_files()
    files = pack_files(includes)
    assert not [path for path in files if path.startswith(DEVELOPER_FOLDERS)]
    needed = {"__init__.py", "pyproject.toml", "requirements.txt", "LICENSE", "README.md"}
    needed |= {path for path in tracked if path.startswith(("nodes/", "circle_rotate/", "web/", "workflows/", "locales/"))}
    assert needed <= files, sorted(needed - files)
