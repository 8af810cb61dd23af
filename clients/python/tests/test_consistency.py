"""ConsistencySolver: neutral tables are DDIM bit for bit in the noise and data forms and the Euler step on the
velocity in the flow form; learned tables follow the reference code's update (G-U-N/consolver ``PPOScheduler``:
``eps_eff = sum_j c_j eps_{n-j}`` with weights summing to 1, then the first-order step), written here directly,
independently of the solver's combination form; and the Java outputs (fixtures PythonFixturesTest writes from the
Java ConsistencySolver) to 1e-9."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from conftest import NO_FIXTURES, RTOL, Reference, all_cases, case_ids, max_rel_error

import solvertune
from solvertune import Config, ConfigError
from solvertune.samplers.consistency import weights

CASES = all_cases()
pytestmark = pytest.mark.skipif(not CASES, reason=NO_FIXTURES)
DDIM = [(p, c) for p, c in CASES if c["name"].startswith("baseline-ddim-")]
JAVA = [(p, c) for p, c in CASES if c["name"].startswith("consistency-")]
PREFIX = {"noise": "eps", "data": "x0", "flow_velocity": "v"}
# the base solver that names each form in a published set (the Java Consistency.Form.base)
BASE = {"data": {"solver": "ddim"},
        "noise": {"solver": "dpmsolver", "prediction": "NOISE", "method": "MULTISTEP", "order": 1,
                  "solverType": "DPMSOLVER"},
        "flow_velocity": {"solver": "consistency", "form": "FLOW_VELOCITY", "order": 2}}


def table_rows(steps: int, order: int, scale: float) -> list[list[float]]:
    return [[scale * (0.3 - 0.2 * j + 0.05 * i) for j in range(min(i, order - 1))] for i in range(steps)]


def consistency_doc(ddim_doc: dict, form: str, order: int, rows, as_set: bool, legacy: bool = False) -> dict:
    """The DDIM fixture's document turned into a ConsistencySolver config on the same grid: a published set (columns
    ``a0 ..``, the form named by the base; ``legacy``: the older ``<eps|x0|v>_a<j>`` columns) or a solver spec."""
    doc = copy.deepcopy(ddim_doc)
    v = doc["values"]
    times = v["times"]
    if as_set:
        columns = [f"{PREFIX[form]}_a{j}" if legacy else f"a{j}" for j in range(order - 1)]
        doc["values"] = {"type": "coefficients", "coefficientSet": {
            "formatVersion": 1, "method": "CONSISTENCY", "base": {"solver": "ddim"} if legacy else BASE[form],
            "spacing": v["candidate"]["spacing"], "steps": v["steps"], "nfe": v["steps"], "times": times,
            "columns": columns, "values": rows}}
    else:
        v["candidate"]["solver"] = {"solver": "consistency", "form": form.upper(), "order": order,
                                    "coefficients": rows, "times": times}
    doc["method"] = "consistency"
    return doc


def run(ref: Reference, doc: dict):
    kwargs = {}
    if ref.guidance != 1.0:
        b = ref.x_T.shape[0]
        kwargs = dict(condition=np.full(b, ref.class_label), unconditional_condition=np.full(b, -1))
    return solvertune.sample(doc, ref.network, ref.x_T, **kwargs)


def guided_eps(ref: Reference, x, t):
    if ref.guidance == 1.0:
        return ref.eps(x, t)
    b = x.shape[0]
    e_u = ref.eps(x, t, np.full(b, -1))
    e_c = ref.eps(x, t, np.full(b, ref.class_label))
    return e_u + ref.guidance * (e_c - e_u)


def reference_run(ref: Reference, times, rows, form: str) -> np.ndarray:
    """The reference scheduler's loop, directly: keep the newest outputs, combine with the weights, DDIM step."""
    ns = ref.schedule
    x = ref.x_T
    outs: list[np.ndarray] = []  # newest first, in the form's output
    for i in range(len(times) - 1):
        s, t = times[i], times[i + 1]
        a_s, sg_s, a_t, sg_t = ns.alpha(s), ns.sigma(s), ns.alpha(t), ns.sigma(t)
        eps = guided_eps(ref, x, s)
        x0 = (x - sg_s * eps) / a_s
        u = {"noise": eps, "data": x0,
             "flow_velocity": ns.d_alpha_dt(s) * x0 + ns.d_sigma_dt(s) * eps}[form]
        outs.insert(0, u)
        c = weights(rows[i])
        u_eff = sum(cj * outs[j] for j, cj in enumerate(c))
        if form == "noise":  # PPOScheduler: x0 from eps_eff, then DDIM
            x = a_t * (x - sg_s * u_eff) / a_s + sg_t * u_eff
        elif form == "data":
            x = (sg_t / sg_s) * x + (a_t - a_s * sg_t / sg_s) * u_eff
        else:  # the reference's FLUX variant: Euler on the combined velocity
            x = x + (t - s) * u_eff
    return x


@pytest.mark.parametrize("problem,case", DDIM, ids=case_ids(DDIM))
def test_neutral_tables_are_their_base_bit_for_bit(problem, case):
    ref = Reference.of(problem)
    ddim_doc = ref.document(case)
    ddim = run(ref, ddim_doc)
    steps = ddim_doc["values"]["steps"]
    for form in ("noise", "data"):
        for as_set, legacy in ((False, False), (True, False), (True, True)):
            doc = consistency_doc(ddim_doc, form, 4, table_rows(steps, 4, 0.0), as_set, legacy)
            assert np.array_equal(run(ref, doc), ddim), (form, as_set, legacy)
    assert max_rel_error(ddim, ref.expected(case)) <= RTOL
    zero = table_rows(steps, 4, 0.0)
    flow = run(ref, consistency_doc(ddim_doc, "flow_velocity", 4, zero, True))
    euler = reference_run(ref, ddim_doc["values"]["times"], zero, "flow_velocity")
    assert max_rel_error(flow, euler) <= 1e-10  # the neutral flow form is Euler on the velocity
    assert np.array_equal(flow, run(ref, consistency_doc(ddim_doc, "flow_velocity", 4, zero, False)))


@pytest.mark.parametrize("form", ["noise", "data", "flow_velocity"])
@pytest.mark.parametrize("order", [2, 3, 4])
@pytest.mark.parametrize("problem,case", DDIM[:3], ids=case_ids(DDIM[:3]))
def test_learned_tables_follow_the_reference_update(problem, case, form, order):
    ref = Reference.of(problem)
    ddim_doc = ref.document(case)
    times = ddim_doc["values"]["times"]
    rows = table_rows(len(times) - 1, order, 1.0)
    ours = run(ref, consistency_doc(ddim_doc, form, order, rows, as_set=True))
    theirs = reference_run(ref, times, rows, form)
    assert max_rel_error(ours, theirs) <= 1e-10
    assert max_rel_error(ours, run(ref, consistency_doc(ddim_doc, form, order, rows, as_set=False))) == 0.0
    if form != "flow_velocity":  # the older columns name the noise and data forms themselves (their base: ddim)
        legacy = run(ref, consistency_doc(ddim_doc, form, order, rows, as_set=True, legacy=True))
        assert max_rel_error(ours, legacy) == 0.0
    assert max_rel_error(ours, ref.expected(case)) > 1e-6  # the table changes the result


def test_malformed_tables_are_refused():
    problem, case = DDIM[0]
    ddim_doc = Reference.of(problem).document(case)
    steps = ddim_doc["values"]["steps"]
    bad = consistency_doc(ddim_doc, "noise", 4, table_rows(steps, 4, 1.0), as_set=True)
    bad["values"]["coefficientSet"]["values"][2] = [0.1]
    with pytest.raises(ConfigError, match=r"values\[2\]"):
        Config(bad).plan()
    bad = consistency_doc(ddim_doc, "noise", 4, table_rows(steps, 4, 1.0), as_set=True)
    bad["values"]["coefficientSet"]["columns"] = ["eps_a0", "x0_a1", "eps_a2"]
    with pytest.raises(ConfigError, match="columns"):
        Config(bad).plan()
    bad = consistency_doc(ddim_doc, "noise", 4, table_rows(steps, 4, 1.0), as_set=True)
    bad["values"]["coefficientSet"]["base"] = {"solver": "unipc", "prediction": "DATA", "variant": "BH2", "order": 3}
    with pytest.raises(ConfigError, match="not the base of a form"):
        Config(bad).plan()


@pytest.mark.skipif(not JAVA, reason="no ConsistencySolver fixtures (PythonFixturesTest writes them)")
@pytest.mark.parametrize("problem,case", JAVA, ids=case_ids(JAVA))
def test_reproduces_java(problem, case, agreement):
    ref = Reference.of(problem)
    out = run(ref, ref.document(case))
    err = max_rel_error(out, ref.expected(case))
    key = ("samplers", problem["problem"], "consistency")
    agreement[key] = max(agreement.get(key, 0.0), err)
    assert err <= RTOL, f"{case['name']}: max relative difference {err:.3e}"
