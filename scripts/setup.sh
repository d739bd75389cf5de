#!/usr/bin/env bash
# One-command developer setup, safe to run again.
#
# Creates a virtual environment (.venv, or $CIRCLE_ROTATE_VENV), installs torch/torchvision, the pack with
# its runtime dependencies and test extras, and a ComfyUI host for the host tests:
#   - $COMFYUI_PATH if set, else <cache>/circle-rotate/ComfyUI (cloned at $COMFYUI_REF when missing and
#     GitHub is reachable; otherwise the host tests skip and say how to enable them);
#   - the ComfyUI-GGUF pack at $COMFYUI_GGUF_PATH or <cache>/circle-rotate/ComfyUI-GGUF (cloned when missing and
#     GitHub is reachable) for the test that feeds a GGUF-loaded expert to the LoRA node;
#   - a musubi-tuner checkout at $MUSUBI_TUNER_PATH or <cache>/circle-rotate/musubi-tuner (cloned when missing and
#     GitHub is reachable) for the test that its dataset-config loader accepts `circle-rotate dataset prepare`'s toml;
#   - optionally the legacy 0.3.64 host at <cache>/circle-rotate/ComfyUI-0.3.64 with its own small venv
#     layered over the main one (only its differing pins are installed there).
# <cache> is $XDG_CACHE_HOME or ~/.cache.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${CIRCLE_ROTATE_VENV:-$repo/.venv}"
python_bin="${PYTHON:-python3}"
torch_version="${TORCH_VERSION:-2.14.1}"
torchvision_version="${TORCHVISION_VERSION:-0.29.1}"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/circle-rotate"
host="${COMFYUI_PATH:-$cache/ComfyUI}"
legacy_host="${COMFYUI_LEGACY_PATH:-$cache/ComfyUI-0.3.64}"
legacy_venv="${COMFYUI_LEGACY_VENV:-$cache/venv-0.3.64}"
comfyui_repo="${COMFYUI_REPO:-https://github.com/comfyanonymous/ComfyUI.git}"
comfyui_ref="${COMFYUI_REF:-v0.8.0}"
gguf_pack="${COMFYUI_GGUF_PATH:-$cache/ComfyUI-GGUF}"
gguf_pack_repo="${COMFYUI_GGUF_REPO:-https://github.com/city96/ComfyUI-GGUF.git}"
gguf_pack_ref="${COMFYUI_GGUF_REF:-main}"
musubi_tuner="${MUSUBI_TUNER_PATH:-$cache/musubi-tuner}"
musubi_tuner_repo="${MUSUBI_TUNER_REPO:-https://github.com/kohya-ss/musubi-tuner.git}"
musubi_tuner_ref="${MUSUBI_TUNER_REF:-main}"

say() { printf '[setup] %s\n' "$*"; }

# clone_missing WHAT DEST MARKER REPO REF EXPLICIT ENV_NAME TESTS: clone REPO at REF into DEST unless DEST/MARKER
# exists or the user named the folder (EXPLICIT, the value of ENV_NAME); without GitHub, say which TESTS skip.
clone_missing() {
    local what="$1" dest="$2" marker="$3" repo_url="$4" ref="$5" explicit="$6" env_name="$7" tests="$8"
    if [[ -f "$dest/$marker" || -n "$explicit" ]]; then
        return 0
    fi
    say "no $what at $dest: cloning $repo_url at $ref"
    if ! git clone -q --depth 1 --branch "$ref" "$repo_url" "$dest" 2>/dev/null; then
        rm -rf "$dest"
        say "could not clone $what (no network to GitHub?). $tests will be skipped."
        say "To enable them, put a $what checkout at $dest or set $env_name, then run this again."
    fi
}

if [[ ! -x "$venv/bin/python" ]]; then
    say "creating virtual environment $venv"
    "$python_bin" -m venv "$venv"
fi
py="$venv/bin/python"
"$py" -m pip install -q --upgrade pip

constraints="$(mktemp)"
trap 'rm -f "$constraints"' EXIT
printf 'torch==%s\ntorchvision==%s\n' "$torch_version" "$torchvision_version" > "$constraints"

say "installing torch $torch_version / torchvision $torchvision_version"
"$py" -m pip install -q -c "$constraints" "torch==$torch_version" "torchvision==$torchvision_version"

say "installing the pack (editable) with test extras"
"$py" -m pip install -q -c "$constraints" -e "$repo[test]"

clone_missing "ComfyUI 0.8.0" "$host" main.py "$comfyui_repo" "$comfyui_ref" "${COMFYUI_PATH:-}" COMFYUI_PATH \
    "Host tests"
clone_missing "ComfyUI-GGUF" "$gguf_pack" nodes.py "$gguf_pack_repo" "$gguf_pack_ref" "${COMFYUI_GGUF_PATH:-}" \
    COMFYUI_GGUF_PATH "The GGUF LoRA host tests"
clone_missing "musubi-tuner" "$musubi_tuner" src/musubi_tuner/dataset/config_utils.py "$musubi_tuner_repo" \
    "$musubi_tuner_ref" "${MUSUBI_TUNER_PATH:-}" MUSUBI_TUNER_PATH "The test that musubi-tuner accepts our dataset.toml"

if [[ -f "$host/requirements.txt" ]]; then
    say "installing ComfyUI host requirements from $host"
    "$py" -m pip install -q -c "$constraints" -r "$host/requirements.txt" requests
fi

if [[ -f "$legacy_host/requirements.txt" ]]; then
    say "preparing the legacy host venv $legacy_venv for $legacy_host"
    if [[ ! -x "$legacy_venv/bin/python" ]]; then
        "$python_bin" -m venv "$legacy_venv"
    fi
    # Layer the legacy venv over the main one: its own site-packages first, the main venv's after.
    main_site="$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
    legacy_site="$("$legacy_venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
    printf '%s\n' "$main_site" > "$legacy_site/zz_circle_rotate_main_venv.pth"
    # Only the pins that differ from the main host go into the legacy venv (frontend, templates, docs).
    legacy_only="$(mktemp)"
    grep -E '^comfyui-(frontend-package|workflow-templates|embedded-docs)' "$legacy_host/requirements.txt" > "$legacy_only" || true
    if [[ -s "$legacy_only" ]]; then
        "$legacy_venv/bin/python" -m pip install -q --no-deps -r "$legacy_only"
        "$legacy_venv/bin/python" -m pip install -q -r "$legacy_only" -c "$constraints"
    fi
    rm -f "$legacy_only"
fi

# The browser tests drive the real ComfyUI frontend in a system Chromium (Playwright's own browser download is
# not used). Install it from the system packages where we can; elsewhere they skip and say why.
if ! command -v chromium >/dev/null 2>&1 && [[ -z "${CIRCLE_ROTATE_NO_CHROMIUM:-}" ]]; then
    if [[ "$(id -u)" == "0" ]] && command -v apt-get >/dev/null 2>&1; then
        say "installing chromium for the browser tests"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
            || say "could not install chromium; the browser tests will be skipped"
    else
        say "chromium not found: the browser tests will be skipped (install your distribution's chromium package)"
    fi
fi

say "done. Run the tests with: bash scripts/test.sh"
