"""Shared test helpers: the package on sys.path, the Java-written fixtures, the exact Gaussian-mixture model.

The fixtures are written by the Java build (``PythonFixturesTest``) into ``target/python-fixtures`` (or
``$SOLVERTUNE_FIXTURES``): per reference problem an ``index.json``, one config document per case and the Java
sampler's outputs in ``outputs.npz``. Nothing numeric is committed.
"""

from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
PACKAGE_ROOT = HERE.parent
REPO = PACKAGE_ROOT.parent.parent
sys.path.insert(0, str(PACKAGE_ROOT))

RTOL = 1e-9


def pytest_configure(config):
    config.addinivalue_line("markers", "service: needs the real service (SOLVERTUNE_TEST_URL, started by the Java "
                                       "test PythonServiceClientTest)")


def fixtures_dir() -> Path:
    return Path(os.environ.get("SOLVERTUNE_FIXTURES", REPO / "target" / "python-fixtures"))


def load_problems() -> list[dict]:
    """Every problem's index (with ``dir``), or [] when the Java build has not written fixtures."""
    root = fixtures_dir()
    out = []
    if root.is_dir():
        for index in sorted(root.glob("*/index.json")):
            meta = json.loads(index.read_text())
            meta["dir"] = index.parent
            out.append(meta)
    return out


PROBLEMS = load_problems()
NO_FIXTURES = ("no fixtures in " + str(fixtures_dir()) + ": they are written by the Java build "
               "(mvn -B -q test -Dtest=PythonFixturesTest)")


def all_cases() -> list[tuple[dict, dict]]:
    return [(p, c) for p in PROBLEMS for c in p["cases"]]


def case_ids(cases) -> list[str]:
    return [f"{p['problem']}/{c['name']}" for p, c in cases]


class Reference:
    """One problem's mixture, initial noise, Java outputs and schedule."""

    _cache: dict = {}

    def __init__(self, problem: dict):
        from solvertune.schedules import from_spec

        ref = np.load(problem["reference"])
        self.w = ref["w"].astype(np.float64)
        self.mu = ref["mu"].astype(np.float64)
        self.s = ref["s"].astype(np.float64)
        self.x_T = ref["x_T"].astype(np.float64)
        self.outputs = np.load(problem["dir"] / "outputs.npz")
        self.schedule = from_spec(problem["schedule"])
        self.discrete = problem["discrete"]
        self.guidance = problem["guidance"]
        self.class_label = problem.get("classLabel")
        self.num_classes = problem["numClasses"]
        self.problem = problem

    @classmethod
    def of(cls, problem: dict) -> "Reference":
        key = str(problem["dir"])
        if key not in cls._cache:
            cls._cache[key] = cls(problem)
        return cls._cache[key]

    def document(self, case: dict) -> dict:
        return json.loads((self.problem["dir"] / case["config"]).read_text())

    def expected(self, case: dict) -> np.ndarray:
        return self.outputs[case["name"]]

    # ---- the exact model (shared/reference/README.md) --------------------------------------------------------

    def t_of_input(self, t_in: float) -> float:
        """The continuous time of a network time input (discrete: the DDPM index N' t - 1)."""
        return (t_in + 1.0) / self.schedule.grid_size if self.discrete else t_in

    def eps(self, x, t: float, labels=None, xp=np):
        """Exact noise prediction of the mixture at continuous time ``t``; ``labels`` per row (-1: unconditional)."""
        alpha, sigma = self.schedule.alpha(t), self.schedule.sigma(t)
        return mixture_eps(x, alpha, sigma, self.w, self.mu, self.s, labels, xp)

    def network(self, x, t_in, cond=None):
        """The model as a network: ``(x, t_in[, labels])`` with the DDPM index (discrete) or t (continuous)."""
        t = self.t_of_input(float(t_in[0]))
        return self.eps(x, t, cond, np if isinstance(x, np.ndarray) else _torch())

    def data_prediction_ve(self, x_ve, k_sigma: float, labels=None):
        """The k-diffusion denoiser ``D(x, sigma)`` in VE form (``x = x0 + sigma eps``), computed directly from the
        mixture -- independent of the VP schedule: components ``N(mu_k, (s_k^2 + sigma^2) I)``."""
        eps = mixture_eps(x_ve, 1.0, k_sigma, self.w, self.mu, self.s, labels, np)
        return x_ve - k_sigma * eps


def _torch():
    import torch

    return torch


def mixture_eps(x, alpha, sigma, w, mu, s, labels, xp):
    """``eps = -sigma grad log p_t(x)``, ``p_t = sum_k w_k N(alpha mu_k, (alpha^2 s_k^2 + sigma^2) I)``; component k
    belongs to class ``k % 2``; a row labelled c uses only its class's components (softmax renormalises)."""
    is_torch = xp is not np
    b = x.shape[0]
    d = int(np.prod(x.shape[1:]))
    xf = x.reshape(b, d)
    k = len(w)
    var = alpha * alpha * s * s + sigma * sigma
    log_norm = np.log(w / w.sum()) - 0.5 * d * np.log(2.0 * math.pi * var)
    if is_torch:
        torch = xp
        mu_t = torch.as_tensor(mu, dtype=x.dtype, device=x.device)
        d2 = ((xf[:, None, :] - alpha * mu_t[None]) ** 2).sum(-1)
        logits = d2 * torch.as_tensor(-0.5 / var, dtype=x.dtype) + torch.as_tensor(log_norm, dtype=x.dtype)
    else:
        d2 = ((xf[:, None, :] - alpha * mu[None]) ** 2).sum(-1)
        logits = d2 * (-0.5 / var) + log_norm
    if labels is not None:
        lab = np.asarray(labels.cpu() if is_torch else labels).reshape(-1)
        mask = np.zeros((b, k))
        for row in range(b):
            if lab[row] >= 0:
                mask[row, [c for c in range(k) if c % 2 != lab[row]]] = -np.inf
        logits = logits + (xp.as_tensor(mask, dtype=x.dtype) if is_torch else mask)
    if is_torch:
        r = torch.softmax(logits, 1)
        c = r * torch.as_tensor(1.0 / var, dtype=x.dtype)
        eps = xf * c.sum(1, keepdim=True) - alpha * (c @ mu_t)
    else:
        m = logits.max(1, keepdims=True)
        e = np.exp(logits - m)
        r = e / e.sum(1, keepdims=True)
        c = r * (1.0 / var)
        eps = xf * c.sum(1, keepdims=True) - alpha * (c @ mu)
    return (sigma * eps).reshape(x.shape)


def max_rel_error(ours, theirs) -> float:
    ours = np.asarray(ours, dtype=np.float64)
    theirs = np.asarray(theirs, dtype=np.float64)
    return float(np.max(np.abs(ours - theirs) / np.maximum(1.0, np.abs(theirs))))


@pytest.fixture(scope="session")
def agreement():
    """Collects the worst relative difference per (driver, problem, method) and writes it to
    ``target/python-tests/agreement-<driver>.txt`` at the end of the session."""
    table: dict[tuple[str, str, str], float] = {}
    yield table
    out = REPO / "target" / "python-tests"
    out.mkdir(parents=True, exist_ok=True)
    drivers = sorted({k[0] for k in table})
    for driver in drivers:
        lines = [f"{'problem':<24} {'method':<14} max relative difference vs Java"]
        for (dr, problem, method), v in sorted(table.items()):
            if dr == driver:
                lines.append(f"{problem:<24} {method:<14} {v:.3e}")
        (out / f"agreement-{driver}.txt").write_text("\n".join(lines) + "\n")


def method_of(doc: dict) -> str:
    return doc.get("method", "?")
