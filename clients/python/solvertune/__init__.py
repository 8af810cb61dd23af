"""solvertune: run the solver configs a solvertune service publishes, in your own Python stack.

* :class:`Client` -- the REST API: models, configs (by id, alias ``latest``/``stable``, ``recommended``), exports,
  jobs; ETag-cached downloads.
* :func:`sample` (:mod:`solvertune.samplers`) -- run a config on your model function, exactly as the service does.
* :class:`SolvertuneScheduler` (:mod:`solvertune.diffusers`) -- a diffusers-compatible scheduler.
* :func:`sample_solvertune` (:mod:`solvertune.kdiffusion`) -- a k-diffusion-style sampler function.

Only numpy is required; torch is used when your tensors are torch tensors.
"""

from __future__ import annotations

from .config import Config
from .errors import (ApiError, AuthenticationError, ConfigError, JobFailedError, NotFoundError,
                     PermissionDeniedError, SolvertuneError)
from .samplers import sample

__version__ = "0.1.0"


def __getattr__(name: str):
    # lazily, so that importing solvertune never imports torch
    if name == "Client":
        from .client import Client

        return Client
    if name == "SolvertuneScheduler":
        from .scheduler import SolvertuneScheduler

        return SolvertuneScheduler
    if name == "sample_solvertune":
        from .kdiffusion import sample_solvertune

        return sample_solvertune
    raise AttributeError(f"module 'solvertune' has no attribute '{name}'")


__all__ = ["Client", "Config", "SolvertuneScheduler", "sample", "sample_solvertune", "ApiError",
           "AuthenticationError", "ConfigError", "JobFailedError", "NotFoundError", "PermissionDeniedError",
           "SolvertuneError", "__version__"]
