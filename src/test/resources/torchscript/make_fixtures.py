#!/usr/bin/python3
"""Generates the tiny TorchScript fixtures read by io.solvertune.numerics.model.TorchScriptDenoiserTest.

Run with Debian's torch (the python3 on PATH may have none):  /usr/bin/python3 src/test/resources/torchscript/make_fixtures.py
Written with torch 1.13 (torch.jit.script + torch.jit.save); DJL's libtorch 2.7.1 loads them. Every module's output is a
simple formula the Java test recomputes exactly (all constants are powers of two or small integers):

  uncond_eps.pt      forward(x, t) -> 0.5 * x + t / 1024            (t broadcast over [B, ...]; any shape, f32 or f64)
  cond_eps.pt        forward(x, t, y) -> conv1x1(x) + t / 1024 + emb[y]
                       conv1x1: weight -1.5, bias 0.25 (1 channel, float32 only);  emb[k] = k + 1 for k = 0..10
                       (10 classes, null class 10, the convention of tuning-jobs/fmnist-unet)
  cond_optional.pt   forward(x, t, y: Optional[Tensor] = None) -> 0.5 * x + t / 1024 + (0 if y is None else emb[y]),
                       emb[k] = k + 1 for k = 0..10
  wrong_signature.pt forward(x) -> x
  scalar_time.pt     forward(x, t: float) -> x * t          (time declared as a Python float, not a Tensor)
  wrong_shape.pt     forward(x, t) -> x.flatten(1)          (output [B, D] instead of [B, ...])
  nan_output.pt      forward(x, t) -> x + sqrt(500 - t)     (finite for t <= 500, NaN above: index-valued times only)
  tuple_output.pt    forward(x, t) -> (x, t)                (not a single tensor)
  inplace.pt         forward(x, t) -> x.mul_(2)             (modifies its input)
  state_dict.pt      torch.save(state_dict) of cond_eps: a checkpoint, not TorchScript
  not_torchscript.pt a text file
"""
import os
import sys

# TorchScript serializes some constants in set order: fix Python's hash seed so the files are byte-reproducible.
if os.environ.get("PYTHONHASHSEED") != "0":
    os.execve(sys.executable, [sys.executable] + sys.argv, {**os.environ, "PYTHONHASHSEED": "0"})

from typing import Optional, Tuple

import torch
from torch import Tensor, nn

here = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(0)


def path(name):
    return os.path.join(here, name)


def save(module, name):
    module.eval()
    scripted = torch.jit.script(module)
    torch.jit.save(scripted, path(name))
    return scripted


class UncondEps(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Parameter(torch.tensor(0.5))
        self.b = nn.Parameter(torch.tensor(1.0 / 1024.0))

    def forward(self, x: Tensor, t: Tensor) -> Tensor:
        shape = [t.shape[0]] + [1] * (x.dim() - 1)
        return self.a * x + self.b * t.reshape(shape)


class CondEps(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 1, 1)
        with torch.no_grad():
            self.conv.weight.fill_(-1.5)
            self.conv.bias.fill_(0.25)
        self.emb = nn.Parameter(torch.arange(1, 12, dtype=torch.float32))
        self.b = 1.0 / 1024.0

    def forward(self, x: Tensor, t: Tensor, y: Tensor) -> Tensor:
        return self.conv(x) + (self.b * t + self.emb[y])[:, None, None, None]


class CondOptional(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Parameter(torch.arange(1, 12, dtype=torch.float32))

    def forward(self, x: Tensor, t: Tensor, y: Optional[Tensor] = None) -> Tensor:
        shift = t / 1024.0
        if y is not None:
            shift = shift + self.emb[y]
        return 0.5 * x + shift[:, None, None, None]


class WrongSignature(nn.Module):
    def forward(self, x: Tensor) -> Tensor:
        return x


class ScalarTime(nn.Module):
    def forward(self, x: Tensor, t: float) -> Tensor:
        return x * t


class WrongShape(nn.Module):
    def forward(self, x: Tensor, t: Tensor) -> Tensor:
        return x.flatten(1)


class NanOutput(nn.Module):
    def forward(self, x: Tensor, t: Tensor) -> Tensor:
        return x + torch.sqrt(500.0 - t)[:, None, None, None]


class TupleOutput(nn.Module):
    def forward(self, x: Tensor, t: Tensor) -> Tuple[Tensor, Tensor]:
        return x, t


class InPlace(nn.Module):
    def forward(self, x: Tensor, t: Tensor) -> Tensor:
        return x.mul_(2.0)


uncond = save(UncondEps(), "uncond_eps.pt")
cond = save(CondEps(), "cond_eps.pt")
cond_opt = save(CondOptional(), "cond_optional.pt")
save(WrongSignature(), "wrong_signature.pt")
save(ScalarTime(), "scalar_time.pt")
save(WrongShape(), "wrong_shape.pt")
save(NanOutput(), "nan_output.pt")
save(TupleOutput(), "tuple_output.pt")
save(InPlace(), "inplace.pt")
torch.save(CondEps().state_dict(), path("state_dict.pt"))
with open(path("not_torchscript.pt"), "w") as f:
    f.write("This is a text file, not a TorchScript module.\n")

# Self-check of the formulas the Java test uses.
x = torch.randn(2, 1, 28, 28)
t = torch.tensor([998.0, 3.0])
y = torch.tensor([2, 10])
assert torch.equal(uncond(x, t), 0.5 * x + (t / 1024.0)[:, None, None, None])
xd = x.double()
assert uncond(xd, t.double()).dtype == torch.float64
expected = -1.5 * x + 0.25 + (t / 1024.0 + (y + 1).float())[:, None, None, None]
assert torch.allclose(cond(x, t, y), expected, atol=1e-5)
assert torch.allclose(cond_opt(x, t, y), 0.5 * x + (t / 1024.0 + (y + 1).float())[:, None, None, None])
assert torch.allclose(cond_opt(x, t), 0.5 * x + (t / 1024.0)[:, None, None, None])
for name in sorted(os.listdir(here)):
    if name.endswith(".pt"):
        size = os.path.getsize(path(name))
        assert size < 100_000, name
        print(f"{name:22s} {size:6d} bytes")
print("torch", torch.__version__)
