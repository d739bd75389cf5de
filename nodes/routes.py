"""Server route of the pack: read back a saved report (JSON or CSV) from ComfyUI's output folder.

``GET /circle_rotate/report?filename=NAME&subfolder=SUB`` answers the file ``<output>/SUB/NAME`` when, after
resolving every symbolic link, it lies inside the output folder and ends in ``.json`` or ``.csv``. Anything else
is a 4xx: 400 for a malformed request (no file name, a file name with a path separator, another suffix), 403 for
a path that resolves outside the output folder (``..``, absolute paths, encoded forms, symbolic links), 404 for a
file that does not exist. The web extension uses it for the report node's JSON/CSV links.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

ROUTE = "/circle_rotate/report"
CONTENT_TYPES = {".json": "application/json", ".csv": "text/csv"}


def resolve_report_path(output_dir: str | Path, filename: str, subfolder: str = "") -> tuple[int, Path | str]:
    """Where ``subfolder/filename`` of the output folder is, or why it may not be served.

    Args:
        output_dir: ComfyUI's output folder.
        filename: the file's name (no path separators).
        subfolder: a folder below the output folder ("" for the folder itself).

    Returns:
        ``(200, path)`` for a servable file, else ``(status, message)`` with status 400, 403 or 404.
    """
    if not filename or "/" in filename or "\\" in filename or "\x00" in filename or "\x00" in subfolder:
        return 400, f"filename {filename!r}: give the bare name of a report file (no folders; use 'subfolder')"
    suffix = Path(filename).suffix.lower()
    if suffix not in CONTENT_TYPES:
        return 400, f"filename {filename!r}: only report files ({', '.join(CONTENT_TYPES)}) are served"
    root = Path(output_dir).resolve()
    candidate = (root / subfolder / filename).resolve()
    if not candidate.is_relative_to(root):
        return 403, f"{subfolder!r}/{filename!r} is outside ComfyUI's output folder"
    if not candidate.is_file():
        return 404, f"no report {filename!r} in output subfolder {subfolder!r}"
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
