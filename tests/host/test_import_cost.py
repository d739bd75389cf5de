"""Loading the pack into ComfyUI stays cheap: no heavy library is imported until a node runs."""

from fixtures.hosts import main_host_or_skip
from fixtures.import_probe import probe_pack_import


def test_loading_the_pack_imports_no_heavy_library() -> None:
    host = main_host_or_skip()
    result = probe_pack_import(host.path)
    assert result["heavy"] == [], f"loading the pack imported {result['heavy']} (must wait until a node runs)"
    assert any(module.endswith(".nodes") for module in result["new_modules"]), "the probe did not load the pack"
