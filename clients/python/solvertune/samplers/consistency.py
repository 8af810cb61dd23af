"""ConsistencySolver (Wang et al., arXiv 2512.13592; reference code G-U-N/consolver ``PPOScheduler``), as the Java
``ConsistencySolver`` with a published table.

Step ``i`` from ``s`` to ``t`` evaluates the model once at ``(x, s)``, combines the ``m = min(i + 1, order)`` newest
outputs ``u_n, u_{n-1}, ...`` with weights summing to 1 -- ``c_0 = 1 + a_0``, ``c_j = a_j`` (``0 < j < m - 1``),
``c_{m-1} = 1 - sum_{j < m-1} c_j`` from the step's learned values ``a`` -- and takes the DDIM step with the
combination. The noise and data forms take the DDIM step, written as DDIM on the newest output plus a correction,
``x_t = (sigma_t/sigma_s) x + (alpha_t - alpha_s sigma_t/sigma_s) x0_n + kappa sum_{j>=1} c_j (u_{n-j} - u_n)``, with
``u`` and ``kappa`` of the form: ``noise`` (the reference code; ``u = eps``, ``kappa = sigma_t - alpha_t
sigma_s/alpha_s``) or ``data`` (``u = x0``, ``kappa`` = DDIM's x0 coefficient); a step whose values are all zero (and
step 0) is exactly DDIM. The ``flow_velocity`` form (the reference's FLUX variant) takes the Euler step on the combined
velocity ``u = alpha' x0 + sigma' eps``: ``x_t = x + (t - s) (u_n + sum_{j>=1} c_j (u_{n-j} - u_n))``.

Its coefficient set (``method`` ``CONSISTENCY``, as the Java trainer publishes it) has columns ``a0 .. a{order-2}``
and names the form by its base solver: ``ddim`` (data), DPM-Solver-1 multistep in noise form (noise), or
``{"solver": "consistency", "form": "FLOW_VELOCITY"}`` (flow velocity); the older column names
``<eps|x0|v>_a0 ..`` name the form themselves. Row ``i`` holds ``min(i, order - 1)`` values.
"""

from __future__ import annotations

from typing import Any, Sequence

from .. import _array
from ..errors import ConfigError
from ._combo import Combo, lin

MAX_ORDER = 4
FORM_PREFIXES = {"eps": "noise", "x0": "data", "v": "flow_velocity"}


def weights(a: Sequence[float]) -> list[float]:
    """The weights ``c_0 .. c_{m-1}`` (summing to 1) of the ``m = len(a) + 1`` newest outputs."""
    m = len(a) + 1
    if m == 1:
        return [1.0]
    c = [0.0] * m
    c[0] = 1.0 + a[0]
    total = c[0]
    for j in range(1, m - 1):
        c[j] = a[j]
        total += c[j]
    c[m - 1] = 1.0 - total
    return c


def form_of_base(base: Any) -> str:
    """The form whose neutral solver is ``base`` (a solver spec mapping), as the Java ``Consistency.Form.ofBase``."""
    if not isinstance(base, dict):
        raise ConfigError("consistency: the coefficient set names no base solver")
    name = base.get("solver")
    if name == "ddim":
        return "data"
    if (name == "dpmsolver" and str(base.get("prediction", "")).upper() == "NOISE"
            and str(base.get("method", "")).upper() == "MULTISTEP" and base.get("order") == 1):
        return "noise"
    if name == "consistency" and base.get("coefficients") is None and base.get("form"):
        form = str(base.get("form")).lower()
        if form in FORM_PREFIXES.values():
            return form
    raise ConfigError(f"consistency: base {base} is not the base of a form (ddim, dpmsolver multistep order 1 in "
                      "noise form, or the neutral flow form)")


def form_of_table(columns: Sequence[str], base: Any) -> tuple[str, int]:
    """``(form, order)`` of a coefficient set: columns ``a0 ..`` with the form named by ``base``, or the older
    ``<prefix>_a0 ..`` columns that name it themselves."""
    if columns and columns[0] == "a0":
        want = [f"a{j}" for j in range(len(columns))]
        if list(columns) != want:
            raise ConfigError(f"consistency: columns must be {want}, got {list(columns)}")
        return form_of_base(base), len(columns) + 1
    return form_of_columns(columns)


def form_of_columns(columns: Sequence[str]) -> tuple[str, int]:
    """``(form, order)`` of a table whose columns are ``<prefix>_a0 .. <prefix>_a{order-2}``."""
    if not columns:
        raise ConfigError("consistency: columns are required")
    first = columns[0]
    cut = first.rfind("_a")
    prefix = first[:cut] if cut > 0 else ""
    if prefix not in FORM_PREFIXES:
        raise ConfigError(f"consistency: column '{first}' is not of the form <eps|x0|v>_a<j>")
    want = [f"{prefix}_a{j}" for j in range(len(columns))]
    if list(columns) != want:
        raise ConfigError(f"consistency: columns must be {want}, got {list(columns)}")
    return FORM_PREFIXES[prefix], len(columns) + 1


class ConsistencySolver:
    """See the module docstring. ``values[i]`` holds ``min(i, order - 1)`` learned values of step ``i``."""

    history_type = "data"

    def __init__(self, form: str, order: int, values: Sequence[Sequence[float]], times: Sequence[float] | None = None):
        if form not in ("noise", "data", "flow_velocity"):
            raise ConfigError(f"consistency: form must be noise, data or flow_velocity, got '{form}'")
        if not 1 <= order <= MAX_ORDER:
            raise ConfigError(f"consistency: order must be in [1, {MAX_ORDER}], got {order}")
        self.form = form
        self.order = order
        self.values = [[float(v) for v in row] for row in values]
        for i, row in enumerate(self.values):
            if len(row) != min(i, order - 1):
                raise ConfigError(f"consistency: values[{i}] must have {min(i, order - 1)} entries with order "
                                  f"{order}, got {len(row)}")
        self.times = None if times is None else [float(t) for t in times]
        self.per = 1 if form == "data" else 2
        self.history_capacity = self.per * order

    def grid(self, schedule, plan):
        if len(self.values) != plan.steps:
            raise ConfigError(f"consistency: the table has {len(self.values)} steps but the run has {plan.steps}")
        return list(self.times) if self.times is not None else list(plan.times)

    def step(self, step, x):
        ns = step.schedule
        i = step.index
        s, t = step.s, step.t
        x0 = yield from step.model_at_start(x)
        per = self.per
        if per == 2:
            step.remember(s, _array.copy(x))
        h = step.history
        m = min(min(i + 1, self.order), len(h) // per)
        ratio = ns.sigma(t) / ns.sigma(s)
        base_data = ns.alpha(t) - ns.alpha(s) * ratio
        k = m - 1
        row = self.values[i]
        flow = self.form == "flow_velocity"
        if not flow and (k == 0 or all(row[j] == 0.0 for j in range(k))):
            return lin(ratio, x, base_data, x0)
        size = 2 * m
        basis: list[Any] = [None] * size
        at = [0.0] * m
        for j in range(m):
            out = h.get(per * j + (per - 1))
            at[j] = out.t
            basis[2 * j + 1] = out.value
            basis[2 * j] = h.get(per * j).value if per == 2 else None
        basis[0] = x
        if self.form == "noise":
            kappa = ns.sigma(t) - ns.alpha(t) * ns.sigma(s) / ns.alpha(s)
        elif self.form == "data":
            kappa = base_data
        else:
            kappa = t - s
        u0 = self._output(ns, size, 0, at[0])
        if flow:
            base = Combo.basis(size, 0) + u0.times(t - s)
        else:
            base = Combo.basis(size, 0).times(ratio) + Combo.basis(size, 1).times(base_data)
        c = weights(row[:k]) if k > 0 else [1.0]
        u = base
        for j in range(1, m):
            if c[j] != 0.0:
                u = u + (self._output(ns, size, j, at[j]) - u0).times(kappa).times(c[j])
        return u.apply(basis)

    def _output(self, ns, size: int, j: int, time: float) -> Combo:
        z, x0 = Combo.basis(size, 2 * j), Combo.basis(size, 2 * j + 1)
        if self.form == "data":
            return x0
        eps = (z - x0.times(ns.alpha(time))).times(1.0 / ns.sigma(time))
        if self.form == "noise":
            return eps
        return x0.times(ns.d_alpha_dt(time)) + eps.times(ns.d_sigma_dt(time))
