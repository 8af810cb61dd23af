"""The package installs offline from the repository and imports without torch; schedules and spacings agree with
independent formulas."""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import PACKAGE_ROOT

from solvertune import ConfigError
from solvertune.schedules import VpDiscreteSchedule, VpLinearSchedule, from_diffusers_config, from_spec
from solvertune.spacing import Karras, LogSnr, TimeUniform


def pip_install(args: list[str], tmp_path) -> Path:
    """Runs ``pip install <args>`` offline from a copy of ``clients/python`` (pip builds in the source tree) into a
    target directory; returns the target."""
    if subprocess.run([sys.executable, "-m", "pip", "--version"], capture_output=True).returncode != 0:
        pytest.skip("pip is not installed (apt-get install python3-pip)")
    work = tmp_path / "repo"
    shutil.copytree(PACKAGE_ROOT, work / "clients" / "python",
                    ignore=shutil.ignore_patterns("build", "*.egg-info", "tests", "__pycache__"))
    target = tmp_path / "site"
    r = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--target",
                        str(target)] + args, cwd=work, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    return target


def test_installs_offline_with_pip(tmp_path):
    """What the README says: ``pip install --no-build-isolation ./clients/python`` (here into a target dir)."""
    target = pip_install(["--no-build-isolation", "./clients/python"], tmp_path)
    for module in ("__init__.py", "client.py", "scheduler.py", "kdiffusion.py", "samplers/dpmsolver_v3.py"):
        assert (target / "solvertune" / module).is_file(), module
    code = "import sys; sys.path.insert(0, sys.argv[1]); import solvertune; print(solvertune.__file__)"
    out = subprocess.run([sys.executable, "-c", code, str(target)], capture_output=True, text=True, cwd="/")
    assert out.stdout.strip().startswith(str(target)), out.stderr


def test_imports_without_torch():
    code = ("import sys; sys.modules['torch'] = None; sys.path.insert(0, sys.argv[1]); import solvertune, "
            "solvertune.client, solvertune.kdiffusion, solvertune.scheduler; print(solvertune.__version__)")
    r = subprocess.run([sys.executable, "-c", code, str(PACKAGE_ROOT)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr


def test_discrete_schedule_against_alphas_cumprod():
    """DPM-Solver's convention: alpha at t_n = (n+1)/N is sqrt(alphas_cumprod[n]); lambda clipping at -5.1."""
    betas = np.linspace(0.00085 ** 0.5, 0.012 ** 0.5, 1000, dtype=np.float64) ** 2
    ac = np.cumprod(1.0 - betas)
    s = VpDiscreteSchedule.preset("scaled_linear")
    for n in (0, 1, 499, 998, 999):
        t = (n + 1) / 1000
        assert s.alpha(t) == pytest.approx(math.sqrt(ac[n]), rel=1e-12)
        assert s.model_input_time(t) == pytest.approx(n, abs=1e-9)
    t = 0.3337
    assert s.inverse_lambda(s.lambda_(t)) == pytest.approx(t, rel=1e-12)
    cos = VpDiscreteSchedule.preset("squaredcos_cap_v2")
    assert cos.grid_size < 1000  # the tail below lambda = -5.1 is dropped
    assert from_diffusers_config({"beta_schedule": "scaled_linear", "beta_start": 0.00085, "beta_end": 0.012,
                                  "num_train_timesteps": 1000}).alpha(0.5) == s.alpha(0.5)
    assert from_spec(s.spec()).alpha(0.25) == s.alpha(0.25)
    with pytest.raises(ConfigError, match="rescale_betas_zero_snr"):
        from_diffusers_config({"beta_schedule": "linear", "rescale_betas_zero_snr": True})


def test_spacings_against_closed_forms():
    s = VpLinearSchedule(0.1, 20.0)
    t = LogSnr().times(s, 1.0, 1e-3, 4)
    lam = [s.lambda_(v) for v in t]
    assert np.allclose(np.diff(lam), (lam[-1] - lam[0]) / 4, rtol=1e-10)
    assert TimeUniform().times(s, 1.0, 0.2, 4) == pytest.approx([1.0, 0.8, 0.6, 0.4, 0.2], rel=1e-15)
    k = Karras(7.0).times(s, 1.0, 1e-3, 5)
    sig = [math.exp(-s.lambda_(v)) for v in k]
    ramp = np.linspace(0, 1, 6)
    want = (sig[0] ** (1 / 7) + ramp * (sig[-1] ** (1 / 7) - sig[0] ** (1 / 7))) ** 7
    assert np.allclose(sig, want, rtol=1e-10)
