"""The few array operations the samplers need, for numpy arrays and (optionally) torch tensors.

Samplers never import torch themselves: a torch tensor is recognised by its module, and torch is imported only when
one arrives. Linear combinations use ``x * c`` and in-place ``+=`` on fresh results, which both libraries share, so
the caller's arrays are never modified.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np


def is_torch(x: Any) -> bool:
    return type(x).__module__.startswith("torch")


def _torch():
    import torch  # noqa: PLC0415 - optional dependency, imported on first use

    return torch


def concat(parts: Sequence[Any]) -> Any:
    """Concatenates arrays (or lists) along the batch axis."""
    first = parts[0]
    if is_torch(first):
        return _torch().cat(list(parts), 0)
    if isinstance(first, np.ndarray):
        return np.concatenate(list(parts), 0)
    if isinstance(first, (list, tuple)):
        out: list = []
        for p in parts:
            out.extend(p)
        return type(first)(out) if isinstance(first, tuple) else out
    raise TypeError(f"cannot concatenate conditions of type {type(first).__name__} (use arrays, tensors or lists)")


def split2(x: Any) -> tuple[Any, Any]:
    """Splits a batch in two halves (``[uncond, cond]``)."""
    n = x.shape[0] // 2
    return x[:n], x[n:]


def time_vector(x: Any, value: float, n: int) -> Any:
    """A 1-D array of ``n`` copies of ``value`` next to ``x``: float64 for float64 states, otherwise float32 (never
    a half type: a DDPM index like 799.2 must survive)."""
    if is_torch(x):
        torch = _torch()
        dtype = torch.float64 if x.dtype == torch.float64 else torch.float32
        if x.device.type == "mps":
            dtype = torch.float32
        return torch.full((n,), float(value), dtype=dtype, device=x.device)
    dtype = np.float64 if np.asarray(x).dtype == np.float64 else np.float32
    return np.full((n,), value, dtype=dtype)


def per_sample(values: np.ndarray, like: Any) -> Any:
    """A per-dimension coefficient vector (flat, one sample's elements in C order) shaped like one sample of
    ``like``, in its dtype and on its device."""
    shape = tuple(like.shape[1:])
    v = np.asarray(values, dtype=np.float64).reshape(shape)
    if is_torch(like):
        return _torch().as_tensor(v, dtype=like.dtype, device=like.device)
    return v.astype(like.dtype, copy=False)


def copy(x: Any) -> Any:
    return x.clone() if is_torch(x) else np.array(x, copy=True)


def working(x: Any) -> Any:
    """``x`` in a dtype fit for solver arithmetic: float64 stays, everything else becomes float32."""
    if is_torch(x):
        torch = _torch()
        if x.dtype in (torch.float64, torch.float32):
            return x
        return x.to(torch.float32)
    a = np.asarray(x)
    if a.dtype in (np.float64, np.float32):
        return a
    return a.astype(np.float32)


def cast_like(x: Any, like: Any) -> Any:
    """``x`` in ``like``'s dtype."""
    if is_torch(x):
        return x.to(like.dtype)
    return np.asarray(x).astype(np.asarray(like).dtype, copy=False)


def all_finite(x: Any) -> bool:
    if is_torch(x):
        return bool(_torch().isfinite(x).all())
    return bool(np.isfinite(x).all())


def same_values(a: Any, b: Any) -> bool:
    if a is b:
        return True
    if is_torch(a) and is_torch(b):
        return a.shape == b.shape and bool(_torch().equal(a.to(b.dtype), b))
    if is_torch(a) or is_torch(b):
        return False
    return np.array_equal(np.asarray(a), np.asarray(b))
