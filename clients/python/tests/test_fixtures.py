"""Every fixture config (every method on every reference problem) reproduces the Java sampler's output to 1e-9
relative in float64, through :func:`solvertune.sample` with the exact mixture written here in numpy."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import NO_FIXTURES, RTOL, Reference, all_cases, case_ids, max_rel_error, method_of

import solvertune
from solvertune.config import Config, evaluation_times

CASES = all_cases()
pytestmark = pytest.mark.skipif(not CASES, reason=NO_FIXTURES)


def run_case(ref: Reference, doc: dict, x_T):
    calls = []

    def network(x, t_in, cond=None):
        calls.append(float(t_in[0]))
        assert t_in.shape == (x.shape[0],)
        return ref.network(x, t_in, cond)

    if ref.guidance != 1.0:
        b = x_T.shape[0]
        cond = np.full(b, ref.class_label, dtype=np.int64)
        uncond = np.full(b, -1, dtype=np.int64)
        out = solvertune.sample(doc, network, x_T, condition=cond, unconditional_condition=uncond)
    else:
        out = solvertune.sample(doc, network, x_T)
    return out, calls


@pytest.mark.parametrize("problem,case", CASES, ids=case_ids(CASES))
def test_reproduces_java(problem, case, agreement):
    ref = Reference.of(problem)
    doc = ref.document(case)
    out, calls = run_case(ref, doc, ref.x_T)
    err = max_rel_error(out, ref.expected(case))
    key = ("samplers", problem["problem"], method_of(doc))
    agreement[key] = max(agreement.get(key, 0.0), err)
    assert err <= RTOL, f"{case['name']}: max relative difference {err:.3e}"
    assert len(calls) == case["nfe"] == doc["nfe"], "model evaluations"
    plan = Config(doc).plan()
    grid = plan.make_solver().grid(plan.schedule, plan)
    assert np.allclose(grid, case["grid"], rtol=1e-12, atol=0), "the outer grid is the Java sampler's"
    assert len(evaluation_times(plan, Config(doc)._dry_shape())) == case["nfe"]
    assert out.dtype == np.float64 and out.shape == ref.x_T.shape


def test_initial_state_is_not_modified():
    problem, case = CASES[0]
    ref = Reference.of(problem)
    x = ref.x_T.copy()
    run_case(ref, ref.document(case), x)
    assert np.array_equal(x, ref.x_T)


TORCH_CASES = CASES[::7]


@pytest.mark.parametrize("problem,case", TORCH_CASES, ids=case_ids(TORCH_CASES))
def test_torch_tensors_give_the_same_result(problem, case, agreement):
    torch = pytest.importorskip("torch", reason="torch is not installed (apt-get install python3-torch)")
    ref = Reference.of(problem)
    doc = ref.document(case)
    x = torch.tensor(ref.x_T, dtype=torch.float64)

    def network(x, t_in, cond=None):
        assert torch.is_tensor(x) and torch.is_tensor(t_in) and t_in.dtype == torch.float64
        return ref.network(x, t_in, cond)

    kwargs = {}
    if ref.guidance != 1.0:
        b = x.shape[0]
        kwargs = dict(condition=torch.full((b,), ref.class_label), unconditional_condition=torch.full((b,), -1))
    out = solvertune.sample(doc, network, x, **kwargs)
    assert torch.is_tensor(out) and out.dtype == torch.float64
    err = max_rel_error(out.numpy(), ref.expected(case))
    key = ("torch", problem["problem"], method_of(doc))
    agreement[key] = max(agreement.get(key, 0.0), err)
    assert err <= RTOL, f"{case['name']}: max relative difference {err:.3e}"
