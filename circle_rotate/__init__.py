"""ComfyUI-free core of ComfyUI-CircleRotate: video IO, the metric suite, LoRA inspection, the batch client, the CLI.

Nothing in this package imports ComfyUI; the ComfyUI adapters live in ``nodes/`` beside it and import this
package, never the other way round. Heavy libraries (ultralytics, segment_anything, open_clip, lpips, cv2)
are imported inside the functions that need them, so importing this package stays cheap.
"""

__version__ = "0.1.0"
