"""A published solver config: the service's canonical JSON document, and the sampling plan it stands for.

The document (``GET /api/v1/configs/{id}``, format version 1) has ``id``, ``version``, ``model`` (``id``, ``name``,
``contentHash``, ``predictionType``), ``method``, ``solver``, ``solverOptions``, ``nfe``, ``guidance``, ``spacing``,
``tStart``, ``tEnd``, ``values``, ``metrics`` (``heldOutMse`` ...), ``provenance`` (``schedule`` ...) and more.
``values`` is one of

* ``{"type": "baseline", "candidate": {solver, spacing, lowerOrderFinal, denoiseToZero, tStart, tEnd}, "steps",
  "times"}`` -- an untuned solver on its exact grid;
* ``{"type": "coefficients", "coefficientSet": {method, base, spacing, steps, nfe, times, columns, values, ...},
  "cpr"?}`` -- a tuned coefficient method (IIA, BIIA, D-ODE, DC-Solver, ConsistencySolver);
* ``{"type": "dpmsolver-v3", "order", "pPseudo", "useCorrector", "cPseudo", "half", "degenerated",
  "explicitIndexes"?, "spacing", "steps", "lowerOrderFinal", "denoiseToZero", "times", "ems": {"metadata", "l", "s",
  "b"}}`` -- DPM-Solver-v3 with its statistics inline.

``times`` are the exact continuous times of the schedule the config was validated on; :meth:`Config.plan` runs on
them and checks that the schedule it is given reproduces them.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from . import schedules as _schedules
from .errors import ConfigError
from .model import prediction_type as _prediction_type
from .samplers import registry
from .samplers._loop import Evaluation, Plan, drive, run
from .samplers.dpmsolver_v3 import DpmSolverV3, EmpiricalModelStatistics
from .schedules import NoiseSchedule
from .spacing import Explicit, Spacing
from .spacing import from_json as spacing_from_json

GRID_RTOL = 1e-9


@dataclass
class Config:
    """A config document with typed accessors. ``Config.load(path)`` / ``Config(document)``.

    ``model_schedule`` is the model's schedule JSON (``GET /api/v1/models/{id}``), used when the document's own
    provenance does not record one (the :class:`~solvertune.Client` attaches it).
    """

    document: dict
    model_schedule: dict | None = None

    def __post_init__(self):
        if not isinstance(self.document, Mapping):
            raise ConfigError(f"config: expected a JSON object, got {type(self.document).__name__}")
        self.document = dict(self.document)
        if "values" not in self.document:
            raise ConfigError("config: the document has no 'values' (is it a config document?)")

    # ---- loading -------------------------------------------------------------------------------------------------

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Config":
        with open(path, encoding="utf-8") as f:
            return cls(json.load(f))

    @classmethod
    def of(cls, config: "Config | Mapping[str, Any] | str | os.PathLike") -> "Config":
        """A :class:`Config` from a Config, a document, or the path of a document."""
        if isinstance(config, Config):
            return config
        if isinstance(config, Mapping):
            return cls(dict(config))
        if isinstance(config, (str, os.PathLike)) and os.path.exists(config):
            return cls.load(config)
        raise ConfigError(f"config: expected a Config, a document or the path of one, got {config!r}")

    # ---- fields --------------------------------------------------------------------------------------------------

    @property
    def id(self) -> Any:
        return self.document.get("id")

    @property
    def version(self) -> Any:
        return self.document.get("version")

    @property
    def method(self) -> str:
        return str(self.document.get("method", ""))

    @property
    def nfe(self) -> int:
        return int(self.document.get("nfe"))

    @property
    def guidance(self) -> float:
        g = self.document.get("guidance")
        return 1.0 if g is None else float(g)

    @property
    def values(self) -> dict:
        v = self.document.get("values")
        if not isinstance(v, Mapping):
            raise ConfigError("values: expected a JSON object")
        if "type" not in v and "formatVersion" in v and "columns" in v:
            return {"type": "coefficients", "coefficientSet": dict(v)}
        return dict(v)

    @property
    def times(self) -> list[float]:
        """The exact outer grid (continuous times, decreasing)."""
        v = self.values
        t = v["coefficientSet"].get("times") if v.get("type") == "coefficients" else v.get("times")
        if not isinstance(t, list) or len(t) < 2:
            raise ConfigError("values.times: expected the steps + 1 grid times")
        t = [float(x) for x in t]
        for i in range(len(t)):
            if not (math.isfinite(t[i]) and t[i] > 0 and (i == 0 or t[i] < t[i - 1])):
                raise ConfigError(f"values.times[{i}]: times must be positive, finite and strictly decreasing")
        return t

    @property
    def prediction_type(self) -> str:
        model = self.document.get("model") or {}
        p = model.get("predictionType")
        return _prediction_type(p) if p else "noise"

    @property
    def held_out_mse(self) -> float | None:
        m = self.document.get("heldOutMse")
        if m is None:
            m = (self.document.get("metrics") or {}).get("heldOutMse")
        return None if m is None else float(m)

    def schedule_spec(self) -> dict | None:
        """The schedule JSON the config records (provenance, the coefficient set's provenance, the EMS metadata)."""
        candidates = [(self.document.get("provenance") or {}).get("schedule")]
        v = self.values
        if v.get("type") == "coefficients":
            candidates.append((v["coefficientSet"].get("provenance") or {}).get("schedule"))
        if v.get("type") == "dpmsolver-v3":
            candidates.append(((v.get("ems") or {}).get("metadata") or {}).get("schedule"))
        candidates.append(self.model_schedule)
        for c in candidates:
            if isinstance(c, Mapping):
                return dict(c)
        return None

    def schedule(self) -> NoiseSchedule:
        """The schedule the config was made for (from its provenance)."""
        spec = self.schedule_spec()
        if spec is None:
            raise ConfigError(f"config {self.id}: the document names no schedule; pass the model's schedule "
                              "(schedule=..., e.g. solvertune.schedules.from_spec(client.model(id)['schedule']))")
        return _schedules.from_spec(spec)

    # ---- the plan ------------------------------------------------------------------------------------------------

    def plan(self, schedule: NoiseSchedule | None = None, prediction_type: str | None = None) -> Plan:
        """The sampling plan: solver, exact grid, lower-order-final and denoise-to-zero rules.

        Args:
            schedule: the model's noise schedule; defaults to the one in the config's provenance. A schedule that
                does not reproduce the config's grid from its spacing is refused (it belongs to another model).
            prediction_type: what the network predicts; defaults to the config's model.
        """
        ns = schedule if schedule is not None else self.schedule()
        pred = _prediction_type(prediction_type) if prediction_type else self.prediction_type
        v = self.values
        kind = v.get("type")
        times = self.times
        if kind == "baseline":
            cand = v.get("candidate") or {}
            spec = cand.get("solver")
            spacing = spacing_from_json(cand.get("spacing") or {})
            steps = _int(v, "steps")
            grid = registry.GridInfo(spacing, steps, times)
            factory = registry.build(spec, grid)
            t_start = cand.get("tStart")
            t_end = cand.get("tEnd")
            self._check_grid(ns, factory, spacing, steps,
                             ns.default_t_start if t_start is None else float(t_start),
                             ns.default_t_end if t_end is None else float(t_end), times)
            plan = Plan(factory, ns, times, bool(cand.get("lowerOrderFinal", True)),
                        bool(cand.get("denoiseToZero", False)), pred)
        elif kind == "coefficients":
            cs = v.get("coefficientSet") or {}
            spec = registry.spec_of_set(cs)
            spacing = spacing_from_json(cs.get("spacing") or {})
            steps = _int(cs, "steps")
            if len(times) != steps + 1:
                raise ConfigError(f"values.coefficientSet.times: expected steps + 1 = {steps + 1} times, got "
                                  f"{len(times)}")
            factory = registry.build(spec, registry.GridInfo(spacing, steps, times))
            self._check_grid(ns, factory, spacing, steps, times[0], times[-1], times)
            plan = Plan(factory, ns, times, True, False, pred)
        elif kind == "dpmsolver-v3":
            ems_node = v.get("ems") or {}
            meta = ems_node.get("metadata") or {}
            try:
                ems = EmpiricalModelStatistics(ems_node["l"], ems_node["s"], ems_node["b"], float(meta["tStart"]),
                                               float(meta["tEnd"]), meta["sampleShape"])
            except KeyError as e:
                raise ConfigError(f"values.ems: missing {e}") from None
            if ems.k != int(meta.get("gridSteps", ems.k)):
                raise ConfigError(f"values.ems.metadata.gridSteps says {meta.get('gridSteps')} but the arrays have "
                                  f"{ems.k + 1} rows")
            idx = v.get("explicitIndexes")
            order = _int(v, "order")
            opts = dict(p_pseudo=bool(v.get("pPseudo", False)), use_corrector=bool(v.get("useCorrector", True)),
                        c_pseudo=bool(v.get("cPseudo", False)), half=bool(v.get("half", False)),
                        degenerated=bool(v.get("degenerated", False)))

            def factory(ems=ems, order=order, opts=opts, idx=idx):
                return DpmSolverV3(ems, order, indexes=idx, **opts)

            if _int(v, "steps") + 1 != len(times):
                raise ConfigError(f"values.steps: {v.get('steps')} steps need {_int(v, 'steps') + 1} times, got "
                                  f"{len(times)}")
            plan = Plan(factory, ns, times, bool(v.get("lowerOrderFinal", True)),
                        bool(v.get("denoiseToZero", False)), pred)
        else:
            raise ConfigError(f"values.type: expected baseline, coefficients or dpmsolver-v3, got '{kind}'")
        evals = evaluation_times(plan, self._dry_shape())
        nfe = self.document.get("nfe")
        if nfe is not None and int(nfe) != len(evals):
            raise ConfigError(f"config {self.id}: says nfe {nfe} but its solver evaluates the model {len(evals)} "
                              "times")
        return plan

    def _dry_shape(self) -> tuple[int, ...]:
        v = self.values
        if v.get("type") == "dpmsolver-v3":
            shape = ((v.get("ems") or {}).get("metadata") or {}).get("sampleShape") or [1]
            return (1, int(np.prod(shape)))
        return (1, 1)

    @staticmethod
    def _check_grid(ns: NoiseSchedule, factory, spacing: Spacing, steps: int, t_start: float, t_end: float,
                    times: Sequence[float]) -> None:
        """The config's grid must be what its spacing gives on ``ns`` (else ``ns`` is another model's schedule)."""
        if isinstance(spacing, Explicit):
            ours = list(spacing.timesteps)
        else:
            solver = factory()
            if hasattr(solver, "outer_grid"):
                ours = solver.outer_grid(ns, t_start, t_end)
            else:
                ours = spacing.times(ns, t_start, t_end, len(times) - 1)
        if len(ours) != len(times) or any(abs(a - b) > GRID_RTOL * max(1.0, abs(b)) for a, b in zip(ours, times)):
            raise ConfigError(f"the config's grid {list(times)} is not what its {spacing.id} spacing gives on this "
                              f"schedule ({ours}): the schedule is not the one the config was made for")


def _int(node: Mapping[str, Any], key: str) -> int:
    v = node.get(key)
    if not isinstance(v, int) or isinstance(v, bool):
        raise ConfigError(f"values.{key}: expected an integer, got {v!r}")
    return v


def evaluation_times(plan: Plan, shape: tuple[int, ...] = (1, 1)) -> list[float]:
    """The continuous times of every model evaluation of a run, in order (a dry run with zero model outputs)."""
    times: list[float] = []
    gen = run(plan, np.zeros(shape))

    def zero(x, t):
        times.append(t)
        return np.zeros(np.shape(x))

    drive(gen, zero)
    return times


__all__ = ["Config", "Evaluation", "evaluation_times"]
