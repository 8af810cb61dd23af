"""Run any published solver config on your own model function, exactly as the service's Java sampler does.

>>> x0 = solvertune.samplers.sample(config, model, x_T, condition=c, unconditional_condition=u)

Supported: DDIM; DPM-Solver and DPM-Solver++ (multistep and singlestep "fast" plan, orders 1-3, ``dpmsolver`` or
``taylor`` updates); UniPC (bh1/bh2, orders 1-3, data or noise prediction); Euler and Heun in EDM form; DC-Solver;
IIA / BIIA; D-ODE; DPM-Solver-v3 with its statistics; ConsistencySolver tables; explicit (learned) timestep grids.
Same grid (the config's exact times), same order plans (DPM-Solver multistep lowers its final orders only below 10
steps, UniPC and DPM-Solver-v3 always), same ``denoise_to_zero``. See :mod:`solvertune.model` for the model, time,
prediction and guidance-batching conventions.
"""

from __future__ import annotations

import warnings
from typing import Any, Callable, Mapping

from ..errors import ConfigError
from ..model import ModelFunction
from ..schedules import NoiseSchedule
from ._loop import Evaluation, NonFiniteModelOutput, Plan, drive, run
from .registry import METHODS, SOLVERS, register_method, register_solver


def sample(config: Any, model: Callable[..., Any], x: Any, *, schedule: NoiseSchedule | None = None,
           prediction_type: str | None = None, time_input: str | None = None, guidance_scale: float | None = None,
           condition: Any = None, unconditional_condition: Any = None, model_kwargs: Mapping[str, Any] | None = None,
           callback: Callable[[dict], None] | None = None) -> Any:
    """Samples from the initial state ``x`` (numpy array or torch tensor, ``[batch, ...]``) with a published config.

    Args:
        config: a :class:`solvertune.Config`, a config document (mapping) or the path of one.
        model: the network, ``model(x, t_in)`` or ``model(x, t_in, cond, **model_kwargs)`` (see
            :mod:`solvertune.model`); its output has ``x``'s shape.
        x: the initial state at the config's start time (standard normal noise for VP schedules and flows).
        schedule: the model's noise schedule; defaults to the schedule recorded in the config.
        prediction_type: what the model predicts (``noise``, ``data``, ``v``, ``score``, ``flow_velocity``);
            defaults to the config's model.
        time_input: what time value the model receives (``ddpm_index``, ``continuous``, ``sigma``,
            ``scaled_1000``); defaults to ``ddpm_index`` on discrete VP schedules, else ``continuous``.
        guidance_scale: classifier-free guidance; defaults to the config's (the scale it was validated at; another
            one gives a warning).
        condition, unconditional_condition: batched conditions for the guided model (concatenated as
            ``[unconditional_condition, condition]`` for the one doubled call per evaluation).
        callback: called after every step with ``{"i", "t", "t_next", "x", "x_next", "denoised"}`` (``x`` the state
            at ``t``, ``x_next`` at ``t_next``, ``denoised`` the data prediction at ``(x, t)``, or None).

    Returns:
        The final state, same type, dtype and device as ``x``.
    """
    from ..config import Config  # noqa: PLC0415

    cfg = Config.of(config)
    plan = cfg.plan(schedule, prediction_type)
    scale = cfg.guidance if guidance_scale is None else float(guidance_scale)
    if guidance_scale is not None and float(guidance_scale) != cfg.guidance:
        warnings.warn(f"config {cfg.id} was validated at guidance {cfg.guidance}, sampling at {guidance_scale}",
                      stacklevel=2)
    if scale != 1.0 and condition is None:
        raise ConfigError(f"config {cfg.id} was validated with classifier-free guidance {scale}: pass condition= and "
                          "unconditional_condition= (or guidance_scale=1.0 to sample the plain model)")
    fn = ModelFunction(model, plan.schedule, plan.prediction_type, time_input, scale, condition,
                       unconditional_condition, model_kwargs)
    on_step = None
    if callback is not None:
        def on_step(i, s, t, x_now, x_next, denoised):
            callback({"i": i, "t": s, "t_next": t, "x": x_now, "x_next": x_next, "denoised": denoised})
    return drive(run(plan, x, on_step), fn)


__all__ = ["sample", "Plan", "Evaluation", "NonFiniteModelOutput", "run", "drive", "SOLVERS", "METHODS",
           "register_solver", "register_method"]
