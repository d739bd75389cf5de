"""ComfyUI-CircleRotate: orbit-camera videos with Wan2.2 I2V A14B and the Circle-Rotate dual LoRA, and their metrics.

ComfyUI loads this folder as a custom node pack. It registers the pack's nodes through the schema API
(``comfy_entrypoint``) and ``web/`` as the frontend extension directory. This module deliberately does not
export ``NODE_CLASS_MAPPINGS``: ComfyUI would then ignore ``comfy_entrypoint``.
"""

from comfy_api.latest import ComfyExtension, io

from .nodes import all_nodes

WEB_DIRECTORY = "./web"


class CircleRotateExtension(ComfyExtension):
    """The pack's extension: lists every node class of ``nodes/``."""

    async def get_node_list(self) -> list[type[io.ComfyNode]]:
        return all_nodes()


async def comfy_entrypoint() -> CircleRotateExtension:
    """Entry point ComfyUI calls when it loads the pack."""
    return CircleRotateExtension()
