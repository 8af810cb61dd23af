#!/usr/bin/env python3
"""Small Fashion-MNIST CNN classifier on [-1, 1] inputs, exported as TorchScript classifier.pt.

    /usr/bin/python3 train_classifier.py            # trains, reports test accuracy, writes classifier.pt + classifier.json
"""
import os

# Shared 2-core machine: spinning OpenMP threads are 10-25x slower when another process takes a core
# (measured: 7.5 s/step vs 0.56 s/step with PASSIVE). Must be set before torch (libgomp) is loaded.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse
import json
import random
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from common import load_fmnist, to_model_range  # noqa: E402


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 32, 3, padding=1)
        self.b1 = nn.BatchNorm2d(32)
        self.c2 = nn.Conv2d(32, 32, 3, padding=1)
        self.b2 = nn.BatchNorm2d(32)
        self.c3 = nn.Conv2d(32, 64, 3, padding=1)
        self.b3 = nn.BatchNorm2d(64)
        self.c4 = nn.Conv2d(64, 64, 3, padding=1)
        self.b4 = nn.BatchNorm2d(64)
        self.fc1 = nn.Linear(64 * 7 * 7, 128)
        self.drop = nn.Dropout(0.3)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.b1(self.c1(x)))
        x = F.max_pool2d(F.relu(self.b2(self.c2(x))), 2)  # 14x14
        x = F.relu(self.b3(self.c3(x)))
        x = F.max_pool2d(F.relu(self.b4(self.c4(x))), 2)  # 7x7
        x = self.drop(F.relu(self.fc1(x.flatten(1))))
        return self.fc2(x)


@torch.no_grad()
def accuracy(model, x, y, bs=500):
    model.eval()
    correct = 0
    for i in range(0, x.shape[0], bs):
        correct += (model(x[i:i + bs]).argmax(1) == y[i:i + bs]).sum().item()
    return correct / x.shape[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed + 1)

    xtr_u8, ytr = load_fmnist("train")
    xte, yte = load_fmnist("test")
    xtr, xte = to_model_range(xtr_u8), to_model_range(xte)
    model = Classifier()
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    steps_per_epoch = xtr.shape[0] // args.batch_size
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=args.epochs * steps_per_epoch)
    t0 = time.time()
    for ep in range(args.epochs):
        model.train()
        perm = torch.randperm(xtr.shape[0], generator=gen)
        tot = 0.0
        for i in range(steps_per_epoch):
            idx = perm[i * args.batch_size:(i + 1) * args.batch_size]
            xb = xtr[idx]
            # light augmentation: random shifts of up to 2 px (zero = -1 background padding)
            dx, dy = torch.randint(-2, 3, (2,), generator=gen).tolist()
            xb = torch.roll(F.pad(xb, (2, 2, 2, 2), value=-1.0), shifts=(dy, dx), dims=(2, 3))[:, :, 2:30, 2:30]
            loss = F.cross_entropy(model(xb), ytr[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            tot += loss.item()
        acc = accuracy(model, xte, yte)
        print(f"epoch {ep + 1}: train loss {tot / steps_per_epoch:.4f}  test acc {acc:.4f}  ({time.time() - t0:.0f}s)",
              flush=True)
    model.eval()
    acc = accuracy(model, xte, yte)
    # per-class test accuracy
    with torch.no_grad():
        pred = torch.cat([model(xte[i:i + 500]).argmax(1) for i in range(0, 10000, 500)])
    per_class = [((pred == c) & (yte == c)).sum().item() / (yte == c).sum().item() for c in range(10)]
    scripted = torch.jit.script(model)
    out = os.path.join(HERE, "classifier.pt")
    scripted.save(out)
    loaded = torch.jit.load(out)
    with torch.no_grad():
        assert torch.allclose(loaded(xte[:64]), model(xte[:64]), atol=1e-5)
        for b in (1, 64, 128):
            assert loaded(xte[:b]).shape == (b, 10)
    acc_loaded = accuracy(loaded, xte, yte)
    info = {"type": "torchscript", "file": "classifier.pt", "inputShape": [1, 28, 28], "inputRange": [-1, 1],
            "numClasses": 10, "output": "logits", "testAccuracy": acc_loaded,
            "perClassTestAccuracy": [round(a, 4) for a in per_class],
            "epochs": args.epochs, "batchSize": args.batch_size, "lr": args.lr, "seed": args.seed,
            "trainWallSeconds": round(time.time() - t0, 1),
            "params": sum(p.numel() for p in model.parameters())}
    json.dump(info, open(os.path.join(HERE, "classifier.json"), "w"), indent=2)
    print(json.dumps(info), flush=True)


if __name__ == "__main__":
    main()
