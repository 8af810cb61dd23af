#!/usr/bin/env python3
"""Quality check of the exported UNet: 50-step deterministic DDIM (= first-order DPM-Solver), class-conditional
samples classified by classifier.pt.

    /usr/bin/python3 evaluate.py [--steps 50] [--per-class 100] [--scales 1,3]

Time grid: DPM-Solver's discrete-VP convention, as in solvertune's VpDiscreteSchedule: t_n = (n + 1) / 1000,
log alpha(t) piecewise linear in t between the 1000 grid points (no lambda clipping is active for this
linear schedule: lambda(999) = -5.06 > -5.1), time-uniform steps from t = 1 (n = 999) to t = 1e-3 (n = 0);
the network receives the (fractional) index n = 1000 t - 1. Each step is the exact DDIM / DPM-Solver-1 update
x_s = (alpha_s / alpha_t) x_t - sigma_s (exp(h) - 1) eps, h = lambda_s - lambda_t (eta = 0). Classifier-free
guidance: eps = eps(null) + w (eps(y) - eps(null)); w = 1 is the plain conditional model (one evaluation).
Initial noise: torch.Generator seeded with --seed, one [per_class * 10, 1, 28, 28] draw, class-major order;
the same noise is used for every guidance scale. Writes eval.json, samples_grid.png (and samples_grid_w3.png).
"""
import os

# Shared 2-core machine: spinning OpenMP threads are 10-25x slower when another process takes a core
# (measured: 7.5 s/step vs 0.56 s/step with PASSIVE). Must be set before torch (libgomp) is loaded.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse
import json
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from common import CLASS_NAMES, alphas_cumprod, write_png_gray  # noqa: E402


class DiscreteVP:
    def __init__(self):
        ab = alphas_cumprod(1000, 1e-4, 0.02)  # float64
        self.log_alpha = 0.5 * torch.log(ab)
        self.N = ab.shape[0]
        self.t_grid = (torch.arange(self.N, dtype=torch.float64) + 1.0) / self.N

    def marginal_log_alpha(self, t: float) -> float:
        pos = t * self.N - 1.0  # fractional index
        k = min(max(int(np.floor(pos)), 0), self.N - 2)
        w = pos - k
        return float((1 - w) * self.log_alpha[k] + w * self.log_alpha[k + 1])

    def alpha_sigma_lambda(self, t: float):
        la = self.marginal_log_alpha(t)
        alpha = np.exp(la)
        sigma = np.sqrt(-np.expm1(2.0 * la))
        return alpha, sigma, la - np.log(sigma)


@torch.no_grad()
def ddim_sample(model, x_T, y, steps: int, scale: float, batch: int = 250):
    sch = DiscreteVP()
    ts = np.linspace(1.0, 1.0 / sch.N, steps + 1)
    out = []
    null = torch.full_like(y, 10)
    for i0 in range(0, x_T.shape[0], batch):
        x = x_T[i0:i0 + batch].clone()
        yb = y[i0:i0 + batch]
        nb = null[i0:i0 + batch]
        for i in range(steps):
            t, s = ts[i], ts[i + 1]
            a_t, sg_t, l_t = sch.alpha_sigma_lambda(t)
            a_s, sg_s, l_s = sch.alpha_sigma_lambda(s)
            n_in = torch.full((x.shape[0],), t * sch.N - 1.0, dtype=torch.float32)
            if scale == 1.0:
                eps = model(x, n_in, yb)
            else:
                e = model(torch.cat([x, x]), torch.cat([n_in, n_in]), torch.cat([yb, nb]))
                e_c, e_u = e.chunk(2)
                eps = e_u + scale * (e_c - e_u)
            h = l_s - l_t
            x = (a_s / a_t) * x - (sg_s * np.expm1(h)) * eps
        out.append(x)
    return torch.cat(out)


def grid_image(x: torch.Tensor, rows: int, cols: int, pad: int = 2) -> np.ndarray:
    img = ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).numpy()[:, 0]
    H = rows * 28 + (rows + 1) * pad
    W = cols * 28 + (cols + 1) * pad
    canvas = np.full((H, W), 255, dtype=np.uint8)
    for r in range(rows):
        for c in range(cols):
            k = r * cols + c
            canvas[pad + r * (28 + pad):pad + r * (28 + pad) + 28, pad + c * (28 + pad):pad + c * (28 + pad) + 28] = img[k]
    return canvas


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--unet", default=os.path.join(HERE, "unet.pt"))
    ap.add_argument("--classifier", default=os.path.join(HERE, "classifier.pt"))
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--per-class", type=int, default=100)
    ap.add_argument("--scales", default="1,3")
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--grid-cols", type=int, default=10)
    ap.add_argument("--out", default=os.path.join(HERE, "eval.json"))
    args = ap.parse_args()
    torch.set_num_threads(2)
    unet = torch.jit.load(args.unet).eval()
    clf = torch.jit.load(args.classifier).eval()
    P = args.per_class
    y = torch.arange(10).repeat_interleave(P)
    x_T = torch.randn(10 * P, 1, 28, 28, generator=torch.Generator().manual_seed(args.seed))
    results = {"steps": args.steps, "solver": "DDIM (eta=0) = DPM-Solver-1, time_uniform, t: 1 -> 1e-3",
               "perClass": P, "noiseSeed": args.seed, "scales": {}}
    for scale in [float(s) for s in args.scales.split(",")]:
        t0 = time.time()
        x0 = ddim_sample(unet, x_T, y, args.steps, scale)
        wall = time.time() - t0
        with torch.no_grad():
            pred = torch.cat([clf(x0[i:i + 500].clamp(-1, 1)).argmax(1) for i in range(0, x0.shape[0], 500)])
        agree = (pred == y).float().mean().item()
        per_class = [(pred[y == c] == c).float().mean().item() for c in range(10)]
        conf = torch.zeros(10, 10, dtype=torch.long)
        for a, b in zip(y.tolist(), pred.tolist()):
            conf[a, b] += 1
        key = f"{scale:g}"
        results["scales"][key] = {"classAgreement": agree, "perClass": [round(v, 3) for v in per_class],
                                  "confusion_rows_true_cols_pred": conf.tolist(), "wallSeconds": round(wall, 1),
                                  "outOfRangeFraction": (x0.abs() > 1).float().mean().item()}
        print(f"guidance {key}: class agreement {agree:.4f}  ({wall:.0f}s for {x0.shape[0]} samples)", flush=True)
        for c in range(10):
            print(f"   {c} {CLASS_NAMES[c]:12s} {per_class[c]:.2f}", flush=True)
        cols = min(args.grid_cols, P)
        sel = torch.cat([x0[c * P:c * P + cols] for c in range(10)])
        name = "samples_grid.png" if scale == 1.0 else f"samples_grid_w{key}.png"
        write_png_gray(os.path.join(HERE, name), grid_image(sel, 10, cols))
        results["scales"][key]["grid"] = name
    with open(args.out, "w") as f:
        json.dump(results, f, indent=2)
        f.write("\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
