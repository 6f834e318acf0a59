"""Limits for static checks and for the sandbox process, and each evaluation's time budget."""

from __future__ import annotations

import math
from dataclasses import dataclass

MIB = 1024 * 1024


@dataclass(frozen=True)
class Budget:
    """The CPU seconds one evaluation may use, what they were derived from, and the wall-clock
    backstop. CPU time is the budget: it does not depend on what else the machine runs, so a
    model over it is refused with the same reason on an idle and on a loaded machine. The wall
    backstop only ends a sandbox that the machine starved of CPU (never the model's fault)."""

    cpu_seconds: int
    wall_seconds: float
    explanation: str

    def over_cpu(self) -> str:
        return f"model used its whole CPU budget of {self.cpu_seconds} s ({self.explanation})"


@dataclass(frozen=True)
class SandboxLimits:
    """`memory_bytes` caps the sandbox's whole address space (RLIMIT_AS), onnxruntime included
    (about 0.2 GiB of mappings before any model is loaded).

    Each evaluation's CPU budget (RLIMIT_CPU, whole seconds, rounded up) is
    `cpu_base_seconds + cpu_seconds_per_million_cells * holdout rows * columns / 1e6 +
    cpu_seconds_per_model_mib * model MiB`, at most `cpu_seconds`. Its wall-clock backstop is
    `wall_factor * that budget + wall_margin_seconds`, at most `wall_seconds`.

    `max_loop_iterations` bounds the iterations of a Loop or Scan, multiplied through nested
    ones, that the static checks accept."""

    memory_bytes: int = 4 * 1024**3
    cpu_seconds: int = 300
    wall_seconds: float = 600.0
    cpu_base_seconds: float = 2.0
    cpu_seconds_per_million_cells: float = 5.0
    cpu_seconds_per_model_mib: float = 0.5
    wall_factor: float = 10.0
    wall_margin_seconds: float = 10.0
    threads: int = 1
    max_nodes: int = 100_000
    max_subgraph_depth: int = 2
    max_subgraphs: int = 16
    max_loop_iterations: int = 100_000

    def __post_init__(self) -> None:
        for name in (
            "memory_bytes",
            "cpu_seconds",
            "wall_seconds",
            "wall_factor",
            "threads",
            "max_nodes",
            "max_loop_iterations",
        ):
            if getattr(self, name) <= 0:
                raise ValueError(f"limits.{name} must be > 0")
        for name in (
            "cpu_base_seconds",
            "cpu_seconds_per_million_cells",
            "cpu_seconds_per_model_mib",
            "wall_margin_seconds",
        ):
            if getattr(self, name) < 0:
                raise ValueError(f"limits.{name} must be >= 0")

    def budget(self, rows: int, columns: int, model_bytes: int) -> Budget:
        """The budget of one evaluation of a model of `model_bytes` on a holdout of `rows`
        by `columns` (the model's inputs)."""
        cells = rows * columns / 1e6
        mib = model_bytes / MIB
        derived = (
            self.cpu_base_seconds
            + self.cpu_seconds_per_million_cells * cells
            + self.cpu_seconds_per_model_mib * mib
        )
        cpu = max(1, min(self.cpu_seconds, math.ceil(derived)))
        explanation = (
            f"{self.cpu_base_seconds:g} s + {self.cpu_seconds_per_million_cells:g} s per "
            f"million holdout cells ({rows} rows x {columns} columns) + "
            f"{self.cpu_seconds_per_model_mib:g} s per MiB of model ({mib:.2f} MiB)"
        )
        if derived > self.cpu_seconds:
            explanation += f", capped at {self.cpu_seconds} s"
        wall = min(self.wall_seconds, self.wall_factor * cpu + self.wall_margin_seconds)
        return Budget(cpu, wall, explanation)
