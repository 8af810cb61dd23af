"""DPM-Solver-v3 (Zheng et al., NeurIPS 2023; official ``dpm_solver_v3.py``) driven by empirical model statistics
(EMS ``l``, ``s``, ``b``), as the Java ``DpmSolverV3Solver`` / ``DpmSolverV3Update`` / ``EmsIntegrals``.

The statistics live on ``K + 1`` points uniform in half log-SNR between ``lambda(t_start)`` (index 0) and
``lambda(t_end)`` (index ``K``); sampling times are grid points (the config's ``times`` are already snapped). The
predictor/corrector updates are per-dimension linear combinations ``x_t = a . x_s + sum_m c_m . f_m + d`` with
``f = (sigma eps - l x) / alpha``, coefficients computed in float64 on the host.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from .. import _array
from ..errors import ConfigError
from ..schedules import NoiseSchedule, linspace


class EmpiricalModelStatistics:
    """``l``, ``s``, ``b`` as ``[K + 1, D]`` float64 (``D`` = elements of one sample) on the grid ``(t_start, t_end)``."""

    def __init__(self, l: Any, s: Any, b: Any, t_start: float, t_end: float, sample_shape: Sequence[int]):
        self.sample_shape = tuple(int(d) for d in sample_shape)
        dim = int(np.prod(self.sample_shape))
        arrays = []
        for name, a in (("l", l), ("s", s), ("b", b)):
            a = np.asarray(a, dtype=np.float64).reshape(-1)
            if a.size % dim != 0 or a.size // dim < 2:
                raise ConfigError(f"EMS: {name} has {a.size} values, not (K + 1) x {dim} with K >= 1")
            if not np.isfinite(a).all():
                raise ConfigError(f"EMS: {name} is not finite")
            arrays.append(a.reshape(-1, dim))
        if not (arrays[0].shape == arrays[1].shape == arrays[2].shape):
            raise ConfigError(f"EMS: l, s and b have different shapes {[a.shape for a in arrays]}")
        self.l, self.s, self.b = arrays
        self.k = self.l.shape[0] - 1
        self.dim = dim
        if not (t_start > t_end > 0):
            raise ConfigError(f"EMS grid: need tStart > tEnd > 0, got {t_start}, {t_end}")
        self.t_start = float(t_start)
        self.t_end = float(t_end)

    def degenerated(self) -> "EmpiricalModelStatistics":
        """``l = 1, s = b = 0`` on the same grid (DPM-Solver++ up to the grid quadrature)."""
        shape = self.l.shape
        return EmpiricalModelStatistics(np.ones(shape), np.zeros(shape), np.zeros(shape), self.t_start, self.t_end,
                                        self.sample_shape)

    def lambdas(self, ns: NoiseSchedule) -> list[float]:
        """The grid's half log-SNR values on ``ns`` (with the official round trip through ``inverse_lambda``)."""
        lam_t, lam_0 = ns.lambda_(self.t_start), ns.lambda_(self.t_end)
        out = [ns.lambda_(ns.inverse_lambda(v)) for v in linspace(lam_t, lam_0, self.k + 1)]
        for j in range(1, len(out)):
            if not (math.isfinite(out[j]) and out[j] > out[j - 1]):
                raise ConfigError(f"EMS grid: lambda grid is not finite and strictly increasing at index {j}")
        return out

    def integrals(self, ns: NoiseSchedule) -> "EmsIntegrals":
        return EmsIntegrals(np.array(self.lambdas(ns)), self.l, self.s, self.b)


def _cum_trapezoid(a: np.ndarray | None, x: np.ndarray, w: np.ndarray | None, rows: int, dim: int) -> np.ndarray:
    """``y_n = sum_{i=1..n} 0.5 (x_i - x_{i-1}) (w_i e^{a_i - amax} + w_{i-1} e^{a_{i-1} - amax})`` times
    ``e^{amax}`` per dimension (``a = None`` means 0, ``w = None`` means 1)."""
    if a is None:
        a_max = np.zeros(dim)
        e = np.ones((rows, dim))
    else:
        a_max = a.max(axis=0)
        e = np.exp(a - a_max)
    tmp = e if w is None else w * e
    inc = 0.5 * (x[1:] - x[:-1])[:, None] * (tmp[1:] + tmp[:-1])
    out = np.zeros((rows, dim))
    out[1:] = np.cumsum(inc, axis=0) * np.exp(a_max)
    return out


class EmsIntegrals:
    """``L = int l``, ``S = int s``, ``I = int e^(L+S)``, ``B = int e^(-S) b``, ``C = int e^(L+S) B`` (trapezoid,
    max-subtracted) and the cached high-order coefficients ``E_k``."""

    def __init__(self, lambdas: np.ndarray, l: np.ndarray, s: np.ndarray, b: np.ndarray):
        rows, dim = l.shape
        if rows != len(lambdas):
            raise ConfigError(f"EMS integrals: {len(lambdas)} grid points for arrays of {rows} rows")
        self.lambdas = lambdas
        self.steps = rows - 1
        self.dim = dim
        self.l = l
        self.big_l = _cum_trapezoid(None, lambdas, l, rows, dim)
        self.big_s = _cum_trapezoid(None, lambdas, s, rows, dim)
        ls = self.big_l + self.big_s
        self.big_i = _cum_trapezoid(ls, lambdas, None, rows, dim)
        self.big_b = _cum_trapezoid(-self.big_s, lambdas, b, rows, dim)
        self.big_c = _cum_trapezoid(ls, lambdas, self.big_b, rows, dim)
        self._e: dict[tuple[int, int, int], np.ndarray] = {}

    def exp_coefficient(self, i_s: int, i_t: int, k: int) -> np.ndarray:
        """``E_k = int_{lambda_iS}^{lambda_iT} e^{(L+S) - (L+S)_iS} (lambda - lambda_iS)^k / k!`` on the grid."""
        key = (i_s, i_t, k)
        c = self._e.get(key)
        if c is None:
            n = i_t - i_s + 1
            factorial = float(math.factorial(k))
            lam = self.lambdas
            w = np.array([math.pow(lam[i_s + j] - lam[i_s], k) / factorial for j in range(n)])
            a = self.big_l[i_s:i_t + 1] + self.big_s[i_s:i_t + 1] - self.big_l[i_s] - self.big_s[i_s]
            a_max = a.max(axis=0)
            vals = w[:, None] * np.exp(a - a_max)
            inc = 0.5 * (lam[i_s + 1:i_t + 1] - lam[i_s:i_t])[:, None] * (vals[1:] + vals[:-1])
            # np.cumsum accumulates sequentially, as the Java loop does
            c = np.cumsum(inc, axis=0)[-1] if n > 1 else np.zeros(self.dim)
            c = c * np.exp(a_max)
            self._e[key] = c
        return c


def snap_index(grid_lambdas: Sequence[float], lam: float) -> int:
    """``round(K (lambda - lambda_T) / (lambda_0 - lambda_T))`` (half to even, as ``torch.round``)."""
    k = len(grid_lambdas) - 1
    lt, l0 = grid_lambdas[0], grid_lambdas[k]
    pos = k * (lam - lt) / (l0 - lt)
    if not math.isfinite(pos):
        raise ConfigError(f"EMS grid: cannot snap lambda = {lam} to the grid")
    r = round(pos)
    if r < 0 or r > k:
        raise ConfigError(f"EMS grid: lambda = {lam} lies outside the statistics grid (snaps to {r} of 0..{k})")
    return int(r)


def index_lambda(grid_lambdas: Sequence[float], index: int) -> float:
    k = len(grid_lambdas) - 1
    lt, l0 = grid_lambdas[0], grid_lambdas[k]
    return lt + (l0 - lt) * index / k


def derivative_weights(lambdas: Sequence[float], pseudo: bool) -> list[list[float]]:
    """``w[k-1][m]`` with ``g^(k) = sum_m w[k-1][m] g_m`` (factorial included): divided differences (pseudo) or the
    inverse of the Vandermonde matrix ``R[m][k] = (lambda_m - lambda_0)^k``."""
    n = len(lambdas) - 1
    w = [[0.0] * (n + 1) for _ in range(n)]
    if n == 0:
        return w
    if pseudo:
        prev = [[1.0 if m == j else 0.0 for m in range(n + 1)] for j in range(n + 1)]
        factorial = 1.0
        for i in range(1, n + 1):
            cur = []
            for j in range(n - i + 1):
                den = lambdas[j] - lambdas[i + j]
                cur.append([(prev[j][m] - prev[j + 1][m]) / den for m in range(n + 1)])
            factorial *= i
            for m in range(n + 1):
                w[i - 1][m] = cur[0][m] * factorial
            prev = cur
        return w
    r = np.array([[math.pow(lambdas[m] - lambdas[0], k) for k in range(1, n + 1)] for m in range(1, n + 1)])
    try:
        inv = np.linalg.inv(r)
    except np.linalg.LinAlgError as e:
        raise ConfigError("dpmsolver-v3: the points' lambdas coincide; cannot estimate derivatives") from e
    factorial = 1.0
    for k in range(1, n + 1):
        factorial *= k
        total = 0.0
        for m in range(1, n + 1):
            w[k - 1][m] = float(inv[k - 1, m - 1]) * factorial
            total += w[k - 1][m]
        w[k - 1][0] = -total
    return w


def update_coefficients(ems: EmsIntegrals, ns: NoiseSchedule, indexes: Sequence[int], times: Sequence[float],
                        i_t: int, t_t: float, pseudo: bool):
    """``(a, [c_0..c_n], d)`` of the update from point 0 of ``(indexes, times)`` to ``(i_t, t_t)``."""
    n = len(indexes) - 1
    i_s = indexes[0]
    alpha_s, alpha_t = ns.alpha(times[0]), ns.alpha(t_t)
    l_s, l_t = ems.big_l[i_s], ems.big_l[i_t]
    s_s = ems.big_s[i_s]
    d_i = ems.big_i[i_t] - ems.big_i[i_s]
    b_s = ems.big_b[i_s]
    exp_ls_lt = np.exp(l_s - l_t)
    a = alpha_t / alpha_s * exp_ls_lt
    f = [-alpha_t * np.exp(-l_t - s_s) * d_i]
    const = -alpha_t * np.exp(-l_t) * (ems.big_c[i_t] - ems.big_c[i_s] - b_s * d_i)
    if n == 0:
        return a, f, const
    lambdas = [ns.lambda_(times[m]) for m in range(n + 1)]
    w = derivative_weights(lambdas, pseudo)
    p, q = [None], [None]
    for m in range(1, n + 1):
        p.append(np.exp(s_s - ems.big_s[indexes[m]]))
        q.append(np.exp(s_s) * (ems.big_b[indexes[m]] - b_s))
        f.append(np.zeros(ems.dim))
    for k in range(1, n + 1):
        ek = alpha_t * exp_ls_lt * ems.exp_coefficient(i_s, i_t, k)
        f[0] = f[0] - ek * w[k - 1][0]
        for m in range(1, n + 1):
            c = ek * w[k - 1][m]
            f[m] = f[m] - c * p[m]
            const = const + c * q[m]
    return a, f, const


def predictor_order(order: int, n: int, steps: int, lower_order_final: bool) -> int:
    """Predictor order of official step ``n`` (1-based); 0 before the first step."""
    if n < 1:
        return 0
    p = min(n, order)
    return min(p, steps + 1 - n) if lower_order_final else p


_ENTRIES = 3  # history entries per sampled point: x, f, eps (newest first)


class DpmSolverV3:
    """DPM-Solver-v3 multistep predictor with optional corrector on the noise prediction (module docstring).

    Args:
        ems: the statistics.
        order: predictor order 1-3.
        p_pseudo / c_pseudo: divided differences for the predictor / the corrector (pseudo order + 1).
        use_corrector: correct after each model evaluation; ``half``: only where ``t > 0.5``.
        degenerated: ``l = 1, s = b = 0`` instead of the statistics.
        indexes: grid indexes of the ``steps + 1`` sampling times, or None to snap the plan's times.
    """

    history_type = "noise"

    def __init__(self, ems: EmpiricalModelStatistics, order: int, p_pseudo: bool = False, use_corrector: bool = True,
                 c_pseudo: bool = False, half: bool = False, degenerated: bool = False,
                 indexes: Sequence[int] | None = None):
        if order not in (1, 2, 3):
            raise ConfigError(f"dpmsolver-v3: order must be 1, 2 or 3, got {order}")
        self.ems = ems.degenerated() if degenerated else ems
        self.order = order
        self.p_pseudo = p_pseudo
        self.use_corrector = use_corrector
        self.c_pseudo = c_pseudo
        self.half = half
        self.explicit = None if indexes is None else [int(i) for i in indexes]
        self.history_capacity = _ENTRIES * order
        self.integrals: EmsIntegrals | None = None
        self.indexes: list[int] = []
        self.times: list[float] = []

    def grid(self, ns, plan):
        self.integrals = self.ems.integrals(ns)
        lambdas = list(self.integrals.lambdas)
        k = self.integrals.steps
        if self.explicit is not None:
            idx = list(self.explicit)
            if len(idx) != plan.steps + 1:
                raise ConfigError(f"dpmsolver-v3: {len(idx)} explicit indexes for {plan.steps} steps")
        else:
            idx = [snap_index(lambdas, ns.lambda_(t)) for t in plan.times]
        for i, v in enumerate(idx):
            if v < 0 or v > k or (i > 0 and v <= idx[i - 1]):
                raise ConfigError(f"dpmsolver-v3: grid indexes must increase strictly within 0..{k}, got {idx}")
        times = [ns.inverse_lambda(index_lambda(lambdas, v)) for v in idx]
        for i, (ours, given) in enumerate(zip(times, plan.times)):
            if abs(ours - given) > 1e-9 * max(1.0, abs(given)):
                raise ConfigError(f"dpmsolver-v3: time {i} of the config ({given}) is not the statistics grid point "
                                  f"{idx[i]} ({ours}) on this schedule; the statistics or the schedule differ from "
                                  "the ones the config was made with")
        self.indexes = idx
        self.times = times
        return list(times)

    def step(self, step, x):
        i, n, steps = step.index, step.number, step.count
        ns = step.schedule
        ems = self.integrals
        if int(np.prod(x.shape[1:])) != ems.dim:
            raise ConfigError(f"dpmsolver-v3: statistics of {ems.dim} values per sample do not fit samples of shape "
                              f"{tuple(x.shape[1:])}")
        h = step.history
        eps = yield from step.model_at_start(x)
        prev_count = min(i, self.order)
        prev_x: list[Any] = [None] * (prev_count + 1)
        prev_f: list[Any] = [None] * (prev_count + 1)
        for k in range(1, prev_count + 1):
            prev_x[k] = h.get(1 + _ENTRIES * (k - 1)).value
            prev_f[k] = h.get(2 + _ENTRIES * (k - 1)).value
        s = self.times[i]
        i_s = self.indexes[i]
        alpha_s, sigma_s = ns.alpha(s), ns.sigma(s)
        l_over_alpha = ems.l[i_s] / alpha_s
        f = eps * (sigma_s / alpha_s)
        f -= x * _array.per_sample(l_over_alpha, x)
        xs = None
        p_prev = predictor_order(self.order, n - 1, steps, step.lower_order_final)
        if self.use_corrector and (s > 0.5 or not self.half):
            c = p_prev + (1 if self.c_pseudo else 0)
            if c > 1:
                pi = [self.indexes[i - 1], i_s] + [self.indexes[i - q] for q in range(2, c)]
                pt = [self.times[i - 1], s] + [self.times[i - q] for q in range(2, c)]
                pf = [prev_f[1], f] + [prev_f[q] for q in range(2, c)]
                co = update_coefficients(ems, ns, pi, pt, i_s, s, self.c_pseudo)
                xs = self._apply(co, prev_x[1], pf)
        if xs is None:
            xs = _array.copy(x)
        step.remember(s, f)
        step.remember(s, xs)
        p = predictor_order(self.order, n, steps, step.lower_order_final)
        pi = [i_s] + [self.indexes[i - q] for q in range(1, p)]
        pt = [s] + [self.times[i - q] for q in range(1, p)]
        pf = [f] + [prev_f[q] for q in range(1, p)]
        co = update_coefficients(ems, ns, pi, pt, self.indexes[i + 1], self.times[i + 1], self.p_pseudo)
        return self._apply(co, xs, pf)

    @staticmethod
    def _apply(co, base, fs):
        a, cf, d = co
        r = base * _array.per_sample(a, base)
        for q, fq in enumerate(fs):
            r += fq * _array.per_sample(cf[q], base)
        r += _array.per_sample(d, base)
        return r
