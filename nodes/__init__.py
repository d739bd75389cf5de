"""ComfyUI adapters of the pack: schema, input validation and calls into ``comfy.*`` and the core package.

Each module of this folder exports ``NODES``, the node classes it defines; ``all_nodes`` gathers them in the
order they appear in the "Add Node" menu.
"""

from comfy_api.latest import io

from . import conditioning, experts, lora, masks, metric_models, metrics, prompt, report, sampling


def all_nodes() -> list[type[io.ComfyNode]]:
    """Every node class of the pack."""
    return [
        *experts.NODES,
        *lora.NODES,
        *prompt.NODES,
        *conditioning.NODES,
        *sampling.NODES,
        *metric_models.NODES,
        *masks.NODES,
        *metrics.NODES,
        *report.NODES,
    ]
