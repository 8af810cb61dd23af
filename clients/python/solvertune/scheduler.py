"""A diffusers-compatible scheduler that runs a published config inside a stock diffusers pipeline.

>>> pipe.scheduler = SolvertuneScheduler.from_config_id(42, scheduler_config=pipe.scheduler.config)
>>> image = pipe(prompt, num_inference_steps=pipe.scheduler.nfe, guidance_scale=pipe.scheduler.guidance_scale)

Follows the interface diffusers pipelines call (diffusers 0.40.0.dev0, ``SchedulerMixin`` /
``DPMSolverMultistepScheduler``, ``StableDiffusionPipeline.__call__``): ``set_timesteps(num_inference_steps,
device)``, ``timesteps``, ``init_noise_sigma``, ``scale_model_input(sample, t)``, ``step(model_output, timestep,
sample, return_dict)`` returning ``SchedulerOutput(prev_sample)`` (or a tuple), ``order``, ``config``,
``set_begin_index``. diffusers itself is not needed.

How a tuned solver fits the pipeline's loop: the pipeline evaluates its network once per entry of ``timesteps`` at
the sample ``step()`` returned last. ``timesteps`` therefore lists *every model evaluation* of the config, in order
(``nfe`` entries: Heun's two per step, singlestep DPM-Solver's inner points, the final denoise), as the network's
time input (discrete VP models: the DDPM index ``N' t - 1``, a float; flow transformers: ``1000 t``), and ``step()``
returns the next point where the solver needs the model -- UniPC's predicted point for its corrector, a singlestep
solver's inner point, Heun's Euler predictor -- and, after the last evaluation, the final sample. ``order`` is 1 and
``num_inference_steps`` is the config's NFE, so the pipeline's progress bar counts model evaluations.

Conventions: latents are the VP state ``x_t = alpha x0 + sigma eps`` (``init_noise_sigma`` 1, no input scaling, as
diffusers' DPM-Solver and UniPC schedulers); classifier-free guidance is the pipeline's (its ``[uncond, cond]``
batch and ``uncond + w (cond - uncond)``), so call the pipeline with ``guidance_scale=scheduler.guidance_scale``,
the scale the config was validated at. Half-precision latents are integrated in float32 (float64 stays float64)
and returned in the latents' dtype.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from . import _array
from .config import Config, evaluation_times
from .errors import ConfigError
from .model import default_time_input, prediction_type as _prediction_type, time_input_value
from .samplers._loop import run
from .schedules import EdmSchedule, NoiseSchedule, RectifiedFlowSchedule, VpDiscreteSchedule, from_diffusers_config

_DIFFUSERS_PREDICTION = {"noise": "epsilon", "data": "sample", "v": "v_prediction", "flow_velocity": "flow_prediction"}


@dataclass
class SchedulerOutput:
    """The output of :meth:`SolvertuneScheduler.step` (as diffusers' ``SchedulerOutput``)."""

    prev_sample: Any

    def __getitem__(self, i):
        return (self.prev_sample,)[i]

    def to_tuple(self):
        return (self.prev_sample,)


class FrozenConfig(dict):
    """A read-only dict with attribute access (what diffusers' ``scheduler.config`` is)."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name, value):
        raise AttributeError("the scheduler config is frozen")

    def _blocked(self, *args, **kwargs):
        raise TypeError("the scheduler config is frozen")

    __setitem__ = __delitem__ = update = pop = popitem = setdefault = clear = _blocked  # type: ignore[assignment]


def _is_diffusers_config(c: Any) -> bool:
    return isinstance(c, Mapping) and "values" not in c and (
        "_class_name" in c or "num_train_timesteps" in c or "beta_schedule" in c)


class SolvertuneScheduler:
    """Runs a published solver config as a diffusers scheduler (module docstring).

    Args:
        config: a :class:`~solvertune.Config`, a config document or its path.
        schedule: the model's noise schedule; defaults to the config's.
        prediction_type: what the network predicts; defaults to the config's model.
        time_input: what the network receives as ``timestep``; defaults to the DDPM index for discrete VP
            schedules and ``1000 t`` for rectified flows.
        scheduler_config: the pipeline's original ``scheduler.config``, kept in :attr:`config` so that
            ``OtherScheduler.from_config(pipe.scheduler.config)`` swaps back.
    """

    order = 1
    _compatibles: list = []
    has_compatibles = False
    config_name = "scheduler_config.json"

    def __init__(self, config: Any, schedule: NoiseSchedule | None = None, prediction_type: str | None = None,
                 time_input: str | None = None, scheduler_config: Mapping[str, Any] | None = None):
        self.solvertune_config = Config.of(config)
        cfg = self.solvertune_config
        if schedule is not None and cfg.schedule_spec() is not None:
            own = cfg.schedule()
            if not _same(own, schedule, cfg.times):
                raise ConfigError(f"config {cfg.id} was made for the schedule {own.spec()} but the pipeline's is "
                                  f"{schedule.spec()}: it belongs to another model")
        self.plan = cfg.plan(schedule, prediction_type)
        ns = self.plan.schedule
        if time_input is None:
            time_input = "scaled_1000" if isinstance(ns, RectifiedFlowSchedule) else default_time_input(ns)
        self.time_input = time_input
        shape = cfg._dry_shape()
        self.evaluation_times = evaluation_times(self.plan, shape)
        self.nfe = len(self.evaluation_times)
        self.guidance_scale = cfg.guidance
        self.init_noise_sigma = ns.sigma(self.plan.times[0]) if isinstance(ns, EdmSchedule) else 1.0
        self._network_times = [time_input_value(ns, t, time_input) for t in self.evaluation_times]
        base = dict(scheduler_config or {})
        base.update({
            "_class_name": type(self).__name__,
            "solvertune_config_id": cfg.id,
            "solvertune_config_version": cfg.version,
            "num_train_timesteps": ns.train_steps if isinstance(ns, VpDiscreteSchedule) else base.get(
                "num_train_timesteps", 1000),
            "prediction_type": _DIFFUSERS_PREDICTION.get(self.plan.prediction_type, self.plan.prediction_type),
            "nfe": self.nfe,
            "guidance_scale": self.guidance_scale,
            "time_input": time_input,
        })
        self._config = FrozenConfig(base)
        self.timesteps = None
        self.sigmas = None
        self.num_inference_steps = None
        self._begin_index = None
        self._step_index = None
        self._gen = None
        self._returned = None
        self._final = None

    # ---- construction --------------------------------------------------------------------------------------------

    @classmethod
    def from_config(cls, config: Any, solvertune_config: Any = None, client: Any = None, **kwargs) -> "SolvertuneScheduler":
        """From a solvertune config (document, :class:`~solvertune.Config` or path), or -- the diffusers idiom --
        from the pipeline's ``scheduler.config`` plus ``solvertune_config=`` (a document, a Config, a config id or
        a reference like ``"my-model:recommended?nfe=8&guidance=7.5"``, fetched with ``client``). The pipeline's
        betas and prediction type must be those the config was made for."""
        if _is_diffusers_config(config):
            if solvertune_config is None:
                solvertune_config = config.get("solvertune_config_id")
            if solvertune_config is None:
                raise ConfigError("from_config(pipe.scheduler.config) needs solvertune_config= (a config document, "
                                  "id or reference)")
            return cls._with_pipeline_config(_resolve(solvertune_config, client), dict(config), **kwargs)
        return cls(_resolve(config, client), **kwargs)

    @classmethod
    def from_config_id(cls, ref: Any, client: Any = None, scheduler_config: Mapping[str, Any] | None = None,
                       **kwargs) -> "SolvertuneScheduler":
        """Fetches a config from the service (id, or ``"model:latest"``, ``"model:stable?nfe=8"``,
        ``"model:recommended?nfe=8&guidance=7.5"``; see :meth:`solvertune.Client.config`) and builds the scheduler;
        with ``scheduler_config=pipe.scheduler.config`` the pipeline's schedule is checked against the config's."""
        from .client import Client  # noqa: PLC0415

        cfg = (client or Client()).config(ref)
        if scheduler_config is not None:
            return cls._with_pipeline_config(cfg, dict(scheduler_config), **kwargs)
        return cls(cfg, **kwargs)

    @classmethod
    def _with_pipeline_config(cls, cfg: Config, sc: dict, **kwargs) -> "SolvertuneScheduler":
        schedule = from_diffusers_config(sc)
        pred = sc.get("prediction_type")
        if pred is not None and _prediction_type(pred) != cfg.prediction_type:
            raise ConfigError(f"the pipeline's scheduler predicts '{pred}' but config {cfg.id} was made for a model "
                              f"predicting '{cfg.prediction_type}'")
        kwargs.setdefault("schedule", schedule)
        return cls(cfg, scheduler_config=sc, **kwargs)

    # ---- the diffusers interface ---------------------------------------------------------------------------------

    @property
    def config(self) -> FrozenConfig:
        return self._config

    @property
    def step_index(self) -> int | None:
        return self._step_index

    @property
    def begin_index(self) -> int | None:
        return self._begin_index

    def set_begin_index(self, begin_index: int = 0) -> None:
        if begin_index != 0:
            raise ConfigError("a tuned config samples from pure noise over its whole grid; starting at a later index "
                              f"({begin_index}: img2img, inpainting with strength < 1) is not supported")
        self._begin_index = 0

    def set_timesteps(self, num_inference_steps: int | None = None, device: Any = None, timesteps: Any = None,
                      sigmas: Any = None, **kwargs) -> None:
        """Prepares a run. ``num_inference_steps`` must be the config's NFE (or None); custom ``timesteps`` or
        ``sigmas`` are accepted only if they are the config's own."""
        if num_inference_steps is not None and int(num_inference_steps) != self.nfe:
            raise ConfigError(f"config {self.solvertune_config.id} was tuned for {self.nfe} model evaluations; "
                              f"call the pipeline with num_inference_steps={self.nfe} (got {num_inference_steps})")
        ks = [self.plan.schedule.k_sigma(t) for t in self.evaluation_times]
        for name, given, ours in (("timesteps", timesteps, self._network_times), ("sigmas", sigmas, ks)):
            if given is not None:
                g = [float(v) for v in (given.tolist() if hasattr(given, "tolist") else given)]
                if len(g) != len(ours) or not np.allclose(g, ours, rtol=1e-5, atol=1e-6):
                    raise ConfigError(f"custom {name} {g} are not config {self.solvertune_config.id}'s own {ours}; "
                                      f"a tuned config runs only on the grid it was tuned for")
        self.timesteps = _tensor(self._network_times, device)
        self.sigmas = _tensor(ks + [0.0], "cpu" if device is not None else None)
        self.num_inference_steps = self.nfe
        self._step_index = None
        self._begin_index = None
        self._gen = None
        self._returned = None
        self._final = None

    def scale_model_input(self, sample: Any, *args, **kwargs) -> Any:
        """The network takes the latents unscaled."""
        return sample

    def step(self, model_output: Any, timestep: Any, sample: Any, return_dict: bool = True, generator: Any = None,
             **kwargs) -> SchedulerOutput | tuple:
        """Takes the network's output at ``(sample, timestep)`` and returns the next sample the network must see
        (or, after the last evaluation, the final sample)."""
        if self.num_inference_steps is None:
            raise ConfigError("set_timesteps() must be called before step()")
        if self._final is not None:
            raise ConfigError(f"step() called after the run's {self.nfe} model evaluations; call set_timesteps() "
                              "to start another run")
        i = 0 if self._step_index is None else self._step_index
        expected = self._network_times[i]
        t_val = float(timestep.reshape(-1)[0]) if hasattr(timestep, "reshape") else float(timestep)
        if abs(t_val - expected) > 1e-4 * max(1.0, abs(expected)):
            raise ConfigError(f"step {i}: timestep {t_val} is not the config's evaluation {i} ({expected}); pass "
                              "the scheduler's timesteps in order")
        out = _array.working(model_output)
        if self._gen is None:
            x = _array.working(sample)
            self._gen = run(self.plan, x)
            request = next(self._gen)
            if request.x is not x:
                raise AssertionError("the loop must start by evaluating the initial state")
        elif not _array.same_values(sample, self._returned):
            raise ConfigError(f"step {i}: the sample passed to step() is not the one the scheduler returned (a "
                              "callback changed the latents?); a tuned solver cannot follow outside changes")
        try:
            request = self._gen.send(out)
            nxt = request.x
        except StopIteration as done:
            nxt = done.value
            self._final = nxt
        self._step_index = i + 1
        prev = _array.cast_like(nxt, sample)
        self._returned = prev
        if not return_dict:
            return (prev,)
        return SchedulerOutput(prev_sample=prev)

    def add_noise(self, original_samples: Any, noise: Any, timesteps: Any) -> Any:
        raise ConfigError("add_noise (img2img, inpainting) is not supported: a tuned config samples from pure noise")

    def __len__(self) -> int:
        return int(self._config["num_train_timesteps"])

    def __repr__(self) -> str:
        return (f"SolvertuneScheduler(config {self.solvertune_config.id} v{self.solvertune_config.version}, "
                f"{self.solvertune_config.method}, nfe {self.nfe}, guidance {self.guidance_scale})")


def _same(a: NoiseSchedule, b: NoiseSchedule, times) -> bool:
    from .schedules import same_schedule  # noqa: PLC0415

    return same_schedule(a, b, times)


def _resolve(config: Any, client: Any) -> Config:
    if isinstance(config, (int, np.integer)) or (isinstance(config, str) and not _looks_like_path(config)):
        from .client import Client  # noqa: PLC0415

        return (client or Client()).config(config)
    return Config.of(config)


def _looks_like_path(s: str) -> bool:
    import os  # noqa: PLC0415

    return os.path.exists(s) or s.endswith(".json")


def _tensor(values, device):
    try:
        import torch  # noqa: PLC0415
    except ImportError:
        return np.asarray(values, dtype=np.float64)
    dtype = torch.float32 if (device is not None and torch.device(device).type == "mps") else torch.float64
    return torch.tensor(values, dtype=dtype, device=device)
