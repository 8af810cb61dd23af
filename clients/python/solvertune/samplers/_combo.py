"""Linear combinations with host-side ``float`` coefficients (the Java ``nd.Combo`` and ``nd.Lin``).

A solver writes its update on :class:`Combo` values -- the same structure as the official formulas, e.g.
``D1_0 = (m0 - m1) / r0`` -- and :meth:`Combo.apply` evaluates the final combination with one multiply per non-zero
term, in the same order as the Java sampler (so both round alike).
"""

from __future__ import annotations

from typing import Any, Sequence


class Combo:
    """``sum_i c[i] * basis[i]`` over a fixed basis of arrays."""

    __slots__ = ("c",)

    def __init__(self, c: Sequence[float]):
        self.c = list(c)

    @staticmethod
    def basis(size: int, index: int) -> "Combo":
        c = [0.0] * size
        c[index] = 1.0
        return Combo(c)

    @staticmethod
    def zero(size: int) -> "Combo":
        return Combo([0.0] * size)

    def __add__(self, o: "Combo") -> "Combo":
        return Combo([a + b for a, b in zip(self.c, o.c)])

    def __sub__(self, o: "Combo") -> "Combo":
        return Combo([a - b for a, b in zip(self.c, o.c)])

    def times(self, s: float) -> "Combo":
        return Combo([a * s for a in self.c])

    def div(self, s: float) -> "Combo":
        return Combo([a / s for a in self.c])

    def apply(self, terms: Sequence[Any]) -> Any:
        """A new array ``sum_i c_i terms[i]``; terms with an exactly zero coefficient are skipped (may be None)."""
        if len(terms) != len(self.c):
            raise ValueError(f"combination over {len(self.c)} arrays applied to {len(terms)}")
        r = None
        for ci, t in zip(self.c, terms):
            if ci == 0.0:
                continue
            if r is None:
                r = t * ci
            elif ci == 1.0:
                r += t
            elif ci == -1.0:
                r -= t
            else:
                r += t * ci
        if r is None:
            raise ValueError("all coefficients are zero")
        return r

    def __repr__(self) -> str:
        return f"Combo({self.c})"


def lin(a: float, x: Any, b: float, y: Any) -> Any:
    """``a x + b y`` as a new array (Java ``Lin.of``)."""
    r = x * a
    r += y * b
    return r
