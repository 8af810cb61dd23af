"""The caller's network as the samplers see it (the official DPM-Solver ``model_wrapper``, as the Java service).

Conventions:

* **State space.** Samplers work on the VP-style state ``x_t = alpha(t) x0 + sigma(t) eps`` of the config's
  schedule (for EDM schedules ``alpha = 1``, for rectified flows ``alpha = 1 - t``). The initial state at
  ``t_start`` is standard normal noise for VP schedules and flows (what diffusers pipelines draw with
  ``init_noise_sigma = 1``), ``sigma_max * noise`` for EDM schedules.
* **Time input.** The network receives, per row, a time value of kind ``time_input``: ``"ddpm_index"`` (discrete VP
  schedules: the training index ``N' t - 1``, a float; diffusers UNets take it as their ``timestep``),
  ``"continuous"`` (``t``), ``"sigma"`` (``sigma/alpha``, k-diffusion's sigma) or ``"scaled_1000"`` (``1000 t``,
  SD3 / Flux transformers). The default is ``"ddpm_index"`` for discrete VP schedules and ``"continuous"`` otherwise.
* **Prediction.** The network predicts ``prediction_type``: ``"noise"`` (epsilon), ``"data"`` (x0, "sample"),
  ``"v"`` (``alpha eps - sigma x0``), ``"score"`` or ``"flow_velocity"`` (``alpha' x0 + sigma' eps``); the sampler
  converts to what it integrates at the same ``(x, t)``.
* **Guidance batching.** With classifier-free guidance scale ``w != 1`` every evaluation is *one* call on the
  doubled batch ``[x, x]`` with times ``[t, t]`` and conditions ``[unconditional_condition, condition]`` (the
  unconditional half first, as diffusers pipelines and the official wrapper order them); the output is split in
  two halves and combined as ``out_u + w (out_c - out_u)`` (computed as ``(out_c - out_u) * w + out_u``). With
  ``w == 1`` and a condition, one conditional call; without a condition, ``model(x, t)``. One such evaluation is one
  NFE.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from . import _array
from .errors import ConfigError
from .schedules import NoiseSchedule, VpDiscreteSchedule

PREDICTION_TYPES = ("noise", "data", "v", "score", "flow_velocity")
TIME_INPUTS = ("ddpm_index", "continuous", "sigma", "scaled_1000")

_ALIASES = {
    "noise": "noise", "epsilon": "noise", "eps": "noise",
    "data": "data", "x0": "data", "x_start": "data", "sample": "data",
    "v": "v", "v_prediction": "v",
    "score": "score",
    "flow_velocity": "flow_velocity", "flow": "flow_velocity", "velocity": "flow_velocity",
    "flow_prediction": "flow_velocity",
}


def prediction_type(name: str) -> str:
    """Canonical prediction type of any of its common names (``epsilon``, ``v_prediction``, ``NOISE`` ...)."""
    key = str(name).lower()
    if key not in _ALIASES:
        raise ConfigError(f"unknown prediction type '{name}' (expected one of {', '.join(PREDICTION_TYPES)})")
    return _ALIASES[key]


def lin(a: float, x: Any, b: float, y: Any) -> Any:
    """``a x + b y`` as a new array (Java ``Lin.of``: each product rounded, then summed)."""
    r = x * a
    r += y * b
    return r


def _norm2(a: float, s: float) -> float:
    d = a * a + s * s
    return 1.0 if abs(d - 1.0) < 1e-12 else d


def convert(out: Any, x: Any, t: float, schedule: NoiseSchedule, source: str, target: str) -> Any:
    """Converts a prediction ``out`` of type ``source`` at ``(x, t)`` to ``target`` (``out`` itself if equal)."""
    if source == target:
        return out
    if target == "noise":
        return _to_noise(out, x, t, schedule, source)
    if target == "data":
        return _to_data(out, x, t, schedule, source)
    eps = _to_noise(out, x, t, schedule, source)
    a, sg = schedule.alpha(t), schedule.sigma(t)
    if target == "v":
        return lin(a + sg * sg / a, eps, -sg / a, x)
    if target == "score":
        return eps * (-1.0 / sg)
    if target == "flow_velocity":
        da, ds = schedule.d_alpha_dt(t), schedule.d_sigma_dt(t)
        return lin(ds - da * sg / a, eps, da / a, x)
    raise ConfigError(f"unknown prediction type '{target}'")


def _to_noise(out, x, t, s, source):
    a, sg = s.alpha(t), s.sigma(t)
    if source == "noise":
        return out
    if source == "data":
        return lin(1.0 / sg, x, -a / sg, out)
    if source == "v":
        d = _norm2(a, sg)
        return lin(a / d, out, sg / d, x)
    if source == "score":
        return out * (-sg)
    if source == "flow_velocity":
        da, ds = s.d_alpha_dt(t), s.d_sigma_dt(t)
        det = a * ds - sg * da
        return lin(a / det, out, -da / det, x)
    raise ConfigError(f"unknown prediction type '{source}'")


def _to_data(out, x, t, s, source):
    a, sg = s.alpha(t), s.sigma(t)
    if source == "data":
        return out
    if source == "noise":
        return lin(1.0 / a, x, -sg / a, out)
    if source == "v":
        d = _norm2(a, sg)
        return lin(a / d, x, -sg / d, out)
    if source == "score":
        return lin(1.0 / a, x, sg * sg / a, out)
    if source == "flow_velocity":
        da, ds = s.d_alpha_dt(t), s.d_sigma_dt(t)
        det = a * ds - sg * da
        return lin(ds / det, x, -sg / det, out)
    raise ConfigError(f"unknown prediction type '{source}'")


def time_input_value(schedule: NoiseSchedule, t: float, kind: str) -> float:
    """The time value of kind ``kind`` (module docstring) a network receives at continuous time ``t``."""
    if kind == "ddpm_index":
        if not isinstance(schedule, VpDiscreteSchedule):
            raise ConfigError("time_input 'ddpm_index' needs a discrete VP schedule")
        return schedule.model_input_time(t)
    if kind == "continuous":
        return t
    if kind == "sigma":
        return schedule.sigma(t) / schedule.alpha(t)
    if kind == "scaled_1000":
        return 1000.0 * t
    raise ConfigError(f"unknown time_input '{kind}' (expected one of {', '.join(TIME_INPUTS)})")


def default_time_input(schedule: NoiseSchedule) -> str:
    return "ddpm_index" if isinstance(schedule, VpDiscreteSchedule) else "continuous"


class ModelFunction:
    """A caller's network with its time input, prediction type and classifier-free guidance (module docstring).

    ``model(x, t_in)`` or ``model(x, t_in, cond, **model_kwargs)``; ``t_in`` is a 1-D array of one time value per
    row, next to ``x`` (float64 for float64 states, float32 otherwise). Calling the instance returns the guided
    prediction of :attr:`prediction_type` and counts one NFE.
    """

    def __init__(self, model: Callable[..., Any], schedule: NoiseSchedule, prediction_type: str = "noise",
                 time_input: str | None = None, guidance_scale: float = 1.0, condition: Any = None,
                 unconditional_condition: Any = None, model_kwargs: Mapping[str, Any] | None = None):
        self.model = model
        self.schedule = schedule
        self.prediction_type = globals()["prediction_type"](prediction_type)
        self.time_input = time_input or default_time_input(schedule)
        if self.time_input not in TIME_INPUTS:
            raise ConfigError(f"unknown time_input '{self.time_input}' (expected one of {', '.join(TIME_INPUTS)})")
        self.guidance_scale = float(guidance_scale)
        self.condition = condition
        self.unconditional_condition = unconditional_condition
        self.model_kwargs = dict(model_kwargs or {})
        if self.guidance_scale != 1.0:
            if condition is None or unconditional_condition is None:
                raise ConfigError(f"classifier-free guidance (scale {self.guidance_scale}) needs both condition and "
                                  "unconditional_condition")
        self.nfe = 0

    def __call__(self, x: Any, t: float) -> Any:
        value = time_input_value(self.schedule, t, self.time_input)
        b = x.shape[0]
        self.nfe += 1
        if self.condition is None:
            out = self.model(x, _array.time_vector(x, value, b), **self.model_kwargs)
        elif self.guidance_scale == 1.0:
            out = self.model(x, _array.time_vector(x, value, b), self.condition, **self.model_kwargs)
        else:
            x2 = _array.concat([x, x])
            c2 = _array.concat([self.unconditional_condition, self.condition])
            both = self.model(x2, _array.time_vector(x, value, 2 * b), c2, **self.model_kwargs)
            uncond, cond = _array.split2(both)
            out = cond - uncond
            out *= self.guidance_scale
            out += uncond
        if tuple(out.shape) != tuple(x.shape):
            raise ConfigError(f"the model returned shape {tuple(out.shape)} for an input of shape {tuple(x.shape)}")
        return out
