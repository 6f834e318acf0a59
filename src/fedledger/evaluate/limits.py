"""Limits for static checks and for the sandbox process."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SandboxLimits:
    """`memory_bytes` caps the sandbox's whole address space (RLIMIT_AS), onnxruntime included
    (about 0.2 GiB of mappings before any model is loaded); `cpu_seconds` is RLIMIT_CPU;
    `wall_seconds` counts from the request to the result."""

    memory_bytes: int = 4 * 1024**3
    cpu_seconds: int = 300
    wall_seconds: float = 600.0
    threads: int = 1
    max_nodes: int = 100_000
    max_subgraph_depth: int = 2
    max_subgraphs: int = 16

    def __post_init__(self) -> None:
        for name in ("memory_bytes", "cpu_seconds", "wall_seconds", "threads", "max_nodes"):
            if getattr(self, name) <= 0:
                raise ValueError(f"limits.{name} must be > 0")
