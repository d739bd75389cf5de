"""Real model wrappers behind the metric suite, each satisfying one protocol of ``protocols.py``.

- ``yolo_detector.YoloDetector`` (SubjectDetector): ultralytics YOLO, subject selection rules.
- ``sam_segmenter.SamSegmenter`` (SubjectSegmenter): box-prompted segment-anything, batched image encoder whose
  attention runs through ``sam_attention`` (the same function through a fused kernel, about 2x faster on CPU).
- ``clip_encoder.ClipEncoder`` (ImageEncoder): open_clip ViT-B/32, OpenAI weights.
- ``dino_encoder.DinoEncoder`` (ImageEncoder): DINO ViT-B/16 on timm, VBench or upstream preprocessing.
- ``lpips_distance.LpipsDistance`` (PerceptualDistance): LPIPS AlexNet.
- ``raft_flow.RaftFlow`` (OpticalFlow): torchvision RAFT.

Each wrapper is built around an already loaded model, ``Wrapper(model, device=..., **options)`` (any model of
the architecture, e.g. random-initialised for tests and benchmarks: ``random_init`` builds them all offline), or
from a weight file with ``Wrapper.from_file`` (used through ``circle_rotate.weights``). ``device.resolve_device`` picks CUDA when available, else CPU; ``frames`` checks the input batches.
Heavy libraries are imported inside functions only (``sam_attention`` imports torch and segment-anything at
module level, so it is itself imported only inside ``SamSegmenter.segment``).
"""
