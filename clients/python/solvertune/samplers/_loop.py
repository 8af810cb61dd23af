"""The one sampling loop every solver runs in (the Java ``Sampler``), written as a generator.

:func:`run` walks the grid step by step, owns the model-output history, applies ``denoise_to_zero`` and asks for
every model evaluation by *yielding* an :class:`Evaluation` ``(x, t)``; the driver answers with the raw (guided)
network prediction of the model's prediction type via ``generator.send(output)``. That one protocol serves both
ways a sampler is driven:

* :func:`solvertune.samplers.sample` calls the model itself for every request;
* :class:`solvertune.diffusers.SolvertuneScheduler` hands each request to a diffusers pipeline as the sample it
  returns from ``step()``, and the pipeline's next model output comes back in the next ``step()`` call.

A solver is a small object with ``history_type`` (what it integrates: ``"noise"`` or ``"data"``),
``history_capacity``, ``grid(schedule, plan)`` and a generator method ``step(step, x)`` that returns the new state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Generator, NamedTuple

from .. import _array
from ..errors import SolvertuneError
from ..model import convert
from ..schedules import NoiseSchedule


class Evaluation(NamedTuple):
    """A model evaluation the loop asks for: the network at state ``x`` and continuous time ``t``."""

    x: Any
    t: float


class NonFiniteModelOutput(SolvertuneError):
    """The model returned NaN or infinity."""

    def __init__(self, t: float):
        super().__init__(f"the model output at t = {t} is not finite (NaN or infinity)")
        self.t = t


@dataclass
class Entry:
    t: float
    value: Any


class History:
    """The newest model outputs, newest first; entries beyond ``capacity`` are evicted when a step ends."""

    def __init__(self, capacity: int):
        self.capacity = capacity
        self.entries: list[Entry] = []

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, k: int) -> Entry:
        if k < 0 or k >= len(self.entries):
            raise IndexError(f"history has {len(self.entries)} entries, asked for {k}")
        return self.entries[k]

    def newest(self) -> Entry | None:
        return self.entries[0] if self.entries else None

    def add(self, t: float, value: Any) -> None:
        self.entries.insert(0, Entry(t, value))

    def replace_newest(self, value: Any) -> None:
        self.entries[0] = Entry(self.entries[0].t, value)

    def commit(self) -> None:
        del self.entries[self.capacity:]


@dataclass
class Plan:
    """Everything a run needs besides the model and the initial state.

    Attributes:
        make_solver: builds a fresh per-run solver.
        schedule: the noise schedule.
        times: the outer grid (``steps + 1`` continuous times, decreasing).
        lower_order_final: the official lower-order-final rule (DPM-Solver multistep only below 10 steps, UniPC
            and DPM-Solver-v3 always).
        denoise_to_zero: finish with one extra evaluation, ``x = x0(x, t_end)``.
        prediction_type: what the network predicts.
    """

    make_solver: Callable[[], Any]
    schedule: NoiseSchedule
    times: list[float]
    lower_order_final: bool = True
    denoise_to_zero: bool = False
    prediction_type: str = "noise"

    @property
    def steps(self) -> int:
        return len(self.times) - 1


class Step:
    """What a solver sees during one step: its place in the grid, the schedule, the model and the history."""

    def __init__(self, index: int, grid: list[float], plan: Plan, history: History, history_type: str):
        self.index = index
        self.grid = grid
        self.plan = plan
        self.schedule = plan.schedule
        self.history = history
        self.history_type = history_type
        self.output_at_start: Any = None

    @property
    def number(self) -> int:
        """1-based step number, as the official loops count."""
        return self.index + 1

    @property
    def count(self) -> int:
        return len(self.grid) - 1

    @property
    def s(self) -> float:
        return self.grid[self.index]

    @property
    def t(self) -> float:
        return self.grid[self.index + 1]

    @property
    def lower_order_final(self) -> bool:
        return self.plan.lower_order_final

    def model(self, x: Any, time: float) -> Generator[Evaluation, Any, Any]:
        """Evaluates the model (one NFE), returning the output in the solver's history type."""
        return _evaluate(self.plan, x, time, self.history_type)

    def model_at_start(self, x: Any) -> Generator[Evaluation, Any, Any]:
        """The output at ``(x, s)``: the newest history entry if recorded at ``s``, otherwise a new evaluation
        that is remembered."""
        newest = self.history.newest()
        if newest is not None and newest.t == self.s:
            self.output_at_start = newest.value
            return newest.value
        out = yield from self.model(x, self.s)
        self.remember(self.s, out)
        self.output_at_start = out
        return out

    def remember(self, time: float, value: Any) -> None:
        self.history.add(time, value)


def _evaluate(plan: Plan, x: Any, t: float, target: str) -> Generator[Evaluation, Any, Any]:
    raw = yield Evaluation(x, t)
    if raw is None:
        raise SolvertuneError(f"no model output was supplied for the evaluation at t = {t}")
    if not _array.all_finite(raw):
        raise NonFiniteModelOutput(t)
    return convert(raw, x, t, plan.schedule, plan.prediction_type, target)


def run(plan: Plan, x_t: Any, on_step: Callable[[int, float, float, Any, Any, Any], None] | None = None
        ) -> Generator[Evaluation, Any, Any]:
    """The sampling loop from ``x_t`` (not modified) at ``plan.times[0]``; returns the final state.

    ``on_step(i, s, t, x, x_next, denoised)`` is called after each step: ``x`` the state at ``s``, ``x_next`` the
    state at ``t``, ``denoised`` the data prediction at ``(x, s)`` the step used (None if the solver used none).
    """
    solver = plan.make_solver()
    grid = solver.grid(plan.schedule, plan)
    history = History(solver.history_capacity)
    x = x_t
    for i in range(len(grid) - 1):
        step = Step(i, grid, plan, history, solver.history_type)
        x_next = yield from solver.step(step, x)
        if on_step is not None:
            out = step.output_at_start
            denoised = None if out is None else convert(out, x, grid[i], plan.schedule, solver.history_type, "data")
            on_step(i, grid[i], grid[i + 1], x, x_next, denoised)
        history.commit()
        x = x_next
    if plan.denoise_to_zero:
        x = yield from _evaluate(plan, x, grid[-1], "data")
    if x is x_t:
        x = _array.copy(x)
    return x


def drive(gen: Generator[Evaluation, Any, Any], model: Callable[[Any, float], Any]) -> Any:
    """Runs a loop generator to its end, answering every evaluation with ``model(x, t)``."""
    try:
        request = next(gen)
        while True:
            request = gen.send(model(request.x, request.t))
    except StopIteration as done:
        return done.value
