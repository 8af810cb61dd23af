#!/usr/bin/env python3
"""Resumable training of the Fashion-MNIST class-conditional UNet.

    /usr/bin/python3 train_unet.py --minutes 10      # continue from checkpoint.pt (if any), stop after 10 min

Hyper-parameters come from job.json. Training is defined by a fixed number of steps (training.total_steps), so
the result does not depend on how the run is chunked; all RNG states are in the checkpoint. The checkpoint is
written atomically (tmp + rename) every few minutes and at the end of each chunk. loss.csv and chunks.csv are
rewritten from the checkpoint's logs at every save.
"""
import os

# Shared 2-core machine: spinning OpenMP threads are 10-25x slower when another process takes a core
# (measured: 7.5 s/step vs 0.56 s/step with PASSIVE). Must be set before torch (libgomp) is loaded.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse
import copy
import json
import math
import random
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from common import alphas_cumprod, load_fmnist, to_model_range  # noqa: E402
from model import build_model  # noqa: E402


def total_steps_at(step: int, tc: dict) -> int:
    """The cosine horizon in force at `step`. training.total_steps_history ([{"from_step", "total_steps"}, ...])
    records changes of the planned length made during the run, so that the run stays reproducible."""
    total = tc["total_steps"]
    for h in tc.get("total_steps_history", []):
        if step >= h["from_step"]:
            total = h["total_steps"]
    return total


def lr_at(step: int, tc: dict) -> float:
    lr, warm, total = tc["lr"], tc["warmup_steps"], total_steps_at(step, tc)
    if step < warm:
        return lr * (step + 1) / warm
    p = min(1.0, (step - warm) / max(1, total - warm))
    return lr * (0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * p)))


def save_atomic(obj, path: str) -> None:
    tmp = path + ".tmp"
    torch.save(obj, tmp)
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)


def write_logs(state: dict, out_dir: str) -> None:
    tmp = os.path.join(out_dir, "loss.csv.tmp")
    with open(tmp, "w") as f:
        f.write("step,loss,elapsed_s\n")
        for s, l, e in state["loss_log"]:
            f.write(f"{s},{l:.6f},{e:.1f}\n")
    os.replace(tmp, os.path.join(out_dir, "loss.csv"))
    tmp = os.path.join(out_dir, "chunks.csv.tmp")
    with open(tmp, "w") as f:
        f.write("chunk,start_step,end_step,wall_s,cpu_s,steps_per_s,threads,omp_wait_policy,total_steps\n")
        for i, c in enumerate(state["chunks"]):
            f.write(f"{i + 1},{c['start_step']},{c['end_step']},{c['wall_s']:.1f},{c.get('cpu_s', float('nan')):.1f},"
                    f"{c['steps_per_s']:.3f},{c['threads']},{c.get('omp_wait_policy', '')},{c.get('total_steps', '')}\n")
    os.replace(tmp, os.path.join(out_dir, "chunks.csv"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, required=True, help="wall-time limit of this chunk")
    ap.add_argument("--config", default=os.path.join(HERE, "job.json"))
    ap.add_argument("--checkpoint", default=os.path.join(HERE, "checkpoint.pt"))
    ap.add_argument("--stop-at-step", type=int, default=None, help="(testing) stop this chunk at this step")
    args = ap.parse_args()
    t_start = time.time()
    cpu_start = time.process_time()

    job = json.load(open(args.config))
    tc, mc = job["training"], job["model"]
    torch.set_num_threads(tc["num_threads"])
    threads = torch.get_num_threads()
    print(f"torch {torch.__version__}, threads {threads}, OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}", flush=True)

    x_all, y_all = load_fmnist("train")
    N = x_all.shape[0]
    abar = alphas_cumprod(job["schedule"]["numTrainTimesteps"], job["schedule"]["betaStart"],
                          job["schedule"]["betaEnd"])
    sqrt_ab = abar.sqrt().float()
    sqrt_1mab = (1.0 - abar).sqrt().float()
    T = abar.shape[0]

    torch.manual_seed(tc["seed"])
    model = build_model(mc)
    ema = copy.deepcopy(model).eval()
    for p in ema.parameters():
        p.requires_grad_(False)
    opt = torch.optim.Adam(model.parameters(), lr=tc["lr"], betas=tuple(tc["betas"]),
                           weight_decay=tc["weight_decay"])
    gen = torch.Generator().manual_seed(tc["seed"] + 1)

    if os.path.exists(args.checkpoint):
        ck = torch.load(args.checkpoint)
        model.load_state_dict(ck["model"])
        ema.load_state_dict(ck["ema"])
        opt.load_state_dict(ck["opt"])
        gen.set_state(ck["gen_state"])
        torch.set_rng_state(ck["torch_rng"])
        np.random.set_state(ck["np_rng"])
        random.setstate(ck["py_rng"])
        state = ck["state"]
        print(f"resumed from step {state['step']} (train time so far {state['elapsed_s']:.0f}s)", flush=True)
    else:
        random.seed(tc["seed"])
        np.random.seed(tc["seed"])
        state = {"step": 0, "elapsed_s": 0.0, "loss_log": [], "chunks": [], "perm": None, "perm_pos": 0,
                 "config": job}
        print("fresh start", flush=True)

    nparam = sum(p.numel() for p in model.parameters())
    print(f"params {nparam} ({nparam / 1e6:.3f}M)", flush=True)
    B, total = tc["batch_size"], tc["total_steps"]
    start_step = state["step"]
    if start_step >= total:
        print("training already finished", flush=True)
        return

    def checkpoint(chunk_wall: float, final_chunk: bool):
        chunks = list(state["chunks"])
        steps_done = state["step"] - start_step
        chunks.append({"start_step": start_step, "end_step": state["step"], "wall_s": chunk_wall,
                       "steps_per_s": steps_done / max(chunk_wall, 1e-9), "threads": threads,
                       "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", ""),
                       "cpu_s": time.process_time() - cpu_start, "total_steps": total})
        st = dict(state)
        st["chunks"] = chunks
        save_atomic({"model": model.state_dict(), "ema": ema.state_dict(), "opt": opt.state_dict(),
                     "gen_state": gen.get_state(), "torch_rng": torch.get_rng_state(),
                     "np_rng": np.random.get_state(), "py_rng": random.getstate(), "state": st},
                    args.checkpoint)
        write_logs(st, os.path.dirname(os.path.abspath(args.checkpoint)))
        if final_chunk:
            state["chunks"] = chunks

    model.train()
    limit = args.minutes * 60.0
    last_save = time.time()
    run_loss, run_n = 0.0, 0
    loop_t0 = time.time()
    elapsed_before = state["elapsed_s"]
    step_time_ema = None
    while state["step"] < total:
        t_step = time.time()
        # next batch from an epoch permutation (generator-driven, resumable)
        if state["perm"] is None or state["perm_pos"] + B > N:
            state["perm"] = torch.randperm(N, generator=gen)
            state["perm_pos"] = 0
        idx = state["perm"][state["perm_pos"]:state["perm_pos"] + B]
        state["perm_pos"] += B
        x0 = to_model_range(x_all[idx])
        y = y_all[idx].clone()
        drop = torch.rand(B, generator=gen) < tc["p_uncond"]
        y[drop] = mc["num_classes"]
        n = torch.randint(0, T, (B,), generator=gen)
        eps = torch.randn(x0.shape, generator=gen)
        xn = sqrt_ab[n].view(B, 1, 1, 1) * x0 + sqrt_1mab[n].view(B, 1, 1, 1) * eps

        for g in opt.param_groups:
            g["lr"] = lr_at(state["step"], tc)
        pred = model(xn, n.float(), y)
        loss = torch.mean((pred - eps) ** 2)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), tc["grad_clip_norm"])
        opt.step()
        state["step"] += 1
        d = min(tc["ema_decay"], (1.0 + state["step"]) / (10.0 + state["step"]))
        with torch.no_grad():
            for pe, pm in zip(ema.parameters(), model.parameters()):
                pe.mul_(d).add_(pm.detach(), alpha=1.0 - d)
            for be, bm in zip(ema.buffers(), model.buffers()):
                be.copy_(bm)

        run_loss += loss.item()
        run_n += 1
        now = time.time()
        state["elapsed_s"] = elapsed_before + (now - loop_t0)
        dt = now - t_step
        step_time_ema = dt if step_time_ema is None else 0.9 * step_time_ema + 0.1 * dt
        if state["step"] % tc["log_every"] == 0 or state["step"] == total:
            state["loss_log"].append((state["step"], run_loss / run_n, state["elapsed_s"]))
            print(f"step {state['step']:6d}  loss {run_loss / run_n:.5f}  lr {lr_at(state['step'] - 1, tc):.2e}  "
                  f"{1.0 / step_time_ema:.2f} steps/s  train time {state['elapsed_s']:.0f}s", flush=True)
            run_loss, run_n = 0.0, 0
        # stop before the limit, leaving room for the final save (~1 s)
        if now - t_start + 2.0 * step_time_ema + 3.0 > limit:
            break
        if args.stop_at_step is not None and state["step"] >= args.stop_at_step:
            break
        if now - last_save > 60.0 * tc["save_every_minutes"]:
            checkpoint(time.time() - t_start, False)
            last_save = time.time()

    if run_n:
        state["loss_log"].append((state["step"], run_loss / run_n, state["elapsed_s"]))
    checkpoint(time.time() - t_start, True)
    wall = time.time() - t_start
    print(f"chunk done: steps {start_step} -> {state['step']} in {wall:.1f}s wall "
          f"({(state['step'] - start_step) / wall:.3f} steps/s incl. startup); "
          f"{'FINISHED' if state['step'] >= total else 'more chunks needed'}", flush=True)


if __name__ == "__main__":
    main()
