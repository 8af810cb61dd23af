"""Timestep spacings: where the ``steps + 1`` sampling times between ``t_start`` and ``t_end`` lie.

The official ``get_time_steps(skip_type, ...)`` of DPM-Solver (``time_uniform``, ``logSNR``, ``time_quadratic``),
Karras/EDM (``karras``, on ``sigma/alpha = exp(-lambda)``), ``time_power`` (Karras-style on the time axis) and explicit
lists, with the service's JSON form (``{"type": "karras", "rho": 7.0}``). Grids run from ``t_start`` (noisy) to
``t_end`` and hit both ends exactly.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

from .errors import ConfigError
from .schedules import NoiseSchedule, linspace


class Spacing:
    """How a grid is placed (see the module docstring)."""

    id: str = ""

    def times(self, schedule: NoiseSchedule, t_start: float, t_end: float, steps: int) -> list[float]:
        raise NotImplementedError

    def inner(self) -> "Spacing":
        """Spacing of a singlestep solver's inner points inside one outer interval (the official code re-applies
        the same skip type; an explicit list has none and falls back to logSNR)."""
        return self

    def to_json(self) -> dict[str, Any]:
        return {"type": self.id}

    def __repr__(self) -> str:
        return f"Spacing({self.to_json()})"


def _check(steps: int, t_start: float, t_end: float) -> None:
    if steps < 1:
        raise ConfigError(f"steps must be at least 1, got {steps}")
    if not (t_start > t_end and t_end > 0.0 and math.isfinite(t_start)):
        raise ConfigError(f"need tStart > tEnd > 0, got tStart={t_start}, tEnd={t_end}")


def _warp(s: NoiseSchedule, u: Sequence[float], t_start: float, t_end: float) -> list[float]:
    t = [s.warp_uniform_time(v) for v in u]
    t[0] = t_start
    t[-1] = t_end
    return t


class TimeUniform(Spacing):
    id = "time_uniform"

    def times(self, s, t_start, t_end, steps):
        _check(steps, t_start, t_end)
        return _warp(s, linspace(s.unwarp_uniform_time(t_start), s.unwarp_uniform_time(t_end), steps + 1),
                     t_start, t_end)


class LogSnr(Spacing):
    id = "logSNR"

    def times(self, s, t_start, t_end, steps):
        _check(steps, t_start, t_end)
        l0, l1 = s.lambda_(t_start), s.lambda_(t_end)
        if not (math.isfinite(l0) and math.isfinite(l1)):
            raise ConfigError(f"logSNR spacing needs finite lambda at both ends; lambda({t_start})={l0}, "
                              f"lambda({t_end})={l1}")
        lam = linspace(l0, l1, steps + 1)
        t = [0.0] * (steps + 1)
        for i in range(1, steps):
            t[i] = s.inverse_lambda(lam[i])
        t[0] = t_start
        t[steps] = t_end
        return t


class TimeQuadratic(Spacing):
    id = "time_quadratic"

    def times(self, s, t_start, t_end, steps):
        _check(steps, t_start, t_end)
        u = linspace(math.sqrt(s.unwarp_uniform_time(t_start)), math.sqrt(s.unwarp_uniform_time(t_end)), steps + 1)
        return _warp(s, [v * v for v in u], t_start, t_end)


class Karras(Spacing):
    """Karras et al. spacing with exponent ``rho`` on ``sigma/alpha = exp(-lambda)``; no appended zero."""

    id = "karras"

    def __init__(self, rho: float = 7.0):
        if not (rho > 0.0) or math.isinf(rho):
            raise ConfigError(f"karras spacing needs rho > 0, got {rho}")
        self.rho = float(rho)

    def times(self, s, t_start, t_end, steps):
        _check(steps, t_start, t_end)
        l_max, l_min = s.lambda_(t_start), s.lambda_(t_end)
        if not (math.isfinite(l_max) and math.isfinite(l_min)):
            raise ConfigError(f"karras spacing needs finite noise levels at both ends; lambda({t_start})={l_max}, "
                              f"lambda({t_end})={l_min}")
        a = math.exp(-l_max / self.rho)
        b = math.exp(-l_min / self.rho)
        t = [0.0] * (steps + 1)
        t[0] = t_start
        t[steps] = t_end
        for i in range(1, steps):
            root = a + i / steps * (b - a)
            t[i] = s.inverse_lambda(-self.rho * math.log(root))
        return t

    def to_json(self):
        return {"type": self.id, "rho": self.rho}


class PowerTime(Spacing):
    """``t_i = (t_start^(1/rho) + i/N (t_end^(1/rho) - t_start^(1/rho)))^rho`` on the (unwarped) time axis."""

    id = "time_power"

    def __init__(self, rho: float):
        if not (rho > 0.0) or math.isinf(rho):
            raise ConfigError(f"time_power spacing needs rho > 0, got {rho}")
        self.rho = float(rho)

    def times(self, s, t_start, t_end, steps):
        _check(steps, t_start, t_end)
        a = math.pow(s.unwarp_uniform_time(t_start), 1.0 / self.rho)
        b = math.pow(s.unwarp_uniform_time(t_end), 1.0 / self.rho)
        u = [math.pow(a + i / steps * (b - a), self.rho) for i in range(steps + 1)]
        return _warp(s, u, t_start, t_end)

    def to_json(self):
        return {"type": self.id, "rho": self.rho}


class Explicit(Spacing):
    """A given list of ``steps + 1`` strictly decreasing positive times (e.g. learned timesteps)."""

    id = "explicit"

    def __init__(self, timesteps: Sequence[float]):
        ts = [float(v) for v in timesteps]
        if len(ts) < 2:
            raise ConfigError("explicit spacing needs at least 2 times")
        for i, v in enumerate(ts):
            if not math.isfinite(v) or not v > 0.0:
                raise ConfigError(f"explicit timesteps must be positive and finite; index {i} is {v}")
            if i > 0 and not v < ts[i - 1]:
                raise ConfigError(f"explicit timesteps must decrease strictly; index {i} ({v}) does not")
        self.timesteps = ts

    def times(self, s, t_start, t_end, steps):
        if steps + 1 != len(self.timesteps):
            raise ConfigError(f"explicit spacing has {len(self.timesteps)} times, which is {len(self.timesteps) - 1} "
                              f"steps, but {steps} steps were requested")
        return list(self.timesteps)

    def inner(self):
        return LogSnr()

    def to_json(self):
        return {"type": self.id, "timesteps": list(self.timesteps)}


def from_json(node: Mapping[str, Any] | str) -> Spacing:
    """A spacing from the service's JSON (``{"type": "logSNR"}``) or a bare name."""
    if isinstance(node, str):
        node = {"type": node}
    if not isinstance(node, Mapping):
        raise ConfigError(f"spacing: expected a JSON object, got {node!r}")
    kind = node.get("type")
    if kind == "time_uniform":
        return TimeUniform()
    if kind == "logSNR":
        return LogSnr()
    if kind == "time_quadratic":
        return TimeQuadratic()
    if kind == "karras":
        return Karras(float(node.get("rho", 7.0)))
    if kind == "time_power":
        return PowerTime(float(node["rho"]))
    if kind == "explicit":
        return Explicit(node["timesteps"])
    raise ConfigError(f"spacing.type: unknown '{kind}' (expected time_uniform, logSNR, time_quadratic, karras, "
                      "time_power or explicit)")
