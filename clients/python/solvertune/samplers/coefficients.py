"""The tuned coefficient methods: DC-Solver, D-ODE and IIA / BIIA (the Java ``DcSolver``, ``DodeSolver`` and
``IiaSolver``, line for line). Neutral values (DC ratios 1, D-ODE lambdas 0, IIA coefficients 0) run the base solver
bit for bit.
"""

from __future__ import annotations

from typing import Any, Sequence

from ..errors import ConfigError
from ._combo import Combo, lin
from .baselines import DpmSolverMultistep, UniPc, UniPcCoefficients, multistep_order, unipc_order

# ---- DC-Solver ---------------------------------------------------------------------------------------------------

DC_ORDER = 2
DC_FREE_FROM = DC_ORDER


def dc_weights(ts: Sequence[float], ratio: float) -> list[float]:
    """Lagrange weights of the buffered outputs at ``ts`` (newest first) at ``t' = ts[0] ratio + ts[1] (1 - ratio)``."""
    tp = ts[0] * ratio + ts[1] * (1 - ratio)
    w = []
    for i in range(len(ts)):
        c = 1.0
        for j in range(len(ts)):
            if i != j:
                c *= (tp - ts[j]) / (ts[i] - ts[j])
        w.append(c)
    return w


class DcSolver:
    """DC-Solver's dynamic compensation (Zhao et al., ECCV 2024; official LDM ``DCSolver``) around UniPC or
    DPM-Solver++ multistep: before step ``i`` with ratio ``rho != 1`` the newest buffered output (at the step's start)
    is replaced by the Lagrange interpolation through the three newest outputs in continuous time at
    ``t' = t_0 rho + t_1 (1 - rho)``; the compensated value stays in the buffer."""

    def __init__(self, base: Any, ratios: Sequence[float]):
        if not isinstance(base, UniPc) and not (isinstance(base, DpmSolverMultistep) and base.data):
            raise ConfigError("dc: base must be unipc or dpmsolver++ multistep")
        self.base = base
        self.ratios = [float(r) for r in ratios]
        for i, r in enumerate(self.ratios):
            if i < DC_FREE_FROM and r != 1.0:
                raise ConfigError(f"dc: ratios[{i}] must be 1 (step {i + 1} has fewer than {DC_ORDER + 1} buffered "
                                  f"model outputs), got {r}")
        self.history_type = base.history_type
        self.history_capacity = max(base.history_capacity, DC_ORDER + 1)

    def grid(self, schedule, plan):
        if len(self.ratios) != plan.steps:
            raise ConfigError(f"dc: ratios has {len(self.ratios)} entries but the run has {plan.steps} steps")
        return self.base.grid(schedule, plan)

    def step(self, step, x):
        ratio = self.ratios[step.index]
        if ratio != 1.0:
            yield from step.model_at_start(x)
            h = step.history
            if len(h) < DC_ORDER + 1:
                raise ConfigError(f"dc: step {step.number} has {len(h)} buffered model outputs, compensation needs "
                                  f"{DC_ORDER + 1}; its ratio must be 1")
            ts = [h.get(k).t for k in range(DC_ORDER + 1)]
            ms = [h.get(k).value for k in range(DC_ORDER + 1)]
            w = dc_weights(ts, ratio)
            c = Combo.zero(DC_ORDER + 1)
            for k in range(DC_ORDER + 1):
                c = c + Combo.basis(DC_ORDER + 1, k).times(w[k])
            h.replace_newest(c.apply(ms))
        return (yield from self.base.step(step, x))


# ---- D-ODE -------------------------------------------------------------------------------------------------------


class DodeSolver:
    """D-ODE (Kim, Tang, Yu, CVPR 2024): the base step with the model output at its start ``o_i`` replaced by
    ``o_i + lambda_i (o_i - o_{i-1})``, added to the base update as ``lambda_i c_i (o_i - o_{i-1})`` with ``c_i`` the
    total coefficient of ``o_i`` in the base combination. The first step of a noise-prediction base uses
    ``o_{-1} = x``; a data-prediction base has no correction there. Bases: DDIM, DPM-Solver(++) multistep, UniPC."""

    def __init__(self, base: Any, lambdas: Sequence[float]):
        from .baselines import Ddim  # noqa: PLC0415

        if not isinstance(base, (Ddim, DpmSolverMultistep, UniPc)):
            raise ConfigError("dode: base must be ddim, dpmsolver multistep or unipc")
        self.base = base
        self.lambdas = [float(v) for v in lambdas]
        self.data = base.history_type == "data"
        if self.lambdas and self.lambdas[0] != 0.0 and self.data:
            raise ConfigError(f"dode: lambdas[0] must be 0 for a data-prediction base, got {self.lambdas[0]}")
        self.history_type = base.history_type
        self.history_capacity = max(2, base.history_capacity)

    def grid(self, schedule, plan):
        if len(self.lambdas) != plan.steps:
            raise ConfigError(f"dode: lambdas has {len(self.lambdas)} entries but the run has {plan.steps} steps")
        return self.base.grid(schedule, plan)

    def step(self, step, x):
        i = step.index
        lam = self.lambdas[i]
        if lam == 0.0:
            return (yield from self.base.step(step, x))
        o = yield from step.model_at_start(x)
        prev = self._previous(step, x)
        c = 0.0 if prev is None else self._start_coefficient(step)
        x_base = yield from self.base.step(step, x)
        if prev is None:
            return x_base
        diff = o - prev
        return lin(1.0, x_base, lam * c, diff)

    def _previous(self, step, x):
        if step.index == 0:
            return None if self.data else x
        h = step.history
        e = h.get(1) if len(h) > 1 else None
        if e is None or e.t != step.grid[step.index - 1]:
            raise ConfigError("dode: the history holds no model output at the previous grid time")
        return e.value

    def _start_coefficient(self, step) -> float:
        ns = step.schedule
        s, t = step.s, step.t
        h = step.history
        base = self.base
        if isinstance(base, DpmSolverMultistep):
            order = multistep_order(base.order, step.number, step.count, step.lower_order_final)
            times = [h.get(k).t for k in range(order)]
            return base.update(ns, times, t, order).c[1]
        if isinstance(base, UniPc):
            return _unipc_start_coefficient(base, ns, step, h)
        return ns.alpha(t) - ns.alpha(s) * (ns.sigma(t) / ns.sigma(s))


def _unipc_start_coefficient(u: UniPc, ns, step, h) -> float:
    n, steps = step.number, step.count
    order = unipc_order(u.order, n, steps, step.lower_order_final)
    corrector = n < steps
    lambdas = [ns.lambda_(h.get(k).t) for k in range(order)]
    t = step.t
    c = UniPcCoefficients(lambdas, ns.lambda_(t), order, u.data, u.variant, True, corrector)
    size = 4
    ms = Combo.basis(size, 0)
    d1s = [(Combo.basis(size, k) - ms).div(c.rks[k - 1]) for k in range(1, order)]
    scale = ns.alpha(t) if u.data else ns.sigma(t)
    x_minus = ms.times(-scale * c.h_phi1)
    if not corrector:
        if order < 2:
            return x_minus.c[0]
        pred_res = Combo.zero(size)
        for k in range(order - 1):
            pred_res = pred_res + d1s[k].times(c.rhos_p[k])
        return (x_minus - pred_res.times(scale * c.bh)).c[0]
    rc = c.rhos_c
    corr_res = (Combo.basis(size, 3) - ms).times(rc[order - 1])
    for k in range(order - 1):
        corr_res = corr_res + d1s[k].times(rc[k])
    return (x_minus - corr_res.times(scale * c.bh)).c[0]


# ---- IIA ---------------------------------------------------------------------------------------------------------

IIA_FORMS = {
    # form: (nfe per step, vectors per step, includes the current step)
    "iia_ddim": (1, 2, False),
    "iia_dpmsolver_2m": (1, 2, False),
    "iia_edm": (2, 2, True),
    "biia_edm": (2, 1, True),
}


def iia_columns(form: str, r: int, i: int) -> int:
    """Coefficients of step ``i`` (0-based) of ``form`` with ``r`` recent steps."""
    _, per, cur = IIA_FORMS[form]
    past = min(i, r)
    return per * (past + 1 if cur else past)


def iia_column_names(form: str, r: int) -> list[str]:
    _, _, cur = IIA_FORMS[form]
    names = []
    for k in range(0 if cur else 1, r + 1):
        if form in ("iia_ddim", "iia_dpmsolver_2m"):
            names += [f"dx0_{k}", f"deps_{k}"]
        elif form == "iia_edm":
            names += [f"first_{k}", f"second_{k}"]
        else:
            names.append(f"avg_{k}")
    return names


def _eps(ns, time, z: Combo, x0: Combo) -> Combo:
    return (z - x0.times(ns.alpha(time))).times(1.0 / ns.sigma(time))


class IiaSolver:
    """IIA (Zhang, Niwa, Kleijn, ICLR 2024): the base step plus fitted multiples of the solver's own gradient vectors,
    ``x_{i+1} = base(x_i) + sum_k c_{i,k} g_{i,k}`` (see the Java ``IiaSolver`` and ``docs/methods/iia.md``)."""

    history_type = "data"

    def __init__(self, form: str, r: int, coefficients: Sequence[Sequence[float]], times: Sequence[float] | None):
        if form not in IIA_FORMS:
            raise ConfigError(f"iia: unknown form '{form}' (expected {', '.join(IIA_FORMS)})")
        if not 0 <= r <= 8:
            raise ConfigError(f"iia: r must be in [0, 8], got {r}")
        self.form = form
        self.r = r
        self.coefficients = [[float(v) for v in row] for row in coefficients]
        for i, row in enumerate(self.coefficients):
            want = iia_columns(form, r, i)
            if len(row) != want:
                raise ConfigError(f"iia: coefficients[{i}] must have {want} entries "
                                  f"{iia_column_names(form, r)[:want]} for {form} with r = {r}, got {len(row)}")
        self.times = None if times is None else [float(t) for t in times]
        self.entries = 3 if IIA_FORMS[form][0] == 2 else 2
        self.past = max(r, 1 if form == "iia_dpmsolver_2m" else 0)
        self.dpm = DpmSolverMultistep(True, 2) if form == "iia_dpmsolver_2m" else None
        self.history_capacity = self.entries * (self.past + 1)

    def grid(self, schedule, plan):
        if len(self.coefficients) != plan.steps:
            raise ConfigError(f"iia: coefficients have {len(self.coefficients)} rows but the run has {plan.steps} "
                              "steps")
        if self.times is not None:
            if len(self.times) != plan.steps + 1:
                raise ConfigError(f"iia: times have {len(self.times)} entries but the run has {plan.steps} steps")
            return list(self.times)
        return list(plan.times)

    def step(self, step, x):
        if IIA_FORMS[self.form][0] == 2:
            basis, base, vectors = yield from self._edm_terms(step, x)
        else:
            basis, base, vectors = yield from self._exponential_terms(step, x)
        c = self.coefficients[step.index]
        if len(c) != len(vectors):
            raise ConfigError(f"iia: step has {len(vectors)} gradient vectors but {len(c)} coefficients")
        u = base
        for k, ck in enumerate(c):
            if ck != 0.0:
                u = u + vectors[k].times(ck)
        return u.apply(basis)

    def _exponential_terms(self, step, x):
        ns = step.schedule
        i, grid = step.index, step.grid
        s, t = step.s, step.t
        yield from step.model_at_start(x)
        step.remember(s, _copy(x))
        h = step.history
        avail = min(min(i, self.past), len(h) // self.entries - 1)
        size = 2 * (avail + 1)
        basis: list[Any] = [None] * size
        for k in range(avail + 1):
            basis[2 * k] = h.get(2 * k).value
            basis[2 * k + 1] = h.get(2 * k + 1).value
        z0, m0 = Combo.basis(size, 0), Combo.basis(size, 1)
        if self.form == "iia_ddim":
            ratio = ns.sigma(t) / ns.sigma(s)
            base = z0.times(ratio) + m0.times(ns.alpha(t) - ns.alpha(s) * ratio)
        else:
            order = multistep_order(2, step.number, step.count, step.lower_order_final)
            tm = [grid[i]] if order == 1 else [grid[i], grid[i - 1]]
            cc = self.dpm.update(ns, tm, t, order).c
            base = z0.times(cc[0]) + m0.times(cc[1])
            if order > 1:
                base = base + Combo.basis(size, 3).times(cc[2])
        n = min(i, self.r)
        vectors: list[Combo] = [None] * (2 * n)  # type: ignore[list-item]
        eps0 = _eps(ns, grid[i], z0, m0)
        for k in range(1, n + 1):
            zk, mk = Combo.basis(size, 2 * k), Combo.basis(size, 2 * k + 1)
            vectors[2 * (k - 1)] = (m0 - mk).times(ns.alpha(t))
            vectors[2 * (k - 1) + 1] = (eps0 - _eps(ns, grid[i - k], zk, mk)).times(ns.sigma(t))
        return basis, base, vectors

    def _edm_terms(self, step, x):
        ns = step.schedule
        i, grid = step.index, step.grid
        s, t = step.s, step.t
        d0 = yield from step.model_at_start(x)
        step.remember(s, _copy(x))
        h = step.history
        avail = min(min(i, self.past), (len(h) - 2) // self.entries)
        size = 3 * (avail + 1)
        basis: list[Any] = [None] * size
        basis[0] = h.get(0).value
        basis[1] = d0
        for k in range(1, avail + 1):
            basis[3 * k + 2] = h.get(3 * k - 1).value
            basis[3 * k] = h.get(3 * k).value
            basis[3 * k + 1] = h.get(3 * k + 1).value
        a_s, a_t = ns.alpha(s), ns.alpha(t)
        ss = ns.sigma(s) / a_s
        st = ns.sigma(t) / a_t
        if not st > 0:
            raise ConfigError(f"iia: the EDM forms need a positive noise level at every step end, got {st} at t = {t}")
        dt = st - ss
        xc, d0c, d1c = Combo.basis(size, 0), Combo.basis(size, 1), Combo.basis(size, 2)
        ds = xc.times(1.0 / (a_s * ss)) - d0c.times(1.0 / ss)
        xe = xc.times(a_t / a_s) + ds.times(a_t * dt)
        d1 = yield from step.model(xe.apply(basis), t)
        basis[2] = d1
        step.remember(s, d1)
        dtv = xe.times(1.0 / (a_t * st)) - d1c.times(1.0 / st)
        base = xc.times(a_t / a_s) + (ds + dtv).times(a_t * dt * 0.5)
        n = min(i, self.r)
        per = 2 if self.form == "iia_edm" else 1
        vectors: list[Combo] = [None] * (per * (n + 1))  # type: ignore[list-item]
        for k in range(n + 1):
            sj, tj = grid[i - k], grid[i - k + 1]
            a_sj = ns.alpha(sj)
            sig_sj = ns.sigma(sj) / a_sj
            sig_tj = ns.sigma(tj) / ns.alpha(tj)
            zk = Combo.basis(size, 3 * k).times(1.0 / a_sj)
            dk = Combo.basis(size, 3 * k + 1)
            dpk = Combo.basis(size, 3 * k + 2)
            if self.form == "iia_edm":
                vectors[2 * k] = (zk - dk).times(a_t)
                vectors[2 * k + 1] = (dpk - dk).times(a_t)
            else:
                dj = (zk - dk).times(1.0 / sig_sj)
                pred = zk + dj.times(sig_tj - sig_sj)
                dpj = (pred - dpk).times(1.0 / sig_tj)
                vectors[k] = (dj + dpj).times(0.5 * a_t)
        return basis, base, vectors


def _copy(x):
    from .. import _array  # noqa: PLC0415

    return _array.copy(x)
