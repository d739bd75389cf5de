"""Server route of the pack: read back a saved report (JSON or CSV) from ComfyUI's output folder.

``GET /circle_rotate/report?filename=NAME&subfolder=SUB`` answers the file ``<output>/SUB/NAME`` when, after
resolving every symbolic link, it lies inside the output folder and ends in ``.json`` or ``.csv``. Anything else
is a 4xx whose message names the query parameter at fault: 400 for a malformed request (no file name, a file name
with a path separator, another suffix, a NUL byte, a name or folder the file system refuses such as one too long or
a symbolic-link loop), 403 for a path that resolves outside the output folder (``..``, absolute paths, encoded
forms, symbolic links), 404 for a file that does not exist. The web extension uses it for the report node's
JSON/CSV links.
"""

from __future__ import annotations

import os
from pathlib import Path

from aiohttp import web

ROUTE = "/circle_rotate/report"
CONTENT_TYPES = {".json": "application/json", ".csv": "text/csv"}
_SHOWN_CHARACTERS = 80


def _shown(value: str) -> str:
    """``value`` for a message: its repr, cut to a readable length."""
    return repr(value) if len(value) <= _SHOWN_CHARACTERS else f"{value[:_SHOWN_CHARACTERS]!r}... ({len(value)} characters)"


def _resolve(path: Path) -> Path | str:
    """``path`` with every symbolic link resolved, or why the file system refuses it (no server path in it)."""
    try:
        return path.resolve()
    except OSError as error:  # e.g. ENAMETOOLONG
        return error.strerror or type(error).__name__
    except RuntimeError:  # Python 3.11 reports a symbolic-link loop so
        return "symbolic link loop"


def _name_limits(root: Path) -> tuple[int, int]:
    """(NAME_MAX, PATH_MAX) of the file system holding ``root``; 255 and 4096 where the OS cannot say (Windows)."""
    try:
        return os.pathconf(root, "PC_NAME_MAX"), os.pathconf(root, "PC_PATH_MAX")
    except (AttributeError, OSError, ValueError):  # no os.pathconf on Windows; a file system without the limits
        return 255, 4096


def _too_long(root: Path, filename: str, subfolder: str) -> str:
    """Why the file system would refuse the name as too long (naming the parameter at fault), or "".

    Checked against the output folder's own limits (``NAME_MAX`` per name, ``PATH_MAX`` for the whole path) before
    the path is used, so the answer does not depend on which call would fail first.
    """
    name_max, path_max = _name_limits(root)
    if len(os.fsencode(filename)) > name_max:
        return f"filename {_shown(filename)}: longer than {name_max} bytes; give the name of a report file"
    if any(len(os.fsencode(part)) > name_max for part in subfolder.replace("\\", "/").split("/")):
        return f"subfolder {_shown(subfolder)}: a folder name is longer than {name_max} bytes"
    if len(os.fsencode(str(root / subfolder / filename))) >= path_max:
        return f"subfolder {_shown(subfolder)}: the path is longer than {path_max} bytes; give a shorter folder"
    return ""


def resolve_report_path(output_dir: str | Path, filename: str, subfolder: str = "") -> tuple[int, Path | str]:
    """Where ``subfolder/filename`` of the output folder is, or why it may not be served.

    Args:
        output_dir: ComfyUI's output folder.
        filename: the file's name (no path separators).
        subfolder: a folder below the output folder ("" for the folder itself).

    Returns:
        ``(200, path)`` for a servable file, else ``(status, message)`` with status 400, 403 or 404; the message
        names the parameter at fault (``filename`` or ``subfolder``).
    """
    if "\x00" in subfolder:
        return 400, f"subfolder {_shown(subfolder)}: contains a NUL byte; give a folder below the output folder"
    if not filename or "/" in filename or "\\" in filename or "\x00" in filename:
        return 400, f"filename {_shown(filename)}: give the bare name of a report file (no folders; use 'subfolder')"
    suffix = Path(filename).suffix.lower()
    if suffix not in CONTENT_TYPES:
        return 400, f"filename {_shown(filename)}: only report files ({', '.join(CONTENT_TYPES)}) are served"
    root = Path(output_dir).resolve()
    too_long = _too_long(root, filename, subfolder)
    if too_long:
        return 400, too_long
    folder = _resolve(root / subfolder)
    if isinstance(folder, str):
        return 400, f"subfolder {_shown(subfolder)}: {folder}; give a folder below the output folder"
    if not folder.is_relative_to(root):
        return 403, f"{_shown(subfolder)}/{_shown(filename)} is outside ComfyUI's output folder"
    candidate = _resolve(folder / filename)
    if isinstance(candidate, str):
        return 400, f"filename {_shown(filename)}: {candidate}; give the name of a report file"
    if not candidate.is_relative_to(root):
        return 403, f"{_shown(subfolder)}/{_shown(filename)} is outside ComfyUI's output folder"
    try:
        found = candidate.is_file()
    except OSError as error:
        return 400, f"filename {_shown(filename)}: {error.strerror}; give the name of a report file"
    if not found:
        return 404, f"no report {_shown(filename)} in output subfolder {_shown(subfolder)}"
    return 200, candidate


async def get_report(request: web.Request) -> web.Response:
    """Handler of ``ROUTE`` (see the module docstring)."""
    import folder_paths

    status, result = resolve_report_path(
        folder_paths.get_output_directory(), request.query.get("filename", ""), request.query.get("subfolder", "")
    )
    if status != 200:
        return web.json_response({"error": result}, status=status)
    path = Path(result)
    return web.Response(
        body=path.read_bytes(), content_type=CONTENT_TYPES[path.suffix.lower()], charset="utf-8",
        headers={"Cache-Control": "no-cache"},
    )


def register() -> bool:
    """Add ``ROUTE`` to the running ComfyUI server's routes; False when no server runs in this process (tests)."""
    import server

    instance = getattr(server.PromptServer, "instance", None)
    if instance is None:
        return False
    instance.routes.get(ROUTE)(get_report)
    return True
