"""The pack's own socket types (``io.Custom``): values that only the pack's nodes produce and consume.

- ``MetricModels`` (``CIRCLE_ROTATE_METRIC_MODELS``): the metric-model bundle of the metric-models loader node
  (``nodes/metric_models.py`` declares the same type string; equal strings are the same socket type).
- ``Metrics`` (``CIRCLE_ROTATE_METRICS``): one evaluation result, a JSON-compatible dict shaped like a report of
  the core suite (``video``, ``frames``, ``fps``, one object per metric family, ``upstream``, ``errors``).
"""

from __future__ import annotations

from comfy_api.latest import io

METRIC_MODELS_TYPE = "CIRCLE_ROTATE_METRIC_MODELS"
METRICS_TYPE = "CIRCLE_ROTATE_METRICS"

MetricModels = io.Custom(METRIC_MODELS_TYPE)
Metrics = io.Custom(METRICS_TYPE)
