"""The ComfyUI nodes (clients/comfyui), loaded as ComfyUI loads a custom-node folder and run through a stand-in of
ComfyUI's KSAMPLER / CFGGuider (``comfy_standin``), give exactly (1e-9) what ``sample_solvertune`` -- checked against
the Java sampler on every fixture in test_kdiffusion -- gives from the same initial state. ComfyUI scales the noise
with the float32 SIGMAS, a 6e-8 rounding of the initial state that these mixtures' flows amplify up to ~1e-4 at the
end, so against the Java output (started from unrounded noise) the graph agrees to 1e-3."""

from __future__ import annotations

import pytest

from conftest import NO_FIXTURES, REPO, RTOL, Reference, all_cases, case_ids, max_rel_error

torch = pytest.importorskip("torch", reason="torch is not installed (apt-get install python3-torch)")

import comfy_standin  # noqa: E402

from solvertune import Config, ConfigError  # noqa: E402

CASES = all_cases()
pytestmark = pytest.mark.skipif(not CASES, reason=NO_FIXTURES)
FLOAT32_RTOL = 1e-3


@pytest.fixture(scope="module")
def nodes():
    return comfy_standin.load_custom_nodes(REPO / "clients" / "comfyui")


def test_node_interface(nodes):
    assert set(nodes.NODE_CLASS_MAPPINGS) == {"SolvertuneSampler", "SolvertuneSigmas"}
    for cls in nodes.NODE_CLASS_MAPPINGS.values():
        assert cls.INPUT_TYPES()["required"]["config"][0] == "STRING"
        assert callable(getattr(cls(), cls.FUNCTION))
    assert nodes.NODE_CLASS_MAPPINGS["SolvertuneSampler"].RETURN_TYPES == ("SAMPLER",)
    assert nodes.NODE_CLASS_MAPPINGS["SolvertuneSigmas"].RETURN_TYPES == ("SIGMAS",)


@pytest.mark.parametrize("problem,case", CASES[::3], ids=case_ids(CASES[::3]))
def test_graph_reproduces_java(problem, case, nodes, monkeypatch, agreement):
    ref = Reference.of(problem)
    doc = ref.document(case)
    cfg = Config(doc)
    node_module = __import__("solvertune_nodes.nodes", fromlist=["load_config"])
    monkeypatch.setattr(node_module, "load_config", lambda config, server="": cfg)
    out, sigmas, calls = comfy_standin.run_graph(nodes, "fixture", ref, cfg.guidance)
    # the same run without ComfyUI: the k-diffusion function from the state ComfyUI scaled
    x = comfy_standin.ModelSamplingEps(float(sigmas[0])).noise_scaling(sigmas[0], torch.tensor(ref.x_T), 0.0, True)
    direct = comfy_standin.direct_run(ref, cfg, x, sigmas)
    assert max_rel_error(out.numpy(), direct.numpy()) <= RTOL
    ns = cfg.schedule()
    denoised = (cfg.values.get("candidate") or cfg.values).get("denoiseToZero")
    vp = out.numpy() if denoised else out.numpy() * ns.alpha(cfg.times[-1])
    err = max_rel_error(vp, ref.expected(case))
    key = ("comfyui", problem["problem"], doc["method"])
    agreement[key] = max(agreement.get(key, 0.0), err)
    assert err <= FLOAT32_RTOL, f"{case['name']}: max relative difference {err:.3e}"
    assert len(sigmas) == len(cfg.times) + 1
    assert [c[0] for c in calls] == list(range(len(cfg.times)))  # one per step and the terminal 0: the bar completes
    assert all(c[3] == len(sigmas) - 1 for c in calls)


def test_other_sigmas_are_refused(nodes, monkeypatch):
    problem, case = CASES[0]
    ref = Reference.of(problem)
    cfg = Config(ref.document(case))
    node_module = __import__("solvertune_nodes.nodes", fromlist=["load_config"])
    monkeypatch.setattr(node_module, "load_config", lambda config, server="": cfg)
    sampler = nodes.NODE_CLASS_MAPPINGS["SolvertuneSampler"]().get_sampler("fixture")[0]
    sigmas = torch.linspace(14.6, 0.03, len(cfg.times)).tolist() + [0.0]
    guider = comfy_standin.CfgGuider(lambda x, s, lab: x, 1.0, None, None, comfy_standin.ModelSamplingEps(14.6))
    with pytest.raises(ConfigError, match="grid"):
        sampler.sample(guider, torch.tensor(sigmas), {}, None, torch.tensor(ref.x_T), torch.zeros(ref.x_T.shape))


def test_empty_config_input_is_refused(nodes):
    with pytest.raises(ValueError, match="empty"):
        nodes.NODE_CLASS_MAPPINGS["SolvertuneSigmas"]().get_sigmas("  ")
