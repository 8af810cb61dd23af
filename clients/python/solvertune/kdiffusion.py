"""A k-diffusion-style sampler function that runs a published config.

>>> x = torch.randn(shape) * solvertune.kdiffusion.initial_sigma(config)
>>> x0 = sample_solvertune(denoiser, x, extra_args={"cond": c}, config=config)

Follows crowsonkb/k-diffusion ``k_diffusion/sampling.py`` (``sample_euler``, ``sample_dpmpp_2m``, commit 4601bf0):
``sample_*(model, x, sigmas, extra_args=None, callback=None, disable=None, ...)``, the model a *denoiser*
``model(x, sigma * s_in, **extra_args) -> x0``, ``callback({'x', 'i', 'sigma', 'sigma_hat', 'denoised'})``; and
ComfyUI's ``KSAMPLER`` calling convention (which passes ``sigmas`` from a SIGMAS node and scales the noise itself).

State space and sigma (as the service's k-diffusion / comfyui exports state them): for VP and EDM schedules the
k-diffusion state is ``x / alpha`` at noise level ``sigma = sigma_t / alpha_t = exp(-lambda_t)`` (``x = x0 + sigma
eps``); for rectified flows it is ComfyUI's CONST convention, ``x = (1 - sigma) x0 + sigma eps`` with ``sigma = t``
(shift already applied). The sampler integrates the config's own solver on its own grid, on the VP state
``alpha_t * x`` internally, and returns the state at the config's last time in the same space (``sigma_min``, not
0: exactly what the config was validated on; a config ending with denoise-to-zero returns ``x0``). ``sigmas``, if
given, must be the config's (the SIGMAS node's output, or ``solvertune_sigmas(config)``): ``steps + 1`` values,
optionally followed by the terminal 0 the exports append.

Guidance is the caller's: the denoiser passed in is already guided (k-diffusion's ``CFGDenoiser``, ComfyUI's
``CFGGuider``); use the scale the config was validated at (``Config.guidance``).
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import numpy as np

from . import _array
from .config import Config
from .errors import ConfigError
from .samplers._loop import drive, run
from .schedules import EdmSchedule, NoiseSchedule, RectifiedFlowSchedule

SIGMA_RTOL = 1e-4  # sigmas arrive as float32 tensors


def _config(config: Any, client: Any = None) -> Config:
    if isinstance(config, Config) or isinstance(config, Mapping):
        return Config.of(config)
    if isinstance(config, (int, np.integer)) or isinstance(config, str):
        import os  # noqa: PLC0415

        if isinstance(config, str) and os.path.exists(config):
            return Config.load(config)
        from .client import Client  # noqa: PLC0415

        return (client or Client()).config(config)
    raise ConfigError(f"config: expected a Config, a document, a path, an id or a reference, got {config!r}")


def _state_scale(schedule: NoiseSchedule, t: float) -> float:
    """VP state = scale * k-diffusion state: ``alpha_t`` for VP/EDM, 1 for flows (CONST)."""
    return 1.0 if isinstance(schedule, RectifiedFlowSchedule) else schedule.alpha(t)


def solvertune_sigmas(config: Any, schedule: NoiseSchedule | None = None, terminal_zero: bool = True,
                      client: Any = None) -> list[float]:
    """The config's grid as k-diffusion sigmas (``steps + 1`` values, plus the terminal 0 by default)."""
    cfg = _config(config, client)
    ns = schedule or cfg.schedule()
    sigmas = [ns.k_sigma(t) for t in cfg.times]
    return sigmas + [0.0] if terminal_zero else sigmas


def initial_sigma(config: Any, schedule: NoiseSchedule | None = None, client: Any = None) -> float:
    """The factor that turns standard normal noise into the initial k-diffusion state the config was validated
    from: ``sqrt(1 + sigma_max^2)`` for VP (the VP state is standard normal; ComfyUI's ``max_denoise`` scaling),
    ``sigma_max`` for EDM, 1 for flows at ``t = 1``."""
    cfg = _config(config, client)
    ns = schedule or cfg.schedule()
    t0 = cfg.times[0]
    if isinstance(ns, EdmSchedule):
        return ns.sigma(t0)
    if isinstance(ns, RectifiedFlowSchedule):
        return ns.sigma(t0)
    return 1.0 / ns.alpha(t0)


def check_sigmas(cfg: Config, ns: NoiseSchedule, sigmas: Any) -> None:
    """Refuses ``sigmas`` that are not the config's grid (with or without the terminal 0)."""
    given = [float(v) for v in (sigmas.tolist() if hasattr(sigmas, "tolist") else sigmas)]
    ours = [ns.k_sigma(t) for t in cfg.times]
    if len(given) == len(ours) + 1 and given[-1] == 0.0:
        given = given[:-1]
    if len(given) != len(ours) or any(abs(a - b) > SIGMA_RTOL * max(abs(b), 1e-3) for a, b in zip(given, ours)):
        raise ConfigError(f"sigmas {given} are not config {cfg.id}'s grid {ours} (+ 0): a tuned config runs only on "
                          "its own grid (use the Solvertune SIGMAS node or solvertune_sigmas(config))")


def sample_solvertune(model: Callable[..., Any], x: Any, sigmas: Any = None, extra_args: Mapping[str, Any] | None = None,
                      callback: Callable[[dict], None] | None = None, disable: bool | None = None, config: Any = None,
                      schedule: NoiseSchedule | None = None, client: Any = None) -> Any:
    """Runs ``config`` on a k-diffusion denoiser ``model(x, sigma * s_in, **extra_args) -> x0`` from ``x`` (the
    k-diffusion state at the config's first sigma; see the module docstring for spaces and sigmas).

    Args:
        model: the (guided) denoiser.
        x: the initial state, ``noise * initial_sigma(config)`` to start exactly as the config was validated.
        sigmas: None, or the config's sigmas (checked).
        extra_args: passed to every model call.
        callback: called once per step with k-diffusion's dict (``x`` and ``denoised`` in the k-diffusion space).
        disable: disables the progress bar (tqdm, if installed).
        config: a :class:`~solvertune.Config`, a document, a path, a config id or a reference string.
        schedule: the model's schedule; defaults to the config's.
        client: the :class:`~solvertune.Client` that fetches ids and references.
    """
    if config is None:
        raise ConfigError("sample_solvertune needs config= (a Config, document, path, id or reference)")
    cfg = _config(config, client)
    plan = cfg.plan(schedule, "data")
    ns = plan.schedule
    if sigmas is not None:
        check_sigmas(cfg, ns, sigmas)
    extra_args = {} if extra_args is None else dict(extra_args)
    times = plan.times
    if _array.is_torch(x):
        import torch  # noqa: PLC0415

        with torch.no_grad():
            return _sample(model, x, extra_args, callback, disable, plan, ns, times)
    return _sample(model, x, extra_args, callback, disable, plan, ns, times)


def _sample(model, x, extra_args, callback, disable, plan, ns, times):
    s_in = x.new_ones([x.shape[0]]) if _array.is_torch(x) else np.ones(x.shape[0], dtype=x.dtype)

    def denoiser(x_vp, t):
        k = _state_scale(ns, t)
        return model(x_vp / k if k != 1.0 else x_vp, s_in * ns.k_sigma(t), **extra_args)

    bar = _progress(len(times) - 1, disable)

    def on_step(i, s, t, x_now, x_next, denoised):
        if bar is not None:
            bar.update(1)
        if callback is not None:
            k = _state_scale(ns, s)
            sigma = ns.k_sigma(s)
            callback({"x": x_now / k if k != 1.0 else x_now, "i": i, "sigma": sigma, "sigma_hat": sigma,
                      "denoised": denoised})

    k0 = _state_scale(ns, times[0])
    x_vp = x * k0 if k0 != 1.0 else x
    try:
        out = drive(run(plan, x_vp, on_step), denoiser)
    finally:
        if bar is not None:
            bar.close()
    if plan.denoise_to_zero:
        return out
    k1 = _state_scale(ns, times[-1])
    return out / k1 if k1 != 1.0 else out


def _progress(total: int, disable: bool | None):
    if disable:
        return None
    try:
        from tqdm.auto import tqdm  # noqa: PLC0415
    except ImportError:
        return None
    return tqdm(total=total, disable=disable)


__all__ = ["sample_solvertune", "solvertune_sigmas", "initial_sigma", "check_sigmas"]
