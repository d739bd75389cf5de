"""ComfyUI adapters of the pack: schema, input validation and calls into ``comfy.*`` and the core package.

Each module of this folder exports ``NODES``, the node classes it defines; ``all_nodes`` gathers them in the
order they appear in the "Add Node" menu.
"""

from comfy_api.latest import io

from . import conditioning, experts, lora, prompt, sampling
from . import metrics, report
from . import metric_models


def all_nodes() -> list[type[io.ComfyNode]]:
    """Every node class of the pack."""
    return [*prompt.NODES, *metric_models.NODES, *metrics.NODES, *report.NODES, *experts.NODES, *lora.NODES, *conditioning.NODES, *sampling.NODES]
