"""resolve_device: CUDA when available, CPU otherwise, explicit requests checked; the wrappers honour it."""

from __future__ import annotations

import pytest
import torch

from circle_rotate.metric_models.device import resolve_device
from circle_rotate.metric_models.lpips_distance import LpipsDistance


def test_auto_is_cpu_without_cuda(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == "cpu"
    assert resolve_device(None) == "cpu"


def test_auto_is_cuda_when_available(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert resolve_device("auto") == "cuda"
    assert resolve_device("CUDA:1") == "cuda:1"
    with pytest.raises(ValueError, match="only 2 CUDA device"):
        resolve_device("cuda:2")


def test_cuda_requested_without_cuda_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="'cuda' was requested but CUDA is not available.*Use device 'cpu' or 'auto'"):
        resolve_device("cuda")


def test_unknown_device_is_named() -> None:
    with pytest.raises(ValueError, match="'tpu' is not a known device"):
        resolve_device("tpu")
    assert resolve_device("cpu") == "cpu"


def test_wrapper_puts_its_model_on_the_resolved_device(monkeypatch: pytest.MonkeyPatch) -> None:
    from circle_rotate.metric_models.lpips_distance import build_model

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    distance = LpipsDistance(build_model(), device="auto")
    assert distance.device == "cpu"
    assert {p.device.type for p in distance.model.parameters()} == {"cpu"}
    with pytest.raises(ValueError, match="CUDA is not available"):
        LpipsDistance(build_model(), device="cuda")
