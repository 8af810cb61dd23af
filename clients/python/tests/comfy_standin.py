"""A stand-in for the parts of ComfyUI the solvertune nodes touch (ComfyUI cannot be installed here).

Written from ComfyUI's interfaces (Comfy-Org/ComfyUI ``comfy/samplers.py`` ``KSAMPLER.sample``, ``CFGGuider``,
``KSamplerX0Inpaint``; ``comfy/model_sampling.py`` ``EPS`` / ``CONST`` ``noise_scaling``), not copied: the sampler
gets the guider-wrapped denoiser ``model_k(x, sigma, denoise_mask, model_options={}, seed=None)``, noise scaled by
``model_sampling.noise_scaling(sigmas[0], noise, latent, max_denoise)``, ``extra_args`` with ``denoise_mask``,
``model_options`` and ``seed``, and the result passes ``inverse_noise_scaling(sigmas[-1], x)``.
"""

from __future__ import annotations

import importlib.util
import math
import sys
import types
from pathlib import Path

import numpy as np
import torch


class ModelSamplingEps:
    """ComfyUI's EPS model sampling (VP models in the VE k-diffusion space)."""

    def __init__(self, sigma_max: float):
        self.sigma_max = torch.tensor(sigma_max)

    def noise_scaling(self, sigma, noise, latent_image, max_denoise=False):
        if max_denoise:
            noise = noise * torch.sqrt(1.0 + sigma ** 2.0)
        else:
            noise = noise * sigma
        return noise + latent_image

    def inverse_noise_scaling(self, sigma, latent):
        return latent


class CfgGuider:
    """ComfyUI's CFGGuider as the sampler sees it: ``cfg`` and a call that returns the guided denoised."""

    def __init__(self, denoise, cfg: float, cond, uncond, model_sampling):
        self.denoise = denoise
        self.cfg = cfg
        self.cond = cond
        self.uncond = uncond
        self.inner_model = types.SimpleNamespace(model_sampling=model_sampling)

    def __call__(self, x, sigma, model_options={}, seed=None):
        s = float(sigma.reshape(-1)[0])
        if self.cfg == 1.0:
            return self.denoise(x, s, self.cond)
        d_c = self.denoise(x, s, self.cond)
        d_u = self.denoise(x, s, self.uncond)
        return d_u + (d_c - d_u) * self.cfg


class KSamplerX0Inpaint:
    def __init__(self, model, sigmas):
        self.inner_model = model
        self.sigmas = sigmas

    def __call__(self, x, sigma, denoise_mask, model_options={}, seed=None):
        return self.inner_model(x, sigma, model_options=model_options, seed=seed)


class KSAMPLER:
    def __init__(self, sampler_function, extra_options={}, inpaint_options={}):
        self.sampler_function = sampler_function
        self.extra_options = extra_options
        self.inpaint_options = inpaint_options

    def max_denoise(self, model_wrap, sigmas):
        max_sigma = float(model_wrap.inner_model.model_sampling.sigma_max)
        sigma = float(sigmas[0])
        return math.isclose(max_sigma, sigma, rel_tol=1e-05) or sigma > max_sigma

    def sample(self, model_wrap, sigmas, extra_args, callback, noise, latent_image=None, denoise_mask=None,
               disable_pbar=False):
        extra_args["denoise_mask"] = denoise_mask
        model_k = KSamplerX0Inpaint(model_wrap, sigmas)
        ms = model_wrap.inner_model.model_sampling
        noise = ms.noise_scaling(sigmas[0], noise, latent_image, self.max_denoise(model_wrap, sigmas))
        total_steps = len(sigmas) - 1

        def k_callback(x):
            if callback is not None:
                callback(x["i"], x["denoised"], x["x"], total_steps)

        samples = self.sampler_function(model_k, noise, sigmas, extra_args=extra_args, callback=k_callback,
                                        disable=disable_pbar, **self.extra_options)
        return ms.inverse_noise_scaling(sigmas[-1], samples)


def install() -> None:
    """Puts ``comfy.samplers`` (this stand-in) into ``sys.modules``."""
    comfy = types.ModuleType("comfy")
    samplers = types.ModuleType("comfy.samplers")
    samplers.KSAMPLER = KSAMPLER
    comfy.samplers = samplers
    sys.modules["comfy"] = comfy
    sys.modules["comfy.samplers"] = samplers


def load_custom_nodes(folder: Path, name: str = "solvertune_nodes"):
    """Loads a custom-node folder the way ComfyUI does (a package from ``<folder>/__init__.py``)."""
    install()
    spec = importlib.util.spec_from_file_location(name, folder / "__init__.py", submodule_search_locations=[str(folder)])
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _guider(ref, guidance: float, sigma_max: float):
    b = ref.x_T.shape[0]
    cond = np.full(b, ref.class_label) if ref.class_label is not None else None
    uncond = np.full(b, -1)

    def denoise(x, s, labels):
        lab = None if labels is not None and labels[0] < 0 else labels
        return torch.from_numpy(ref.data_prediction_ve(x.numpy(), s, lab))

    return CfgGuider(denoise, guidance, cond, uncond, ModelSamplingEps(sigma_max))


def direct_run(ref, cfg, x, sigmas):
    """``sample_solvertune`` on the same guided denoiser, without the ComfyUI wrapping."""
    from solvertune.kdiffusion import sample_solvertune  # noqa: PLC0415

    guider = _guider(ref, cfg.guidance, float(sigmas[0]))
    return sample_solvertune(lambda x, sigma, **kw: guider(x, sigma), x, sigmas, disable=True, config=cfg)


def run_graph(nodes, config: str, ref, guidance: float, server: str = ""):
    """``SamplerCustomAdvanced(noise, guider, sampler, sigmas, latent)`` with the solvertune SAMPLER and SIGMAS,
    a CFGGuider at ``guidance`` over the mixture and the reference problem's noise; returns the VP-state result
    and the progress callbacks."""
    sampler = nodes.NODE_CLASS_MAPPINGS["SolvertuneSampler"]().get_sampler(config, server)[0]
    sigmas = nodes.NODE_CLASS_MAPPINGS["SolvertuneSigmas"]().get_sigmas(config, server)[0]
    assert sigmas.dtype == torch.float32 and float(sigmas[-1]) == 0.0
    guider = _guider(ref, guidance, float(sigmas[0]))
    calls = []
    noise = torch.tensor(ref.x_T)
    out = sampler.sample(guider, sigmas, {"model_options": {}, "seed": 0}, lambda *a: calls.append(a), noise,
                         torch.zeros_like(noise))
    return out, sigmas, calls
