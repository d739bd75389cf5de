"""Fixtures for host tests: a real ComfyUI in this process, tiny models in its model folders, real servers.

Every test in this folder is skipped, with a reason that says how to enable it, when no host is found.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest
import torch

from fixtures.comfy_in_process import load_comfy
from fixtures.comfy_server import ComfyServer
from fixtures.hosts import PACK_DIR, Host, main_host_or_skip
from fixtures.lora_files import write_lora_set
from fixtures.tiny_models import tiny_expert_state_dict, write_tiny_vae

TEST_NODES_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "test_nodes"


@dataclass
class ComfyHost:
    """ComfyUI loaded in this process with the pack."""

    host: Host
    base_dir: Path
    nodes: ModuleType

    def node(self, node_id: str) -> type:
        """The class registered under ``node_id`` (core or pack)."""
        return self.nodes.NODE_CLASS_MAPPINGS[node_id]


@dataclass
class TinyModels:
    """File names (as ComfyUI's loaders list them) of the tiny models in the host's model folders."""

    models_dir: Path
    high_expert: str
    low_expert: str
    t2v_expert: str
    vae: str
    loras: dict[str, str]


@pytest.fixture(scope="session")
def comfy_host(tmp_path_factory: pytest.TempPathFactory) -> ComfyHost:
    host = main_host_or_skip()
    base_dir = tmp_path_factory.mktemp("comfy_base")
    return ComfyHost(host, base_dir, load_comfy(host.path, base_dir, PACK_DIR))


@pytest.fixture(scope="session")
def tiny_models(comfy_host: ComfyHost) -> TinyModels:
    """Tiny high/low Wan2.2 I2V experts, a tiny T2V expert, a tiny VAE and the test LoRA set."""
    from safetensors.torch import save_file

    models_dir = comfy_host.base_dir / "models"
    diffusion_dir = models_dir / "diffusion_models"
    diffusion_dir.mkdir(parents=True, exist_ok=True)
    high = tiny_expert_state_dict(seed=1)
    low = tiny_expert_state_dict(seed=2)
    save_file(high, str(diffusion_dir / "wan2.2_i2v_high_noise_tiny.safetensors"))
    save_file(low, str(diffusion_dir / "wan2.2_i2v_low_noise_tiny.safetensors"))
    save_file(tiny_expert_state_dict(seed=3, in_dim=16), str(diffusion_dir / "wan2.1_t2v_tiny.safetensors"))
    write_tiny_vae(models_dir / "vae" / "wan_2.1_vae_tiny.safetensors")
    loras = write_lora_set(models_dir / "loras", high, low)
    return TinyModels(
        models_dir=models_dir,
        high_expert="wan2.2_i2v_high_noise_tiny.safetensors",
        low_expert="wan2.2_i2v_low_noise_tiny.safetensors",
        t2v_expert="wan2.1_t2v_tiny.safetensors",
        vae="wan_2.1_vae_tiny.safetensors",
        loras={role: path.name for role, path in loras.items()},
    )


@pytest.fixture(scope="session")
def experts(comfy_host: ComfyHost, tiny_models: TinyModels) -> tuple:
    """(high, low) tiny experts loaded by the pack's expert loader (nodes clone before patching, so shared)."""
    return comfy_host.node("CircleRotateLoadExperts").execute(
        high_noise_model=tiny_models.high_expert, low_noise_model=tiny_models.low_expert, weight_dtype="default"
    )[:2]


def random_conditioning(seed: int, length: int = 16) -> list:
    """CONDITIONING as the Wan text encoder returns it, from a seeded random tensor (no tiny UMT5 exists)."""
    generator = torch.Generator().manual_seed(seed)
    return [[torch.randn(1, length, 4096, generator=generator), {"pooled_output": None}]]


@pytest.fixture(scope="session")
def start_server(
    comfy_host: ComfyHost, tiny_models: TinyModels, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., ComfyServer]]:
    """Factory: start a real server of the main host with the pack, the test nodes and the tiny models.

    ``start_server(with_pack=True, test_nodes=True)``; every server started is stopped at the end of the session.
    """
    servers: list[ComfyServer] = []

    def start(with_pack: bool = True, test_nodes: bool = True, extra_args: tuple[str, ...] = ()) -> ComfyServer:
        base_dir = tmp_path_factory.mktemp("server")
        server = ComfyServer(
            comfy_host.host.path, base_dir, PACK_DIR if with_pack else None, tiny_models.models_dir,
            comfy_host.host.python, extra_args=extra_args,
        )
        if test_nodes:
            (base_dir / "custom_nodes" / "circle_rotate_test_nodes").symlink_to(TEST_NODES_DIR)
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def comfy_server(start_server: Callable[..., ComfyServer]) -> ComfyServer:
    """One shared server with the pack, the test nodes and the tiny models."""
    return start_server()


@pytest.fixture
def output_dir(comfy_host: ComfyHost) -> Iterator[Path]:
    """The in-process host's output folder, emptied after the test."""
    import folder_paths

    path = Path(folder_paths.get_output_directory())
    path.mkdir(parents=True, exist_ok=True)
    yield path
    shutil.rmtree(path, ignore_errors=True)
