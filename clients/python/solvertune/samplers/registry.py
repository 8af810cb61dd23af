"""Which Python solver runs which published solver: solver specs by name, coefficient sets by method.

Two tables, both open for extension:

* :data:`SOLVERS` maps a solver spec's ``"solver"`` name (the service's ``SolverSpec`` JSON, e.g.
  ``{"solver": "unipc", "prediction": "DATA", "variant": "BH2", "order": 3}``) to a builder;
* :data:`METHODS` maps a coefficient set's ``method`` (``IIA``, ``BIIA``, ``DODE``, ``DC``, ``CONSISTENCY``,
  ``TIMESTEPS``) to a builder that turns the set's table into a solver spec (``TIMESTEPS``: the base solver itself on
  the set's learned grid, which arrives as an explicit spacing).

A builder gets the spec (a mapping) and a :class:`GridInfo` (spacing, steps, times) and returns a zero-argument
factory of fresh per-run solvers. A new method (say a learned solver whose table is a coefficient set) slots in with
:func:`register_method`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from ..errors import ConfigError
from ..spacing import Spacing
from .baselines import Ddim, DpmSolverMultistep, DpmSolverSinglestep, EdmEuler, EdmHeun, UniPc
from .coefficients import DcSolver, DodeSolver, IiaSolver, iia_column_names
from .consistency import ConsistencySolver, form_of_table


@dataclass
class GridInfo:
    """What a builder may need besides the spec: the run's spacing, steps (model calls for singlestep) and grid."""

    spacing: Spacing
    steps: int
    times: list[float]


SolverFactory = Callable[[], Any]
Builder = Callable[[Mapping[str, Any], GridInfo], SolverFactory]

SOLVERS: dict[str, Builder] = {}
METHODS: dict[str, Callable[[Mapping[str, Any]], Mapping[str, Any]]] = {}


def register_solver(name: str, builder: Builder) -> None:
    """Registers a builder for solver specs named ``name``."""
    SOLVERS[name] = builder


def register_method(name: str, to_spec: Callable[[Mapping[str, Any]], Mapping[str, Any]]) -> None:
    """Registers how a coefficient set of ``method == name`` becomes a solver spec."""
    METHODS[name.upper()] = to_spec


def _enum(spec: Mapping[str, Any], key: str, allowed: Sequence[str], default: str | None = None) -> str:
    v = spec.get(key, default)
    if v is None:
        raise ConfigError(f"solver.{key}: required (one of {', '.join(allowed)})")
    v = str(v).lower()
    if v not in allowed:
        raise ConfigError(f"solver.{key}: expected one of {', '.join(allowed)}, got '{spec.get(key)}'")
    return v


def _prediction(spec: Mapping[str, Any]) -> bool:
    """True for data prediction."""
    return _enum(spec, "prediction", ("data", "noise")) == "data"


def _order(spec: Mapping[str, Any]) -> int:
    order = spec.get("order")
    if not isinstance(order, int) or order not in (1, 2, 3):
        raise ConfigError(f"solver.order: must be 1, 2 or 3, got {order!r}")
    return order


def build(spec: Mapping[str, Any], grid: GridInfo) -> SolverFactory:
    """A factory of per-run solvers for a solver spec."""
    if not isinstance(spec, Mapping):
        raise ConfigError(f"solver: expected a JSON object, got {spec!r}")
    name = spec.get("solver")
    if name not in SOLVERS:
        raise ConfigError(f"solver.solver: unknown solver '{name}' (known: {', '.join(sorted(SOLVERS))})")
    return SOLVERS[name](spec, grid)


def spec_of_set(coefficient_set: Mapping[str, Any]) -> Mapping[str, Any]:
    """The solver spec a coefficient set stands for (its method's registered conversion)."""
    method = str(coefficient_set.get("method", "")).upper()
    if method not in METHODS:
        raise ConfigError(f"values.coefficientSet.method: unknown method '{coefficient_set.get('method')}' (known: "
                          f"{', '.join(sorted(METHODS))})")
    return METHODS[method](coefficient_set)


# ---- the baselines ------------------------------------------------------------------------------------------------


def _ddim(spec, grid):
    return Ddim


def _dpmsolver(spec, grid):
    data = _prediction(spec)
    order = _order(spec)
    method = _enum(spec, "method", ("multistep", "singlestep"))
    solver_type = _enum(spec, "solverType", ("dpmsolver", "taylor"), "DPMSOLVER")
    if method == "multistep":
        return lambda: DpmSolverMultistep(data, order, solver_type)
    return lambda: DpmSolverSinglestep(data, order, solver_type, grid.spacing, grid.steps)


def _unipc(spec, grid):
    data = _prediction(spec)
    variant = _enum(spec, "variant", ("bh1", "bh2"))
    order = _order(spec)
    return lambda: UniPc(data, variant, order)


def _dc(spec, grid):
    base = build(spec.get("base"), grid)
    ratios = list(spec.get("ratios") or [])
    if not ratios:
        raise ConfigError("dc: ratios are required (one per step)")
    return lambda: DcSolver(base(), ratios)


def _dode(spec, grid):
    base = build(spec.get("base"), grid)
    lambdas = list(spec.get("lambdas") or [])
    if not lambdas:
        raise ConfigError("dode: lambdas are required (one per step)")
    return lambda: DodeSolver(base(), lambdas)


def _iia(spec, grid):
    form = str(spec.get("form", "")).lower()
    r = spec.get("r")
    if not isinstance(r, int):
        raise ConfigError(f"iia.r: expected an integer, got {r!r}")
    coefficients = spec.get("coefficients")
    if not coefficients:
        raise ConfigError("iia: coefficients are required (one row per step)")
    times = spec.get("times")
    return lambda: IiaSolver(form, r, coefficients, times)


def _consistency(spec, grid):
    table = spec.get("table", spec)
    form = str(table.get("form", "")).lower()
    order = table.get("order")
    values = table.get("values", table.get("coefficients"))
    if not isinstance(order, int) or values is None:
        raise ConfigError("consistency: the table needs form, order and values")
    return lambda: ConsistencySolver(form, order, values, table.get("times"))


register_solver("ddim", _ddim)
register_solver("dpmsolver", _dpmsolver)
register_solver("unipc", _unipc)
register_solver("euler", lambda spec, grid: EdmEuler)
register_solver("heun", lambda spec, grid: EdmHeun)
register_solver("dc", _dc)
register_solver("dode", _dode)
register_solver("iia", _iia)
register_solver("consistency", _consistency)


# ---- coefficient sets -----------------------------------------------------------------------------------------------


def _rows(cs: Mapping[str, Any]) -> list[list[float]]:
    rows = cs.get("values")
    if not isinstance(rows, list):
        raise ConfigError("values.coefficientSet.values: expected one row per step")
    return [[float(v) for v in row] for row in rows]


def _iia_form(cs: Mapping[str, Any]) -> str:
    if str(cs.get("method")).upper() == "BIIA":
        return "biia_edm"
    base = cs.get("base") or {}
    name = base.get("solver")
    if name == "ddim":
        return "iia_ddim"
    if name == "heun":
        return "iia_edm"
    if (name == "dpmsolver" and str(base.get("prediction")).upper() == "DATA"
            and str(base.get("method")).upper() == "MULTISTEP" and base.get("order") == 2
            and str(base.get("solverType", "DPMSOLVER")).upper() == "DPMSOLVER"):
        return "iia_dpmsolver_2m"
    raise ConfigError(f"iia: no IIA form has base solver {base}")


def _iia_set(cs):
    form = _iia_form(cs)
    columns = list(cs.get("columns") or [])
    for r in range(9):
        if iia_column_names(form, r) == columns:
            return {"solver": "iia", "form": form, "r": r, "coefficients": _rows(cs), "times": cs.get("times")}
    raise ConfigError(f"iia: columns {columns} do not belong to {form}")


def _dode_set(cs):
    rows = _rows(cs)
    lambdas = []
    for i, row in enumerate(rows):
        if len(row) != 1:
            raise ConfigError(f"dode: values[{i}] must hold one lambda, has {len(row)}")
        lambdas.append(row[0])
    return {"solver": "dode", "base": cs.get("base"), "lambdas": lambdas}


def _dc_set(cs):
    columns = list(cs.get("columns") or [])
    if "ratio" not in columns:
        raise ConfigError(f"dc: the coefficient set has no 'ratio' column {columns}")
    col = columns.index("ratio")
    return {"solver": "dc", "base": cs.get("base"), "ratios": [row[col] for row in _rows(cs)]}


def _consistency_set(cs):
    form, order = form_of_table(list(cs.get("columns") or []), cs.get("base"))
    return {"solver": "consistency", "table": {"form": form, "order": order, "values": _rows(cs),
                                               "times": cs.get("times")}}


register_method("IIA", _iia_set)
register_method("BIIA", _iia_set)
register_method("DODE", _dode_set)
register_method("DC", _dc_set)
register_method("CONSISTENCY", _consistency_set)


def _timesteps_set(cs):
    rows = _rows(cs)
    if any(rows):
        raise ConfigError("timesteps: a learned-timesteps set carries no per-step values (every row is empty)")
    base = cs.get("base")
    if not isinstance(base, Mapping):
        raise ConfigError("timesteps: the coefficient set has no base solver")
    return base


register_method("TIMESTEPS", _timesteps_set)
