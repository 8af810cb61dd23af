"""ComfyUI custom nodes that run a published solvertune config: a SAMPLER and a SIGMAS node.

Wire them into ``SamplerCustomAdvanced`` (ComfyUI ``comfy_extras/nodes_custom_sampler.py``): ``Solvertune Sampler``
-> ``sampler``, ``Solvertune Sigmas`` -> ``sigmas`` (the same config in both), a ``CFGGuider`` with the config's
guidance scale -> ``guider``, ``RandomNoise`` -> ``noise``. Both take a config id or reference (``42``,
``my-model:latest``, ``my-model:recommended?nfe=8&guidance=7.5``; see ``solvertune.client``) and read the server
from the ``server`` input or ``$SOLVERTUNE_URL``, the token from ``$SOLVERTUNE_TOKEN`` (never from the workflow,
which ComfyUI saves into every image). Downloads are ETag-cached on disk.

The SAMPLER is ``comfy.samplers.KSAMPLER(sample_solvertune, extra_options={"config": ...})``: ComfyUI scales the
noise (``model_sampling.noise_scaling``) and calls it with its denoiser, the SIGMAS and a progress callback. It runs
the config's own solver on the config's grid and refuses SIGMAS of another grid. Written against ComfyUI's classic
custom-node interface (``INPUT_TYPES``, ``RETURN_TYPES``, ``FUNCTION``, ``CATEGORY``, ``NODE_CLASS_MAPPINGS``) and
its ``KSAMPLER`` (Comfy-Org/ComfyUI ``comfy/samplers.py``, 2026).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

try:
    import solvertune  # noqa: F401
except ImportError:  # the repository layout: clients/comfyui next to clients/python
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "python"))
    import solvertune  # noqa: F401

from solvertune import Client, Config
from solvertune.kdiffusion import sample_solvertune, solvertune_sigmas

log = logging.getLogger("solvertune")

_CONFIGS: dict[tuple[str, str], Config] = {}


def load_config(ref: str, server: str = "") -> Config:
    """The config ``ref`` from ``server`` (or ``$SOLVERTUNE_URL``), memoised per (server, reference) for the
    ComfyUI process; ids are immutable, aliases are re-checked with an ETag request."""
    ref = str(ref).strip()
    if not ref:
        raise ValueError("solvertune: the config input is empty (a config id, '<model>:latest' or "
                         "'<model>:recommended?nfe=N&guidance=G')")
    key = (server.strip(), ref)
    if key in _CONFIGS:
        return _CONFIGS[key]
    cfg = Client(url=server.strip() or None).config(ref)
    if ref.isdigit():
        _CONFIGS[key] = cfg
    return cfg


def comfy_sample_solvertune(model, x, sigmas, extra_args=None, callback=None, disable=None, config=None):
    """``sample_solvertune`` under ComfyUI: warns when the guider's CFG differs from the config's, and reports the
    terminal sigma 0 of the SIGMAS to the progress callback."""
    guider = getattr(model, "inner_model", None)
    cfg_scale = getattr(guider, "cfg", None)
    if cfg_scale is not None and float(cfg_scale) != config.guidance:
        log.warning("solvertune: config %s was validated at cfg %s, the guider uses %s", config.id, config.guidance,
                    cfg_scale)
    out = sample_solvertune(model, x, sigmas, extra_args=extra_args, callback=callback, disable=disable,
                            config=config)
    n = len(config.times) - 1
    if callback is not None and sigmas is not None and len(sigmas) == n + 2:
        callback({"x": out, "i": n, "sigma": sigmas[-1], "sigma_hat": sigmas[-1], "denoised": out})
    return out


class SolvertuneSampler:
    """SAMPLER running a published config's solver."""

    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {"config": ("STRING", {"default": "", "tooltip": "config id, <model>:latest, <model>:stable "
                                               "or <model>:recommended?nfe=N&guidance=G"})},
            "optional": {"server": ("STRING", {"default": "", "tooltip": "service URL (default $SOLVERTUNE_URL)"})},
        }

    RETURN_TYPES = ("SAMPLER",)
    FUNCTION = "get_sampler"
    CATEGORY = "sampling/custom_sampling/samplers"
    DESCRIPTION = "The solver of a tuned solvertune config (DC-Solver, IIA, D-ODE, DPM-Solver-v3, ... or a baseline)."

    def get_sampler(self, config, server=""):
        import comfy.samplers  # noqa: PLC0415 - ComfyUI's module, present inside ComfyUI

        cfg = load_config(config, server)
        cfg.plan()  # refuse a config this package cannot run now, not in the middle of a queue
        return (comfy.samplers.KSAMPLER(comfy_sample_solvertune, extra_options={"config": cfg}),)


class SolvertuneSigmas:
    """SIGMAS of a published config's grid (``steps + 1`` noise levels and the terminal 0)."""

    @classmethod
    def INPUT_TYPES(cls):
        return SolvertuneSampler.INPUT_TYPES()

    RETURN_TYPES = ("SIGMAS",)
    FUNCTION = "get_sigmas"
    CATEGORY = "sampling/custom_sampling/schedulers"
    DESCRIPTION = "The noise levels a tuned solvertune config runs on, in the model's sigma space."

    def get_sigmas(self, config, server=""):
        import torch  # noqa: PLC0415

        cfg = load_config(config, server)
        return (torch.FloatTensor(solvertune_sigmas(cfg)),)


NODE_CLASS_MAPPINGS = {"SolvertuneSampler": SolvertuneSampler, "SolvertuneSigmas": SolvertuneSigmas}
NODE_DISPLAY_NAME_MAPPINGS = {"SolvertuneSampler": "Solvertune Sampler", "SolvertuneSigmas": "Solvertune Sigmas"}
