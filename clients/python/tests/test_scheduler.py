"""SolvertuneScheduler driven by a loop written the way diffusers pipelines call schedulers
(``StableDiffusionPipeline.__call__`` of diffusers 0.40.0.dev0: ``retrieve_timesteps`` -> ``set_timesteps``,
``latents * init_noise_sigma``, per timestep ``cat([latents] * 2)`` for guidance, ``scale_model_input``, the UNet,
``chunk(2)`` and ``uncond + w (text - uncond)``, ``step(..., return_dict=False)[0]``, the progress-bar rule with
``order``), reproduces the Java sampler on every fixture."""

from __future__ import annotations

import pytest

from conftest import NO_FIXTURES, RTOL, Reference, all_cases, case_ids, max_rel_error, method_of

torch = pytest.importorskip("torch", reason="torch is not installed (apt-get install python3-torch)")

from solvertune import ConfigError, SolvertuneScheduler  # noqa: E402
from solvertune.scheduler import SchedulerOutput  # noqa: E402

CASES = all_cases()
pytestmark = pytest.mark.skipif(not CASES, reason=NO_FIXTURES)


class MixtureUNet:
    """A UNet-shaped exact model: ``unet(sample, timestep, encoder_hidden_states=labels, return_dict=False)``; the
    "prompt embeddings" are class labels (-1 = the negative / unconditional prompt)."""

    def __init__(self, ref: Reference):
        self.ref = ref
        self.timesteps_seen = []

    def __call__(self, sample, timestep, encoder_hidden_states=None, return_dict=True):
        assert torch.is_tensor(timestep) and timestep.dim() == 0
        self.timesteps_seen.append(float(timestep))
        out = self.ref.network(sample, timestep.reshape(1), encoder_hidden_states)
        return (out,)


def pipeline_loop(scheduler, unet, noise, guidance_scale, prompt_embeds=None, negative_prompt_embeds=None,
                  num_inference_steps=None, device=None):
    """The denoising part of a diffusers text-to-image pipeline (see the module docstring)."""
    scheduler.set_timesteps(num_inference_steps, device=device)
    timesteps = scheduler.timesteps
    latents = noise * scheduler.init_noise_sigma
    do_cfg = guidance_scale > 1
    if do_cfg:
        prompt_embeds = torch.cat([negative_prompt_embeds, prompt_embeds])
    num_warmup_steps = len(timesteps) - num_inference_steps * scheduler.order
    updates = 0
    for i, t in enumerate(timesteps):
        latent_model_input = torch.cat([latents] * 2) if do_cfg else latents
        if hasattr(scheduler, "scale_model_input"):
            latent_model_input = scheduler.scale_model_input(latent_model_input, t)
        noise_pred = unet(latent_model_input, t, encoder_hidden_states=prompt_embeds, return_dict=False)[0]
        if do_cfg:
            noise_pred_uncond, noise_pred_text = noise_pred.chunk(2)
            noise_pred = noise_pred_uncond + guidance_scale * (noise_pred_text - noise_pred_uncond)
        latents = scheduler.step(noise_pred, t, latents, return_dict=False)[0]
        if i == len(timesteps) - 1 or ((i + 1) > num_warmup_steps and (i + 1) % scheduler.order == 0):
            updates += 1
    return latents, updates


def run_pipeline(ref: Reference, scheduler, dtype=torch.float64):
    unet = MixtureUNet(ref)
    noise = torch.tensor(ref.x_T, dtype=dtype)
    b = noise.shape[0]
    cond = uncond = None
    if ref.guidance != 1.0:
        cond = torch.full((b,), ref.class_label)
        uncond = torch.full((b,), -1)
    latents, updates = pipeline_loop(scheduler, unet, noise, scheduler.guidance_scale, cond, uncond,
                                     num_inference_steps=scheduler.nfe)
    return latents, updates, unet


@pytest.mark.parametrize("problem,case", CASES, ids=case_ids(CASES))
def test_pipeline_loop_reproduces_java(problem, case, agreement):
    ref = Reference.of(problem)
    doc = ref.document(case)
    scheduler = SolvertuneScheduler(doc)
    latents, updates, unet = run_pipeline(ref, scheduler)
    err = max_rel_error(latents.numpy(), ref.expected(case))
    key = ("scheduler", problem["problem"], method_of(doc))
    agreement[key] = max(agreement.get(key, 0.0), err)
    assert err <= RTOL, f"{case['name']}: max relative difference {err:.3e}"
    assert scheduler.nfe == case["nfe"] == len(unet.timesteps_seen) == updates
    assert latents.dtype == torch.float64


def _sd_case(name_part: str):
    for p, c in CASES:
        if p["discrete"] and p["guidance"] != 1.0 and name_part in c["name"]:
            return p, c
    pytest.skip(f"no guided discrete fixture with '{name_part}'")


def test_from_pipeline_scheduler_config_checks_betas_and_prediction():
    problem, case = _sd_case("dc-unipc-data-bh2-o3")
    ref = Reference.of(problem)
    doc = ref.document(case)
    sd = {"_class_name": "PNDMScheduler", "beta_start": 0.00085, "beta_end": 0.012, "beta_schedule": "scaled_linear",
          "num_train_timesteps": 1000, "prediction_type": "epsilon", "steps_offset": 1}
    scheduler = SolvertuneScheduler.from_config(sd, solvertune_config=doc)
    latents, _, unet = run_pipeline(ref, scheduler)
    assert max_rel_error(latents.numpy(), ref.expected(case)) <= RTOL
    # the network sees DDPM indexes N' t - 1 (floats), starting at 999
    assert unet.timesteps_seen[0] == pytest.approx(999.0, abs=1e-9)
    # the pipeline's config is kept: swapping back with OtherScheduler.from_config(pipe.scheduler.config) works
    assert scheduler.config.beta_schedule == "scaled_linear" and scheduler.config._class_name == "SolvertuneScheduler"
    with pytest.raises(AttributeError):
        scheduler.config.nfe = 3
    with pytest.raises(ConfigError, match="another model"):
        SolvertuneScheduler.from_config(dict(sd, beta_schedule="linear", beta_start=0.0001, beta_end=0.02),
                                        solvertune_config=doc)
    with pytest.raises(ConfigError, match="predicts"):
        SolvertuneScheduler.from_config(dict(sd, prediction_type="v_prediction"), solvertune_config=doc)


def test_refuses_what_a_tuned_config_cannot_do():
    problem, case = _sd_case("baseline-unipc")
    doc = Reference.of(problem).document(case)
    scheduler = SolvertuneScheduler(doc)
    with pytest.raises(ConfigError, match=f"num_inference_steps={scheduler.nfe}"):
        scheduler.set_timesteps(scheduler.nfe + 1)
    with pytest.raises(ConfigError, match="set_timesteps"):
        scheduler.step(torch.zeros(2, 2), 999, torch.zeros(2, 2))
    with pytest.raises(ConfigError, match="not supported"):
        scheduler.set_begin_index(2)
    with pytest.raises(ConfigError, match="own"):
        scheduler.set_timesteps(timesteps=[999, 500, 1])
    scheduler.set_timesteps(timesteps=scheduler._network_times)  # its own are fine
    ref = Reference.of(problem)
    latents, _, _ = run_pipeline(ref, scheduler)
    with pytest.raises(ConfigError, match="after the run"):
        scheduler.step(latents, scheduler.timesteps[-1], latents)
    scheduler.set_timesteps(scheduler.nfe)
    x = torch.tensor(ref.x_T)
    scheduler.step(torch.zeros_like(x), scheduler.timesteps[0], x)
    with pytest.raises(ConfigError, match="not the one the scheduler returned"):
        scheduler.step(torch.zeros_like(x), scheduler.timesteps[1], x + 1.0)


def test_return_dict_and_half_precision():
    problem, case = _sd_case("baseline-dpmsolverpp-multistep-o2")
    ref = Reference.of(problem)
    doc = ref.document(case)
    scheduler = SolvertuneScheduler(doc)
    scheduler.set_timesteps(scheduler.nfe)
    x = torch.tensor(ref.x_T, dtype=torch.float16)
    out = scheduler.step(torch.zeros_like(x), scheduler.timesteps[0], x)
    assert isinstance(out, SchedulerOutput) and out.prev_sample.dtype == torch.float16 and out[0] is out.prev_sample
    # float32 latents and model run in float32 and agree with the float64 run to float32 accuracy
    latents32, _, _ = run_pipeline(ref, SolvertuneScheduler(doc), dtype=torch.float32)
    assert latents32.dtype == torch.float32
    assert max_rel_error(latents32.numpy(), ref.expected(case)) < 1e-4
