"""The untuned solvers: DDIM, DPM-Solver / DPM-Solver++ (multistep and singlestep, orders 1-3), UniPC (bh1/bh2,
orders 1-3, data or noise prediction), Euler and Heun in EDM form.

Each is the Java solver of the same name line for line (which reproduces the official ``dpm_solver_pytorch.py`` and
``uni_pc.py`` to 1e-9): coefficients in ``float`` on the host, the update applied as one :class:`Combo`.
Notation: a step goes from ``s`` to ``t``; ``h = lambda_t - lambda_s``; ``m`` are model outputs in the history type
(x0 for data prediction, eps for noise prediction), newest first.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..spacing import LogSnr, Spacing
from ._combo import Combo, lin


class _GridFromPlan:
    def grid(self, schedule, plan):
        return list(plan.times)


class Ddim(_GridFromPlan):
    """Deterministic DDIM (eta = 0): ``x_t = (sigma_t/sigma_s) x + (alpha_t - alpha_s sigma_t/sigma_s) x0``."""

    history_type = "data"
    history_capacity = 1

    def step(self, step, x):
        ns = step.schedule
        s, t = step.s, step.t
        x0 = yield from step.model_at_start(x)
        ratio = ns.sigma(t) / ns.sigma(s)
        return lin(ratio, x, ns.alpha(t) - ns.alpha(s) * ratio, x0)


def multistep_order(order: int, n: int, steps: int, lower_order_final: bool) -> int:
    """DPM-Solver multistep's order at 1-based step ``n``: warm-up, then lowered only if ``steps < 10``."""
    if n < order:
        return n
    return min(order, steps + 1 - n) if lower_order_final and steps < 10 else order


_X4, _M0, _M1, _M2 = (Combo.basis(4, i) for i in range(4))


class DpmSolverMultistep(_GridFromPlan):
    """Multistep DPM-Solver (``data=False``, noise prediction) and DPM-Solver++ (``data=True``), orders 1-3,
    ``solver_type`` ``"dpmsolver"`` or ``"taylor"``."""

    def __init__(self, data: bool, order: int, solver_type: str = "dpmsolver"):
        if order not in (1, 2, 3):
            raise ConfigError(f"dpmsolver: order must be 1, 2 or 3, got {order}")
        self.data = data
        self.order = order
        self.taylor = solver_type == "taylor"
        self.history_type = "data" if data else "noise"
        self.history_capacity = order

    def step(self, step, x):
        yield from step.model_at_start(x)
        order = multistep_order(self.order, step.number, step.count, step.lower_order_final)
        h = step.history
        times = [h.get(k).t for k in range(order)]
        update = self.update(step.schedule, times, step.t, order)
        return update.apply([x, h.get(0).value, h.get(1).value if order > 1 else None,
                             h.get(2).value if order > 2 else None])

    def update(self, ns, times, t, order) -> Combo:
        """The update as a combination of ``[x, m0, m1, m2]`` (``times[k]`` = time of ``m_k``)."""
        data = self.data
        lambda_t = ns.lambda_(t)
        lambda0 = ns.lambda_(times[0])
        h = lambda_t - lambda0
        phi1 = math.expm1(-h) if data else math.expm1(h)
        cx = ns.sigma(t) / ns.sigma(times[0]) if data else math.exp(ns.log_alpha(t) - ns.log_alpha(times[0]))
        ct = ns.alpha(t) if data else ns.sigma(t)
        base = _X4.times(cx) - _M0.times(ct * phi1)
        if order == 1:
            return base
        lambda1 = ns.lambda_(times[1])
        r0 = (lambda0 - lambda1) / h
        d10 = (_M0 - _M1).times(1.0 / r0)
        if order == 2:
            if not self.taylor:
                return base - d10.times(0.5 * (ct * phi1))
            if data:
                return base + d10.times(ct * (phi1 / h + 1.0))
            return base - d10.times(ct * (phi1 / h - 1.0))
        lambda2 = ns.lambda_(times[2])
        r1 = (lambda1 - lambda2) / h
        d11 = (_M1 - _M2).times(1.0 / r1)
        d1 = d10 + (d10 - d11).times(r0 / (r0 + r1))
        d2 = (d10 - d11).times(1.0 / (r0 + r1))
        if data:
            phi2 = phi1 / h + 1.0
            phi3 = phi2 / h - 0.5
            return base + d1.times(ct * phi2) - d2.times(ct * phi3)
        phi2 = phi1 / h - 1.0
        phi3 = phi2 / h - 0.5
        return base - d1.times(ct * phi2) - d2.times(ct * phi3)


def singlestep_orders(steps: int, order: int) -> list[int]:
    """The official "DPM-Solver-fast" order plan of ``steps`` model calls."""
    if order == 3:
        k = steps // 3 + 1
        if k < 1:
            raise ConfigError("too few steps for a singlestep plan")
        orders = [3] * k
        if steps % 3 == 0:
            orders[k - 2] = 2
            orders[k - 1] = 1
        elif steps % 3 == 1:
            orders[k - 1] = 1
        else:
            orders[k - 1] = 2
    elif order == 2:
        orders = [2] * (steps // 2) if steps % 2 == 0 else [2] * (steps // 2) + [1]
    else:
        orders = [1] * steps
    if not orders or any(o < 1 for o in orders):
        raise ConfigError(f"singlestep order {order} cannot be planned for {steps} steps")
    return orders


_XS, _MS, _MS1, _MS2 = (Combo.basis(4, i) for i in range(4))


class DpmSolverSinglestep:
    """Singlestep DPM-Solver(++) with the "fast" order plan; ``steps`` counts model calls, the outer grid has one
    interval per planned order; inner ratios ``r1, r2`` are recomputed per interval with ``spacing``'s inner rule."""

    history_capacity = 0

    def __init__(self, data: bool, order: int, solver_type: str, spacing: Spacing, steps: int):
        if order not in (1, 2, 3):
            raise ConfigError(f"dpmsolver: order must be 1, 2 or 3, got {order}")
        self.data = data
        self.order = order
        self.taylor = solver_type == "taylor"
        self.history_type = "data" if data else "noise"
        self.spacing = spacing
        self.steps = steps
        self.orders = singlestep_orders(steps, order)
        self.r1s: list[float] = []
        self.r2s: list[float] = []

    def outer_grid(self, ns, t_start: float, t_end: float) -> list[float]:
        """The outer grid the Java solver builds from the spacing (the config's ``times`` must equal it)."""
        k = len(self.orders)
        if isinstance(self.spacing, LogSnr):
            return self.spacing.times(ns, t_start, t_end, k)
        full = self.spacing.times(ns, t_start, t_end, self.steps)
        outer = [full[0]]
        idx = 0
        for o in self.orders:
            idx += o
            outer.append(full[idx])
        return outer

    def grid(self, ns, plan):
        outer = list(plan.times)
        if len(outer) != len(self.orders) + 1:
            raise ConfigError(f"singlestep DPM-Solver with order {self.order} over {self.steps} model calls has "
                              f"{len(self.orders)} intervals, but the grid has {len(outer) - 1}")
        inner = self.spacing.inner()
        self.r1s, self.r2s = [], []
        for i, o in enumerate(self.orders):
            r1, r2 = 0.5, 2.0 / 3.0
            if o >= 2:
                ti = inner.times(ns, outer[i], outer[i + 1], o)
                l0 = ns.lambda_(ti[0])
                h = ns.lambda_(ti[o]) - l0
                r1 = (ns.lambda_(ti[1]) - l0) / h
                if o == 3:
                    r2 = (ns.lambda_(ti[2]) - l0) / h
            self.r1s.append(r1)
            self.r2s.append(r2)
        return outer

    def _coef(self, ns, u):
        return ns.alpha(u) if self.data else ns.sigma(u)

    def _transfer(self, ns, s, u, hu) -> Combo:
        if self.data:
            return _XS.times(ns.sigma(u) / ns.sigma(s)) - _MS.times(ns.alpha(u) * math.expm1(-hu))
        return _XS.times(math.exp(ns.log_alpha(u) - ns.log_alpha(s))) - _MS.times(ns.sigma(u) * math.expm1(hu))

    def step(self, step, x):
        i = step.index
        ms = yield from step.model_at_start(x)
        ns = step.schedule
        s, t = step.s, step.t
        order = self.orders[i]
        data = self.data
        lambda_s = ns.lambda_(s)
        h = ns.lambda_(t) - lambda_s
        if order == 1:
            return self._transfer(ns, s, t, h).apply([x, ms, None, None])
        r1 = self.r1s[i]
        s1 = ns.inverse_lambda(lambda_s + r1 * h)
        sg = 1.0 if data else -1.0
        phi1 = math.expm1(-sg * h)
        ct = self._coef(ns, t)
        if order == 2:
            xs1 = self._transfer(ns, s, s1, r1 * h).apply([x, ms, None, None])
            ms1 = yield from step.model(xs1, s1)
            diff = _MS1 - _MS
            if not self.taylor:
                xt = self._transfer(ns, s, t, h) - diff.times((0.5 / r1) * (ct * phi1))
            elif data:
                xt = self._transfer(ns, s, t, h) + diff.times((1.0 / r1) * (ct * (phi1 / h + 1.0)))
            else:
                xt = self._transfer(ns, s, t, h) - diff.times((1.0 / r1) * (ct * (phi1 / h - 1.0)))
            return xt.apply([x, ms, ms1, None])
        r2 = self.r2s[i]
        s2 = ns.inverse_lambda(lambda_s + r2 * h)
        phi22 = math.expm1(-r2 * h) / (r2 * h) + 1.0 if data else math.expm1(r2 * h) / (r2 * h) - 1.0
        phi2 = phi1 / h + 1.0 if data else phi1 / h - 1.0
        phi3 = phi2 / h - 0.5
        xs1 = self._transfer(ns, s, s1, r1 * h).apply([x, ms, None, None])
        ms1 = yield from step.model(xs1, s1)
        xs2c = self._transfer(ns, s, s2, r2 * h) + (_MS1 - _MS).times(sg * (r2 / r1) * (self._coef(ns, s2) * phi22))
        xs2 = xs2c.apply([x, ms, ms1, None])
        ms2 = yield from step.model(xs2, s2)
        if not self.taylor:
            xt = self._transfer(ns, s, t, h) + (_MS2 - _MS).times(sg * (1.0 / r2) * (ct * phi2))
        else:
            d10 = (_MS1 - _MS).times(1.0 / r1)
            d11 = (_MS2 - _MS).times(1.0 / r2)
            d1 = (d10.times(r2) - d11.times(r1)).div(r2 - r1)
            d2 = (d11 - d10).times(2.0).div(r2 - r1)
            xt = self._transfer(ns, s, t, h) + d1.times(sg * ct * phi2) - d2.times(ct * phi3)
        return xt.apply([x, ms, ms1, ms2])


def unipc_order(order: int, n: int, steps: int, lower_order_final: bool) -> int:
    """UniPC's order at 1-based step ``n``: warm-up, then lowered at the end for any number of steps."""
    if n < order:
        return n
    return min(order, steps + 1 - n) if lower_order_final else order


class UniPcCoefficients:
    """One UniPC step's coefficients: predictor and corrector rhos, B(h), h phi_1, h, r_k."""

    def __init__(self, lambdas, lambda_t, order, data, variant, predictor, corrector):
        lambda_s = lambdas[0]
        h = lambda_t - lambda_s
        rks = [0.0] * order
        for i in range(1, order):
            rks[i - 1] = (lambdas[i] - lambda_s) / h
        rks[order - 1] = 1.0
        hh = -h if data else h
        h_phi1 = math.expm1(hh)
        h_phi_k = h_phi1 / hh - 1.0
        factorial = 1.0
        bh = hh if variant == "bh1" else math.expm1(hh)
        r = [[0.0] * order for _ in range(order)]
        b = [0.0] * order
        for i in range(1, order + 1):
            for k in range(order):
                r[i - 1][k] = math.pow(rks[k], i - 1)
            b[i - 1] = h_phi_k * factorial / bh
            factorial *= (i + 1)
            h_phi_k = h_phi_k / hh - 1.0 / factorial
        self.rhos_p = None
        if predictor and order >= 2:
            if order == 2:
                self.rhos_p = [0.5]
            else:
                sub = np.array([row[:order - 1] for row in r[:order - 1]], dtype=np.float64)
                self.rhos_p = [float(v) for v in np.linalg.solve(sub, np.array(b[:order - 1]))]
        self.rhos_c = None
        if corrector:
            self.rhos_c = [0.5] if order == 1 else [float(v) for v in np.linalg.solve(np.array(r), np.array(b))]
        self.bh = bh
        self.h_phi1 = h_phi1
        self.h = h
        self.rks = rks


_U = 5  # basis: x, m_s, two older outputs, the corrector's output at t
_UX, _UMS, _UMT = Combo.basis(_U, 0), Combo.basis(_U, 1), Combo.basis(_U, 4)


class UniPc(_GridFromPlan):
    """UniPC multistep (predictor UniP-p, corrector UniC-p), orders 1-3, ``variant`` bh1/bh2; the corrector's model
    call at the predicted point is the next step's output at ``t``; no corrector at the final step."""

    def __init__(self, data: bool, variant: str, order: int):
        if order not in (1, 2, 3):
            raise ConfigError(f"unipc: order must be 1, 2 or 3, got {order}")
        if variant not in ("bh1", "bh2"):
            raise ConfigError(f"unipc: variant must be bh1 or bh2, got {variant}")
        self.data = data
        self.variant = variant
        self.order = order
        self.history_type = "data" if data else "noise"
        self.history_capacity = order

    def step(self, step, x):
        ns = step.schedule
        ms = yield from step.model_at_start(x)
        n, steps = step.number, step.count
        order = unipc_order(self.order, n, steps, step.lower_order_final)
        use_corrector = n < steps
        hist = step.history
        lambdas = [0.0] * order
        terms: list[Any] = [None] * _U
        terms[0] = x
        terms[1] = ms
        for i in range(order):
            lambdas[i] = ns.lambda_(hist.get(i).t)
            if i > 0:
                terms[1 + i] = hist.get(i).value
        s, t = step.s, step.t
        c = UniPcCoefficients(lambdas, ns.lambda_(t), order, self.data, self.variant, True, use_corrector)
        d1s = [(Combo.basis(_U, 1 + k) - _UMS).div(c.rks[k - 1]) for k in range(1, order)]
        if self.data:
            scale = ns.alpha(t)
            cx = ns.sigma(t) / ns.sigma(s)
        else:
            scale = ns.sigma(t)
            cx = math.exp(ns.log_alpha(t) - ns.log_alpha(s))
        x_minus = _UX.times(cx) - _UMS.times(scale * c.h_phi1)
        pred_res = Combo.zero(_U)
        for k in range(order - 1):
            pred_res = pred_res + d1s[k].times(c.rhos_p[k])
        x_pred = x_minus - pred_res.times(scale * c.bh) if order >= 2 else x_minus
        xp = x_pred.apply(terms)
        if not use_corrector:
            return xp
        mt = yield from step.model(xp, t)
        step.remember(t, mt)
        terms[4] = mt
        rc = c.rhos_c
        corr_res = (_UMT - _UMS).times(rc[order - 1])
        for k in range(order - 1):
            corr_res = corr_res + d1s[k].times(rc[k])
        return (x_minus - corr_res.times(scale * c.bh)).apply(terms)


class EdmEuler(_GridFromPlan):
    """Euler in EDM form on ``x/alpha`` against ``sigma/alpha`` (k-diffusion ``sample_euler``); equals DDIM on VP."""

    history_type = "data"
    history_capacity = 1

    def step(self, step, x):
        ns = step.schedule
        s, t = step.s, step.t
        d0 = yield from step.model_at_start(x)
        a_s, a_t = ns.alpha(s), ns.alpha(t)
        ss = ns.sigma(s) / a_s
        st = ns.sigma(t) / a_t
        ratio = st / ss
        return lin(a_t * ratio / a_s, x, a_t * (1.0 - ratio), d0)


_HX, _HD0, _HD1 = Combo.basis(3, 0), Combo.basis(3, 1), Combo.basis(3, 2)


class EdmHeun(_GridFromPlan):
    """Heun (EDM Algorithm 1, no churn) in EDM form; 2 NFE per step."""

    history_type = "data"
    history_capacity = 1

    def step(self, step, x):
        ns = step.schedule
        s, t = step.s, step.t
        d0 = yield from step.model_at_start(x)
        a_s, a_t = ns.alpha(s), ns.alpha(t)
        ss = ns.sigma(s) / a_s
        st = ns.sigma(t) / a_t
        dt = st - ss
        ds = _HX.times(1.0 / (a_s * ss)) - _HD0.times(1.0 / ss)
        xe = _HX.times(a_t / a_s) + ds.times(a_t * dt)
        if st == 0.0:
            return xe.apply([x, d0, None])
        d1 = yield from step.model(xe.apply([x, d0, None]), t)
        dtv = xe.times(1.0 / (a_t * st)) - _HD1.times(1.0 / st)
        xt = _HX.times(a_t / a_s) + (ds + dtv).times(a_t * dt * 0.5)
        return xt.apply([x, d0, d1])
