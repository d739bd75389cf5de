"""Box-prompted subject masks with segment-anything (SAM ViT-B), the image encoder batched over frames.

Per frame this computes exactly what ``SamPredictor.set_image(frame)`` then
``predict(box=box, multimask_output=True)`` and taking the best-scoring of the three masks gives (the original's
call): the frame is resized so its longest side is the encoder's input size (``ResizeLongestSide``), normalised
and padded by ``Sam.preprocess``; the box is mapped to the resized frame; masks are upscaled to the frame's size
and thresholded at ``Sam.mask_threshold``.

Batching: ``SamPredictor`` encodes one image at a time; here the image encoder (about 94% of the original
evaluation's time) runs on ``batch_size`` frames at once (default 1 on CPU, where batching only costs memory,
and 4 on CUDA). The prompt encoder and mask decoder stay per frame:
``MaskDecoder`` repeats one image embedding for all prompts of a call, so it cannot take one prompt per image
of a batch, and both are tiny next to the encoder.

Attention: by default the encoder's attention runs through ``sam_attention.fused_attention`` (the same function
through a fused kernel and a reused position-bias buffer; about 2x faster on CPU, equal to segment-anything up to
float32 rounding). ``fused_attention=False`` runs segment-anything's own code, bit-identical to ``SamPredictor``.
"""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import Any

import numpy as np

from .device import resolve_device
from .frames import check_frames
from .protocols import Detection

ATTENTION_CHOICES = {"fused": True, "segment-anything": False}
"""The user-facing names of the encoder's attention (CLI ``--sam-attention``, the node's ``sam_attention``) and
the ``fused_attention`` value each stands for."""


class SamSegmenter:
    """SubjectSegmenter: the best of SAM's three box-prompted masks per frame."""

    def __init__(
        self, sam: Any, device: str = "auto", batch_size: int | None = None, fused_attention: bool = True
    ) -> None:
        """Args:
            sam: a ``segment_anything.modeling.Sam`` (any size; ``vit_b`` for the metric suite).
            device: "auto", "cpu", "cuda" or "cuda:N".
            batch_size: frames per image-encoder pass; default 1 on CPU, 4 on CUDA. ViT-B's global-attention
                blocks at 1024x1024 hold 12 x 4096 x 4096 attention maps per frame: a batch of 4 peaked above
                10 GB on CPU here (killed for memory) while CPU throughput gains nothing from batching.
            fused_attention: run the encoder's attention through ``sam_attention.fused_attention`` during
                ``segment`` (the model is restored afterwards); False keeps segment-anything's own attention.
        """
        self.device = resolve_device(device)
        self.fused_attention = bool(fused_attention)
        self.sam = sam.to(self.device).eval()
        self.batch_size = int(batch_size) if batch_size is not None else (1 if self.device == "cpu" else 4)

    @staticmethod
    def load_model(path: str | Path, model_type: str = "vit_b") -> Any:
        """A SAM model from a checkpoint such as ``sam_vit_b_01ec64.pth``. Raises FileNotFoundError if absent."""
        from segment_anything import sam_model_registry

        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"SAM checkpoint {str(path)!r} does not exist.")
        if model_type not in sam_model_registry:
            raise ValueError(f"SAM model_type {model_type!r} is unknown: use one of {', '.join(sam_model_registry)}.")
        return sam_model_registry[model_type](checkpoint=str(path))

    @classmethod
    def from_file(cls, path: str | Path, device: str = "auto", model_type: str = "vit_b", **options: Any) -> SamSegmenter:
        """A segmenter on the checkpoint in ``path``."""
        return cls(cls.load_model(path, model_type), device=device, **options)

    def segment(self, frames: np.ndarray, boxes: list[Detection | None]) -> np.ndarray:
        """(N, H, W) bool masks for ``frames`` ((N, H, W, 3) uint8 RGB); all False where the box is None.

        Raises:
            ValueError: if ``boxes`` does not have one entry per frame.
        """
        import torch
        from segment_anything.utils.transforms import ResizeLongestSide

        check_frames(frames)
        if len(boxes) != len(frames):
            raise ValueError(f"boxes has {len(boxes)} entries for {len(frames)} frames; pass one (or None) per frame.")
        masks = np.zeros(frames.shape[:3], dtype=bool)
        todo = [index for index, box in enumerate(boxes) if box is not None]
        transform = ResizeLongestSide(self.sam.image_encoder.img_size)
        original_size = tuple(frames.shape[1:3])
        with torch.inference_mode(), self._attention():
            for start in range(0, len(todo), self.batch_size):
                chunk = todo[start : start + self.batch_size]
                resized = [transform.apply_image(frames[index]) for index in chunk]
                input_size = tuple(resized[0].shape[:2])
                batch = torch.stack([torch.as_tensor(image, device=self.device).permute(2, 0, 1) for image in resized])
                embeddings = self.sam.image_encoder(self.sam.preprocess(batch))
                for row, index in enumerate(chunk):
                    box = transform.apply_boxes(np.asarray([boxes[index].box_xyxy], dtype=np.float64), original_size)
                    masks[index] = self._decode(embeddings[row : row + 1], box, input_size, original_size)
        return masks

    def _attention(self) -> Any:
        """The context the image encoder runs in: fused attention, or segment-anything's own."""
        if not self.fused_attention:
            return nullcontext()
        from .sam_attention import fused_attention

        return fused_attention(self.sam.image_encoder)

    def _decode(self, embedding: Any, box: np.ndarray, input_size: tuple, original_size: tuple) -> np.ndarray:
        """The best-scoring mask of one frame from its image embedding and its (resized) box."""
        import torch

        box_tensor = torch.as_tensor(box, dtype=torch.float, device=self.device)
        sparse, dense = self.sam.prompt_encoder(points=None, boxes=box_tensor, masks=None)
        low_res, scores = self.sam.mask_decoder(
            image_embeddings=embedding,
            image_pe=self.sam.prompt_encoder.get_dense_pe(),
            sparse_prompt_embeddings=sparse,
            dense_prompt_embeddings=dense,
            multimask_output=True,
        )
        upscaled = self.sam.postprocess_masks(low_res, input_size, original_size) > self.sam.mask_threshold
        return upscaled[0, int(torch.argmax(scores[0]))].cpu().numpy()
