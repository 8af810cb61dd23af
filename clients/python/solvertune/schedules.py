"""Noise schedules ``x_t = alpha(t) x_0 + sigma(t) eps`` on a continuous time axis, exactly as the Java service.

Time runs from ``t_max`` (pure noise) down towards 0 (data). Everything is plain Python ``float`` (IEEE double): the
solvers' coefficient algebra happens here, never in tensors. ``lambda(t) = log alpha - log sigma`` is the half
log-SNR; it increases as ``t`` decreases.

Discrete VP schedules (DDPM / Stable Diffusion) follow DPM-Solver's convention: ``log alpha_n = 0.5 cumsum log(1 -
beta)``, the tail whose half log-SNR lies below ``clipped_lambda`` (default -5.1) is dropped (N' points kept),
``t_n = (n + 1) / N'`` and ``log alpha(t)`` is piecewise linear in ``t``; a network receives its training index
``N' t - 1`` (:meth:`NoiseSchedule.model_input_time`).

:func:`from_spec` reads the service's schedule JSON (``provenance.schedule`` of a config, ``GET /api/v1/models/{id}``);
:func:`from_diffusers_config` reads a diffusers ``scheduler_config.json`` (``pipe.scheduler.config``).
"""

from __future__ import annotations

import bisect
import math
from typing import Any, Mapping, Sequence

from .errors import ConfigError

DEFAULT_CLIPPED_LAMBDA = -5.1


def linspace(start: float, end: float, n: int) -> list[float]:
    """``n`` evenly spaced points from ``start`` to ``end`` with torch/numpy arithmetic (symmetric from both ends)."""
    if n < 1:
        raise ValueError(f"linspace needs at least one point, got {n}")
    if n == 1:
        return [start]
    step = (end - start) / (n - 1)
    half = n // 2
    return [start + step * i if i < half else end - step * (n - 1 - i) for i in range(n)]


def _log_add_exp(a: float, b: float) -> float:
    m = max(a, b)
    if m == -math.inf:
        return m
    return m + math.log1p(math.exp(-abs(a - b)))


class NoiseSchedule:
    """A forward process on continuous time ``t`` (see the module docstring)."""

    def log_alpha(self, t: float) -> float:
        raise NotImplementedError

    def alpha(self, t: float) -> float:
        return math.exp(self.log_alpha(t))

    def sigma(self, t: float) -> float:
        raise NotImplementedError

    def log_sigma(self, t: float) -> float:
        return math.log(self.sigma(t))

    def lambda_(self, t: float) -> float:
        """Half log-SNR ``log alpha(t) - log sigma(t)``."""
        return self.log_alpha(t) - self.log_sigma(t)

    def inverse_lambda(self, lam: float) -> float:
        raise NotImplementedError

    def d_alpha_dt(self, t: float) -> float:
        raise NotImplementedError

    def d_sigma_dt(self, t: float) -> float:
        raise NotImplementedError

    @property
    def t_max(self) -> float:
        raise NotImplementedError

    @property
    def default_t_end(self) -> float:
        raise NotImplementedError

    @property
    def default_t_start(self) -> float:
        return self.t_max

    def model_input_time(self, t: float) -> float:
        """The time value a network of this schedule was trained on (discrete VP: its index ``N' t - 1``)."""
        return t

    def warp_uniform_time(self, u: float) -> float:
        """Time reparameterisation of time-based spacings (identity except for shifted flows)."""
        return u

    def unwarp_uniform_time(self, t: float) -> float:
        return t

    def k_sigma(self, t: float) -> float:
        """The sigma of k-diffusion / ComfyUI at ``t``: ``sigma/alpha = exp(-lambda)`` (flows: ``t``)."""
        return math.exp(-self.lambda_(t))

    def time_of_k_sigma(self, k_sigma: float) -> float:
        """Inverse of :meth:`k_sigma`."""
        return self.inverse_lambda(-math.log(k_sigma))

    def spec(self) -> dict[str, Any]:
        """The service's JSON description of this schedule."""
        raise NotImplementedError


class VpSchedule(NoiseSchedule):
    """Variance preserving: ``alpha^2 + sigma^2 = 1``; subclasses define ``log alpha`` and its inverse."""

    def sigma(self, t: float) -> float:
        return math.sqrt(-math.expm1(2.0 * self.log_alpha(t)))

    def log_sigma(self, t: float) -> float:
        return 0.5 * math.log(-math.expm1(2.0 * self.log_alpha(t)))

    def lambda_(self, t: float) -> float:
        la = self.log_alpha(t)
        return la - 0.5 * math.log(-math.expm1(2.0 * la))

    def inverse_lambda(self, lam: float) -> float:
        return self._time_of_log_alpha(-0.5 * _log_add_exp(0.0, -2.0 * lam))

    def _time_of_log_alpha(self, log_alpha: float) -> float:
        raise NotImplementedError

    def _d_log_alpha_dt(self, t: float) -> float:
        raise NotImplementedError

    def d_alpha_dt(self, t: float) -> float:
        return self.alpha(t) * self._d_log_alpha_dt(t)

    def d_sigma_dt(self, t: float) -> float:
        a2 = math.exp(2.0 * self.log_alpha(t))
        return -a2 * self._d_log_alpha_dt(t) / self.sigma(t)


def beta_preset(name: str, n: int, beta_start: float | None = None, beta_end: float | None = None) -> list[float]:
    """The ``n`` betas of a diffusers preset (``linear``, ``scaled_linear``, ``squaredcos_cap_v2``), in double."""
    if n < 2:
        raise ConfigError(f"a discrete schedule needs at least 2 timesteps, got {n}")
    if name == "linear":
        return linspace(1e-4 if beta_start is None else beta_start, 0.02 if beta_end is None else beta_end, n)
    if name == "scaled_linear":
        lo = 0.00085 if beta_start is None else beta_start
        hi = 0.012 if beta_end is None else beta_end
        return [v * v for v in linspace(math.sqrt(lo), math.sqrt(hi), n)]
    if name == "squaredcos_cap_v2":
        def abar(t: float) -> float:
            c = math.cos((t + 0.008) / 1.008 * math.pi / 2.0)
            return c * c
        return [min(1.0 - abar((i + 1) / n) / abar(i / n), 0.999) for i in range(n)]
    raise ConfigError(f"unknown beta schedule '{name}' (expected linear, scaled_linear or squaredcos_cap_v2)")


class VpDiscreteSchedule(VpSchedule):
    """A discrete-time VP schedule in DPM-Solver's continuous-time convention (module docstring)."""

    def __init__(self, log_alphas: Sequence[float], clipped_lambda: float = DEFAULT_CLIPPED_LAMBDA,
                 spec: Mapping[str, Any] | None = None):
        las = [float(v) for v in log_alphas]
        if len(las) < 2:
            raise ConfigError("a discrete schedule needs at least 2 timesteps")
        for i, la in enumerate(las):
            if not la < 0.0 or math.isnan(la):
                raise ConfigError(f"alphas_cumprod must lie in (0, 1); index {i} gives log alpha {la}")
            if i > 0 and not la < las[i - 1]:
                raise ConfigError(f"alphas_cumprod must decrease strictly; it does not at index {i}")
        self.train_steps = len(las)
        drop = sum(1 for la in las if la - 0.5 * math.log(-math.expm1(2.0 * la)) < clipped_lambda)
        if drop > len(las) - 2:
            raise ConfigError(f"lambda clipping at {clipped_lambda} would leave fewer than 2 timesteps")
        kept = las[:len(las) - drop]
        n = len(kept)
        self._la = kept
        self._t = [(i + 1) / n for i in range(n)]
        self._slopes = [(kept[i + 1] - kept[i]) / (self._t[i + 1] - self._t[i]) for i in range(n - 1)]
        self.clipped_lambda = clipped_lambda
        self._spec = dict(spec) if spec is not None else {
            "type": "vp_discrete", "alphasCumprod": self.alphas_cumprod(), "clippedLambda": clipped_lambda}

    @classmethod
    def from_betas(cls, betas: Sequence[float], clipped_lambda: float = DEFAULT_CLIPPED_LAMBDA,
                   spec: Mapping[str, Any] | None = None) -> "VpDiscreteSchedule":
        la = []
        acc = 0.0
        for i, b in enumerate(betas):
            b = float(b)
            if not 0.0 < b < 1.0:
                raise ConfigError(f"betas must lie in (0, 1); index {i} is {b}")
            acc += math.log1p(-b)
            la.append(0.5 * acc)
        if spec is None:
            spec = {"type": "vp_discrete", "betas": [float(b) for b in betas], "clippedLambda": clipped_lambda}
        return cls(la, clipped_lambda, spec)

    @classmethod
    def from_alphas_cumprod(cls, alphas_cumprod: Sequence[float], clipped_lambda: float = DEFAULT_CLIPPED_LAMBDA,
                            spec: Mapping[str, Any] | None = None) -> "VpDiscreteSchedule":
        if spec is None:
            spec = {"type": "vp_discrete", "alphasCumprod": [float(a) for a in alphas_cumprod],
                    "clippedLambda": clipped_lambda}
        return cls([0.5 * math.log(float(a)) for a in alphas_cumprod], clipped_lambda, spec)

    @classmethod
    def preset(cls, name: str, n: int = 1000, beta_start: float | None = None, beta_end: float | None = None,
               clipped_lambda: float = DEFAULT_CLIPPED_LAMBDA) -> "VpDiscreteSchedule":
        betas = beta_preset(name, n, beta_start, beta_end)
        spec: dict[str, Any] = {"type": "vp_discrete", "preset": name, "numTrainTimesteps": n,
                                "clippedLambda": clipped_lambda}
        if name != "squaredcos_cap_v2":
            defaults = {"linear": (1e-4, 0.02), "scaled_linear": (0.00085, 0.012)}[name]
            spec["betaStart"] = defaults[0] if beta_start is None else float(beta_start)
            spec["betaEnd"] = defaults[1] if beta_end is None else float(beta_end)
        la = []
        acc = 0.0
        for b in betas:
            acc += math.log1p(-b)
            la.append(0.5 * acc)
        return cls(la, clipped_lambda, spec)

    @property
    def grid_size(self) -> int:
        """N': grid points kept after clipping."""
        return len(self._la)

    def alphas_cumprod(self) -> list[float]:
        return [math.exp(2.0 * la) for la in self._la]

    def log_alpha(self, t: float) -> float:
        tg, la = self._t, self._la
        n = len(tg)
        if t <= tg[0]:
            k = 0
        elif t >= tg[n - 1]:
            k = n - 2
        else:
            i = bisect.bisect_left(tg, t)
            if tg[i] == t:
                return la[i]
            k = i - 1
        return la[k] + (t - tg[k]) * (la[k + 1] - la[k]) / (tg[k + 1] - tg[k])

    def _d_log_alpha_dt(self, t: float) -> float:
        tg = self._t
        n = len(tg)
        if t <= tg[0]:
            return self._slopes[0]
        if t >= tg[n - 1]:
            return self._slopes[n - 2]
        i = bisect.bisect_left(tg, t)
        k = i if tg[i] == t else i - 1
        return self._slopes[min(k, n - 2)]

    def _time_of_log_alpha(self, log_alpha: float) -> float:
        la, tg = self._la, self._t
        n = len(la)
        if log_alpha >= la[0]:
            k = 0
        elif log_alpha <= la[n - 1]:
            k = n - 2
        else:
            lo, hi = 0, n - 1
            while hi - lo > 1:
                mid = (lo + hi) >> 1
                g = la[mid]
                if g == log_alpha:
                    return tg[mid]
                if g > log_alpha:
                    lo = mid
                else:
                    hi = mid
            k = lo
        x0, x1 = la[k + 1], la[k]
        y0, y1 = tg[k + 1], tg[k]
        return y0 + (log_alpha - x0) * (y1 - y0) / (x1 - x0)

    @property
    def t_max(self) -> float:
        return 1.0

    @property
    def default_t_end(self) -> float:
        return 1.0 / len(self._t)

    def model_input_time(self, t: float) -> float:
        return t * len(self._t) - 1.0

    def spec(self) -> dict[str, Any]:
        return dict(self._spec)


class VpLinearSchedule(VpSchedule):
    """Continuous VP "linear" (ScoreSDE): ``log alpha_t = -(beta1 - beta0) t^2 / 4 - beta0 t / 2``."""

    def __init__(self, beta0: float = 0.1, beta1: float = 20.0):
        if not (beta0 > 0.0 and beta1 > beta0):
            raise ConfigError(f"vp_linear needs 0 < beta0 < beta1, got beta0={beta0}, beta1={beta1}")
        self.beta0 = float(beta0)
        self.beta1 = float(beta1)

    def log_alpha(self, t: float) -> float:
        return -0.25 * t * t * (self.beta1 - self.beta0) - 0.5 * t * self.beta0

    def _d_log_alpha_dt(self, t: float) -> float:
        return -0.5 * t * (self.beta1 - self.beta0) - 0.5 * self.beta0

    def _time_of_log_alpha(self, log_alpha: float) -> float:
        tmp = -4.0 * (self.beta1 - self.beta0) * log_alpha
        delta = self.beta0 * self.beta0 + tmp
        return tmp / (math.sqrt(delta) + self.beta0) / (self.beta1 - self.beta0)

    @property
    def t_max(self) -> float:
        return 1.0

    @property
    def default_t_end(self) -> float:
        return 1e-3

    def spec(self) -> dict[str, Any]:
        return {"type": "vp_linear", "beta0": self.beta0, "beta1": self.beta1}


class VpCosineSchedule(VpSchedule):
    """Continuous VP cosine (iDDPM), ``s = 0.008``, ``T = 0.9946``, written without cancellation at small ``t``."""

    _S = 0.008
    _U0 = _S / (1.0 + _S) * math.pi / 2.0
    _TAN_U0 = math.tan(_U0)
    _SIN_U0 = math.sin(_U0)
    _COS_U0 = math.cos(_U0)

    def log_alpha(self, t: float) -> float:
        d = t / (1.0 + self._S) * math.pi / 2.0
        h = math.sin(0.5 * d)
        return math.log1p(-2.0 * h * h - self._TAN_U0 * math.sin(d))

    def _d_log_alpha_dt(self, t: float) -> float:
        u = (t + self._S) / (1.0 + self._S) * math.pi / 2.0
        return -math.tan(u) * math.pi / (2.0 * (1.0 + self._S))

    def _time_of_log_alpha(self, log_alpha: float) -> float:
        sin_u = math.sqrt(self._SIN_U0 * self._SIN_U0 - self._COS_U0 * self._COS_U0 * math.expm1(2.0 * log_alpha))
        u = math.atan2(sin_u, self._COS_U0 * math.exp(log_alpha))
        return (u - self._U0) * 2.0 * (1.0 + self._S) / math.pi

    @property
    def t_max(self) -> float:
        return 0.9946

    @property
    def default_t_end(self) -> float:
        return 1e-3

    def spec(self) -> dict[str, Any]:
        return {"type": "vp_cosine"}


class EdmSchedule(NoiseSchedule):
    """EDM / variance exploding: ``alpha = 1``, ``sigma = t``, ``lambda = -log t``."""

    def __init__(self, sigma_min: float = 0.002, sigma_max: float = 80.0):
        if not (sigma_min > 0.0 and sigma_max > sigma_min):
            raise ConfigError(f"edm needs 0 < sigmaMin < sigmaMax, got {sigma_min}, {sigma_max}")
        self.sigma_min = float(sigma_min)
        self.sigma_max = float(sigma_max)

    def log_alpha(self, t: float) -> float:
        return 0.0

    def alpha(self, t: float) -> float:
        return 1.0

    def sigma(self, t: float) -> float:
        return t

    def log_sigma(self, t: float) -> float:
        return math.log(t)

    def lambda_(self, t: float) -> float:
        return -math.log(t)

    def inverse_lambda(self, lam: float) -> float:
        return math.exp(-lam)

    def d_alpha_dt(self, t: float) -> float:
        return 0.0

    def d_sigma_dt(self, t: float) -> float:
        return 1.0

    @property
    def t_max(self) -> float:
        return self.sigma_max

    @property
    def default_t_end(self) -> float:
        return self.sigma_min

    def spec(self) -> dict[str, Any]:
        return {"type": "edm", "sigmaMin": self.sigma_min, "sigmaMax": self.sigma_max}


class RectifiedFlowSchedule(NoiseSchedule):
    """Rectified flow (SD3 / Flux): ``alpha = 1 - t``, ``sigma = t``; ``shift`` warps time-based spacings."""

    def __init__(self, shift: float = 1.0):
        if not (shift > 0.0) or math.isinf(shift):
            raise ConfigError(f"rectified_flow shift must be a positive number, got {shift}")
        self.shift = float(shift)

    def log_alpha(self, t: float) -> float:
        return math.log1p(-t)

    def alpha(self, t: float) -> float:
        return 1.0 - t

    def sigma(self, t: float) -> float:
        return t

    def log_sigma(self, t: float) -> float:
        return math.log(t)

    def inverse_lambda(self, lam: float) -> float:
        if lam >= 0:
            return math.exp(-lam) / (1.0 + math.exp(-lam))
        return 1.0 / (1.0 + math.exp(lam))

    def d_alpha_dt(self, t: float) -> float:
        return -1.0

    def d_sigma_dt(self, t: float) -> float:
        return 1.0

    @property
    def t_max(self) -> float:
        return 1.0

    @property
    def default_t_end(self) -> float:
        return 1e-3

    def warp_uniform_time(self, u: float) -> float:
        return self.shift * u / (1.0 + (self.shift - 1.0) * u)

    def unwarp_uniform_time(self, t: float) -> float:
        return t / (self.shift - (self.shift - 1.0) * t)

    def k_sigma(self, t: float) -> float:
        return t

    def time_of_k_sigma(self, k_sigma: float) -> float:
        return k_sigma

    def spec(self) -> dict[str, Any]:
        return {"type": "rectified_flow", "shift": self.shift}


def from_spec(spec: Mapping[str, Any]) -> NoiseSchedule:
    """Builds a schedule from the service's JSON (``{"type": "vp_discrete", "preset": "scaled_linear", ...}``)."""
    if not isinstance(spec, Mapping):
        raise ConfigError(f"schedule: expected a JSON object, got {type(spec).__name__}")
    kind = spec.get("type")
    if kind == "vp_discrete":
        clip = spec.get("clippedLambda")
        clip = DEFAULT_CLIPPED_LAMBDA if clip is None else float(clip)
        given = [k for k in ("preset", "betas", "alphasCumprod") if spec.get(k) is not None]
        if len(given) != 1:
            raise ConfigError("schedule: vp_discrete needs exactly one of 'preset', 'betas' or 'alphasCumprod'")
        if spec.get("betas") is not None:
            return VpDiscreteSchedule.from_betas(spec["betas"], clip, spec)
        if spec.get("alphasCumprod") is not None:
            return VpDiscreteSchedule.from_alphas_cumprod(spec["alphasCumprod"], clip, spec)
        n = spec.get("numTrainTimesteps")
        s = VpDiscreteSchedule.preset(spec["preset"], 1000 if n is None else int(n), spec.get("betaStart"),
                                      spec.get("betaEnd"), clip)
        s._spec = dict(spec)
        return s
    if kind == "vp_linear":
        return VpLinearSchedule(float(spec["beta0"]), float(spec["beta1"]))
    if kind == "vp_cosine":
        return VpCosineSchedule()
    if kind == "edm":
        return EdmSchedule(float(spec["sigmaMin"]), float(spec["sigmaMax"]))
    if kind == "rectified_flow":
        return RectifiedFlowSchedule(float(spec.get("shift", 1.0)))
    raise ConfigError(f"schedule.type: unknown '{kind}' (expected vp_discrete, vp_linear, vp_cosine, edm or "
                      "rectified_flow)")


def from_diffusers_config(config: Mapping[str, Any]) -> NoiseSchedule:
    """The schedule of a diffusers ``scheduler_config.json`` (DDPM-family betas, or a flow-matching config).

    Supports ``beta_schedule`` ``linear``, ``scaled_linear``, ``squaredcos_cap_v2`` and ``trained_betas``; a
    ``FlowMatch*`` class (or ``use_flow_sigmas``) gives the rectified flow with its static ``shift``. Options that
    change the forward process in ways the service does not model (``rescale_betas_zero_snr``) are refused.
    """
    cfg = dict(config)
    cls = str(cfg.get("_class_name", ""))
    if cls.startswith("FlowMatch") or cfg.get("use_flow_sigmas"):
        if cfg.get("use_dynamic_shifting"):
            raise ConfigError("diffusers config: dynamic shifting (mu from the image size) has no fixed schedule; "
                              "use the config's own schedule")
        return RectifiedFlowSchedule(float(cfg.get("shift", cfg.get("flow_shift", 1.0)) or 1.0))
    if cfg.get("rescale_betas_zero_snr"):
        raise ConfigError("diffusers config: rescale_betas_zero_snr is not supported (a zero terminal SNR has no "
                          "finite half log-SNR)")
    n = int(cfg.get("num_train_timesteps", 1000))
    trained = cfg.get("trained_betas")
    if trained is not None:
        return VpDiscreteSchedule.from_betas([float(b) for b in trained])
    name = cfg.get("beta_schedule", "linear")
    s = VpDiscreteSchedule.preset(name, n, cfg.get("beta_start"), cfg.get("beta_end"))
    return s


def same_schedule(a: NoiseSchedule, b: NoiseSchedule, times: Sequence[float], rtol: float = 1e-9) -> bool:
    """Whether two schedules agree in ``alpha``, ``sigma`` and network time at ``times`` (relative ``rtol``)."""
    if type(a) is not type(b):
        return False
    for t in times:
        for f in (a.log_alpha, a.lambda_, a.model_input_time):
            g = getattr(b, f.__name__)
            va, vb = f(t), g(t)
            if abs(va - vb) > rtol * max(1.0, abs(va)):
                return False
    return True
