"""The client against the real service, and every published config in every driver (``pytest -m service``).

Run by the Java test ``PythonServiceClientTest``, which starts the service (Quarkus, test database), registers the
model (the reference guided mixture), publishes configs of several methods, creates tokens and passes everything in
``SOLVERTUNE_TEST_*`` variables. The outputs of every driver on every config -- the published ones, the job's, the
README snippets' -- go to ``$SOLVERTUNE_TEST_OUT`` as VP states from the reference problem's ``x_T`` (class 0 at the
config's guidance); the Java test then runs its own sampler on the same documents and compares.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import sys
import types
import zipfile
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO, mixture_eps

torch = pytest.importorskip("torch", reason="torch is not installed (apt-get install python3-torch)")

import solvertune  # noqa: E402
from solvertune import (ApiError, AuthenticationError, Client, Config, ConfigError, NotFoundError,  # noqa: E402
                        PermissionDeniedError, SolvertuneScheduler)
from solvertune.kdiffusion import initial_sigma, sample_solvertune, solvertune_sigmas  # noqa: E402

pytestmark = [pytest.mark.service,
              pytest.mark.skipif("SOLVERTUNE_TEST_URL" not in os.environ,
                                 reason="needs the service: run by the Java test PythonServiceClientTest")]

ENV = os.environ
OUTPUTS: dict[str, np.ndarray] = {}


def client(role: str = "READER", **kw) -> Client:
    return Client(ENV["SOLVERTUNE_TEST_URL"], ENV[f"SOLVERTUNE_TEST_{role}_TOKEN"],
                  cache_dir=kw.pop("cache_dir", ENV["SOLVERTUNE_TEST_CACHE"]), **kw)


MODEL = ENV.get("SOLVERTUNE_TEST_MODEL", "")
CONFIGS = json.loads(ENV.get("SOLVERTUNE_TEST_CONFIGS", "{}"))


class Mixture:
    """The registered model (preset gmm-sd-d32 = the reference guided mixture) as a network and a denoiser."""

    def __init__(self):
        ref = np.load(ENV["SOLVERTUNE_TEST_REFERENCE"])
        self.w, self.mu, self.s = ref["w"], ref["mu"], ref["s"]
        self.x_T = ref["x_T"]
        self.b = self.x_T.shape[0]

    def eps(self, x, alpha, sigma, labels):
        return mixture_eps(x, alpha, sigma, self.w, self.mu, self.s, labels, torch if torch.is_tensor(x) else np)

    def network(self, schedule):
        """``(x, t_in[, labels])`` with the DDPM index N' t - 1."""

        def net(x, t_in, cond=None):
            t = (float(t_in.reshape(-1)[0]) + 1.0) / schedule.grid_size
            return self.eps(x, schedule.alpha(t), schedule.sigma(t), cond)

        return net

    def denoiser(self, x, sigma, cond=None, uncond=None, cond_scale=1.0):
        """k-diffusion form: ``x = x0 + sigma eps``, CFG inside (CFGDenoiser)."""
        s = float(sigma.reshape(-1)[0])
        d_c = x - s * self.eps(x, 1.0, s, cond)
        if uncond is None:
            return d_c
        d_u = x - s * self.eps(x, 1.0, s, uncond)
        return d_u + (d_c - d_u) * cond_scale


@pytest.fixture(scope="module")
def mixture():
    return Mixture()


@pytest.fixture(scope="module", autouse=True)
def write_outputs():
    yield
    if OUTPUTS:
        np.savez(ENV["SOLVERTUNE_TEST_OUT"], **OUTPUTS)


def labels(n, value):
    return np.full(n, value, dtype=np.int64)


# ---- the client -------------------------------------------------------------------------------------------------


def test_token_and_url_from_the_environment(monkeypatch):
    monkeypatch.setenv("SOLVERTUNE_URL", ENV["SOLVERTUNE_TEST_URL"])
    monkeypatch.setenv("SOLVERTUNE_TOKEN", ENV["SOLVERTUNE_TEST_READER_TOKEN"])
    me = Client(cache_dir=False).whoami()
    assert me["name"] == "py-reader" and me["role"].upper() == "READER"


def test_errors_carry_the_problem_details():
    anonymous = Client(ENV["SOLVERTUNE_TEST_URL"], token="", cache_dir=False)
    with pytest.raises(AuthenticationError) as e:
        anonymous.config(CONFIGS["dc"])
    assert e.value.status == 401 and e.value.problem["status"] == 401 and e.value.title
    with pytest.raises(AuthenticationError):
        Client(ENV["SOLVERTUNE_TEST_URL"], token="st_not-a-token", cache_dir=False).whoami()
    with pytest.raises(PermissionDeniedError) as e:
        client().submit({"model": MODEL})
    assert e.value.status == 403
    with pytest.raises(NotFoundError) as e:
        client().config(987654321)
    assert "987654321" in e.value.detail
    with pytest.raises(ApiError) as e:  # a spec the planner refuses: 400 naming the field
        client("SUBMITTER").submit({"model": MODEL, "methods": ["no-such-method"], "nfe": [5]})
    assert e.value.status == 400 and "methods" in str(e.value.problem)
    with pytest.raises(ConfigError, match="recommended"):
        client().config(f"{MODEL}:recommended")
    with pytest.raises(solvertune.SolvertuneError, match="cannot reach"):
        Client("http://127.0.0.1:9", token="x", cache_dir=False, timeout=5).whoami()


def test_models_and_configs():
    c = client()
    assert MODEL in [m["name"] for m in c.models()]
    model = c.model(MODEL)
    assert model["schedule"]["type"] == "vp_discrete" and model["predictionType"] == "noise"
    listed = {s["id"] for s in c.configs(model=MODEL)}
    assert set(CONFIGS.values()) <= listed
    assert {s["id"] for s in c.configs(model=MODEL, method="dc")} == {CONFIGS["dc"]}


def test_etag_cache_and_304(tmp_path):
    c = client(cache_dir=tmp_path)
    first = c.config(CONFIGS["dc"])
    assert c.last_response.status == 200 and not c.last_response.from_cache
    etag = c.last_response.headers["etag"]
    assert etag.strip('"') == hashlib.sha256(c.last_response.body).hexdigest()
    again = c.config(str(CONFIGS["dc"]))
    assert c.last_response.status == 304 and c.last_response.from_cache
    assert again.document == first.document
    body = c.download(CONFIGS["dc"], "dc-ratios")
    c.download(CONFIGS["dc"], "dc-ratios")
    assert c.last_response.status == 304 and c.last_response.body == body
    # a damaged cache entry is ignored, not trusted
    for f in tmp_path.glob("*.body"):
        f.write_bytes(b"{}")
    c.config(CONFIGS["dc"])
    assert c.last_response.status == 200


def test_aliases_and_recommended():
    c = client()
    latest = c.config(f"{MODEL}:latest?method=dc&nfe=6")
    assert latest.id == CONFIGS["dc"]
    with pytest.raises(NotFoundError):
        c.config(f"{MODEL}:stable?method=dc&nfe=6")
    client("ADMIN").promote(CONFIGS["dc"])
    assert c.config(f"{MODEL}:stable?method=dc&nfe=6").id == CONFIGS["dc"]
    best = c.config(f"{MODEL}:recommended?nfe=6&guidance=5")
    assert best.id == CONFIGS["dc"] and best.held_out_mse == 0.03
    assert c.recommended(MODEL, 6, 5.0).id == CONFIGS["dc"]
    with pytest.raises(ApiError) as e:  # several keys match: 400, the detail lists their configs
        c.config(f"{MODEL}:latest?nfe=6")
    assert e.value.status == 400


def test_exports(tmp_path):
    c = client()
    cfg = c.config(CONFIGS["dc"])
    doc = c.download(CONFIGS["dc"], "json")
    assert json.loads(doc) == cfg.document
    # a stock consumer would run plain UniPC on the DC grid: refused with the formats that work
    listing = {f["format"]: f for f in c.exports(CONFIGS["dc"])["formats"]}
    assert listing["json"]["supported"] and listing["dc-ratios"]["supported"]
    for refused in ("k-diffusion", "diffusers", "comfyui"):
        assert not listing[refused]["supported"] and "json" in listing[refused]["alternatives"]
        with pytest.raises(ApiError) as e:
            c.download(CONFIGS["dc"], refused)
        assert e.value.status == 409
        assert any(err["field"] == "alternatives" and "json" in err["message"] for err in e.value.problem["errors"])
    # the plain baseline runs in k-diffusion on exactly our sigmas, and diffusers gets a stock scheduler config
    base = c.config(CONFIGS["baseline"])
    kd = json.loads(c.download(CONFIGS["baseline"], "k-diffusion"))
    assert np.allclose(kd["sigmas"], solvertune_sigmas(base, terminal_zero=False), rtol=1e-12, atol=0)
    path = c.download(CONFIGS["baseline"], "diffusers", tmp_path)
    with zipfile.ZipFile(path) as z:
        sc = json.loads(z.read("scheduler/scheduler_config.json"))
        assert "call.json" in z.namelist()
    # the exported stock scheduler config carries the model's betas: the tuned scheduler accepts it
    scheduler = SolvertuneScheduler.from_config(sc, solvertune_config=cfg)
    assert scheduler.nfe == 6
    v3 = c.download(CONFIGS["dpmsolver-v3"], "dpmsolver-v3")
    assert zipfile.ZipFile(io.BytesIO(v3)).namelist()[:2] == ["l.npz", "sb.npz"]


@pytest.fixture(scope="module")
def job():
    c = client("SUBMITTER")
    spec = ENV["SOLVERTUNE_TEST_JOB_SPEC"]
    submitted = c.submit(spec, idempotency_key="python-client")
    assert c.submit(spec, idempotency_key="python-client")["id"] == submitted["id"]
    bar = io.StringIO()
    done = c.wait(submitted["id"], interval=0.5, timeout=600, file=bar)
    return done, bar.getvalue()


def test_submit_wait_result(job):
    done, bar = job
    assert done["state"] == "SUCCEEDED"
    assert f"job {done['id']} SUCCEEDED [" in bar and "stages" in bar and "100%" in bar
    c = client("SUBMITTER")
    ids = c.result(done["id"])["configIds"]
    assert ids and [cfg.id for cfg in c.published_configs(done["id"])] == ids


# ---- every config in every driver ----------------------------------------------------------------------------


def all_config_ids(job) -> list[int]:
    return sorted(set(CONFIGS.values()) | set(client("SUBMITTER").result(job[0]["id"])["configIds"]))


def run_everywhere(cfg: Config, mixture: Mixture) -> dict[str, np.ndarray]:
    ns = cfg.schedule()
    b = mixture.b
    cond, uncond = labels(b, 0), labels(b, -1)
    out = {}
    out["samplers"] = solvertune.sample(cfg, mixture.network(ns), mixture.x_T, condition=cond,
                                        unconditional_condition=uncond)
    # the diffusers calling convention
    from test_scheduler import pipeline_loop  # noqa: PLC0415

    scheduler = SolvertuneScheduler(cfg)

    def unet(sample, t, encoder_hidden_states=None, return_dict=True):
        return (mixture.network(ns)(sample, t.reshape(1), encoder_hidden_states),)

    latents, _ = pipeline_loop(scheduler, unet, torch.tensor(mixture.x_T), scheduler.guidance_scale,
                               torch.tensor(cond), torch.tensor(uncond), num_inference_steps=scheduler.nfe)
    out["scheduler"] = latents.numpy()
    # k-diffusion
    x = mixture.x_T * initial_sigma(cfg)
    k = sample_solvertune(mixture.denoiser, x, extra_args={"cond": cond, "uncond": uncond,
                                                           "cond_scale": cfg.guidance}, config=cfg, disable=True)
    out["kdiffusion"] = to_vp(cfg, k)
    return out


def to_vp(cfg: Config, k_state):
    denoised = (cfg.values.get("candidate") or cfg.values).get("denoiseToZero")
    k_state = k_state.numpy() if torch.is_tensor(k_state) else k_state
    return k_state if denoised else k_state * cfg.schedule().alpha(cfg.times[-1])


def test_every_published_config_in_every_driver(job, mixture):
    c = client()
    ids = all_config_ids(job)
    assert len(ids) >= len(CONFIGS) + 1
    for config_id in ids:
        cfg = c.config(config_id)
        for driver, value in run_everywhere(cfg, mixture).items():
            assert np.isfinite(value).all()
            OUTPUTS[f"{driver}__{config_id}"] = np.asarray(value, dtype=np.float64)


# ---- README "Use a tuned config" ----------------------------------------------------------------------------


def readme_block(title: str) -> str:
    text = (REPO / "README.md").read_text()
    at = text.index(f"**{title}**")
    start = text.index("```", at)
    body = text.index("\n", start) + 1
    return text[body:text.index("```", body)]


def test_readme_blocks_are_five_lines():
    for title in ("diffusers", "k-diffusion", "ComfyUI", "Java client"):
        lines = [ln for ln in readme_block(title).splitlines() if ln.strip()]
        assert len(lines) == 5, f"README '{title}': {lines}"


def readme_env(monkeypatch):
    monkeypatch.setenv("SOLVERTUNE_URL", ENV["SOLVERTUNE_TEST_URL"])
    monkeypatch.setenv("SOLVERTUNE_TOKEN", ENV["SOLVERTUNE_TEST_READER_TOKEN"])
    monkeypatch.setenv("SOLVERTUNE_CACHE", ENV["SOLVERTUNE_TEST_CACHE"])


def test_readme_diffusers(monkeypatch, mixture):
    """The diffusers snippet, with a stand-in ``diffusers`` whose pipeline runs the loop diffusers pipelines run."""
    readme_env(monkeypatch)
    from test_scheduler import pipeline_loop  # noqa: PLC0415

    class Images:
        def __init__(self, images):
            self.images = images

    class StableDiffusionPipeline:
        def __init__(self):
            self.scheduler = types.SimpleNamespace(config={
                "_class_name": "PNDMScheduler", "beta_start": 0.00085, "beta_end": 0.012,
                "beta_schedule": "scaled_linear", "num_train_timesteps": 1000, "prediction_type": "epsilon",
                "steps_offset": 1, "skip_prk_steps": True})

        @classmethod
        def from_pretrained(cls, name, **kwargs):
            return cls()

        def __call__(self, prompt, num_inference_steps=50, guidance_scale=7.5):
            ns = self.scheduler.plan.schedule
            net = mixture.network(ns)

            def unet(sample, t, encoder_hidden_states=None, return_dict=True):
                return (net(sample, t.reshape(1), encoder_hidden_states),)

            b = mixture.b
            latents, _ = pipeline_loop(self.scheduler, unet, torch.tensor(mixture.x_T), guidance_scale,
                                       torch.tensor(labels(b, 0)), torch.tensor(labels(b, -1)),
                                       num_inference_steps=num_inference_steps)
            return Images([latents])

    fake = types.ModuleType("diffusers")
    fake.StableDiffusionPipeline = StableDiffusionPipeline
    monkeypatch.setitem(sys.modules, "diffusers", fake)
    ns: dict = {}
    exec(readme_block("diffusers").replace("my-model", MODEL), ns)
    assert isinstance(ns["pipe"].scheduler, SolvertuneScheduler)
    OUTPUTS[f"readme-diffusers__{ns['pipe'].scheduler.solvertune_config.id}"] = ns["image"].numpy()


def test_readme_kdiffusion(monkeypatch, mixture):
    readme_env(monkeypatch)
    b = mixture.b
    ns = {"noise": mixture.x_T.copy(), "denoiser": mixture.denoiser, "cond": labels(b, 0), "uncond": labels(b, -1)}
    exec(readme_block("k-diffusion").replace("my-model", MODEL), ns)
    cfg = ns["config"]
    OUTPUTS[f"readme-kdiffusion__{cfg.id}"] = to_vp(cfg, ns["samples"])


def test_readme_comfyui(monkeypatch, mixture, tmp_path):
    """The ComfyUI lines: install the package, link the nodes into custom_nodes, the environment, and the graph
    (run through the ComfyUI stand-in)."""
    import comfy_standin  # noqa: PLC0415

    readme_env(monkeypatch)
    lines = [ln.strip() for ln in readme_block("ComfyUI").splitlines() if ln.strip()]
    pip = lines[0].split("#")[0].split()
    assert pip[:2] == ["pip", "install"], lines[0]
    from test_packaging import pip_install  # noqa: PLC0415

    target = pip_install(pip[2:], tmp_path)
    assert (target / "solvertune" / "samplers" / "dpmsolver_v3.py").is_file()
    link = lines[1].split("#")[0].split()
    assert link[:2] == ["ln", "-s"]
    custom_nodes = tmp_path / "ComfyUI" / "custom_nodes"
    custom_nodes.mkdir(parents=True)
    dest = link[3].replace("/path/to/ComfyUI/custom_nodes", str(custom_nodes))
    os.symlink(link[2].strip('"').replace("$PWD", str(REPO)), dest)
    assert lines[2].startswith("export SOLVERTUNE_URL=") and "SOLVERTUNE_TOKEN=" in lines[2]
    ref = re.search(r'config "([^"]+)"', "\n".join(lines[3:])).group(1).replace("my-model", MODEL)
    nodes = comfy_standin.load_custom_nodes(Path(dest), "readme_solvertune_nodes")
    cfg = nodes.nodes.load_config(ref)

    class Ref:  # the registered model in the stand-in's terms
        x_T = mixture.x_T
        class_label = 0

        @staticmethod
        def data_prediction_ve(x, s, lab=None):
            return mixture.denoiser(x, np.array([s]), lab)

    out, _, _ = comfy_standin.run_graph(nodes, ref, Ref, cfg.guidance)
    OUTPUTS[f"readme-comfyui__{cfg.id}"] = to_vp(cfg, out)


def test_readme_java_client(mixture):
    """The Java test ran the block's ``$J download`` line into this file: the Python sampler runs it."""
    cfg = Config.load(ENV["SOLVERTUNE_TEST_JAVA_DOWNLOAD"])
    model = client().model(cfg.document["model"]["id"])
    cfg.model_schedule = model["schedule"]
    ns = cfg.schedule()
    b = mixture.b
    OUTPUTS[f"readme-java-download__{cfg.id}"] = solvertune.sample(
        cfg, mixture.network(ns), mixture.x_T, condition=labels(b, 0), unconditional_condition=labels(b, -1))


