"""Prometheus metrics of one serving app, in its own registry (no process-global state)."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

# From a tenth of a millisecond (one row, in process) to seconds (large batches, a cold model).
LATENCY_BUCKETS = (
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
)  # fmt: skip
LOAD_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30)


@dataclass
class ServingMetrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.requests = Counter(
            "fedledger_serving_requests",
            "Predict requests answered, by HTTP status",
            ["status"],
            registry=r,
        )
        self.latency = Histogram(
            "fedledger_serving_predict_seconds",
            "Time to answer a predict request that was scored (reading, scoring, encoding)",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.rows = Counter(
            "fedledger_serving_rows_scored", "Rows scored by the champion", registry=r
        )
        self.swaps = Counter(
            "fedledger_serving_model_swaps",
            "Times the model in service changed (a champion loaded, or withdrawn)",
            registry=r,
        )
        self.load_seconds = Histogram(
            "fedledger_serving_model_load_seconds",
            "Time to fetch, verify and load a champion",
            buckets=LOAD_BUCKETS,
            registry=r,
        )
        self.errors = Counter(
            "fedledger_serving_errors",
            "Failures in the background, by kind (ledger, load, follower)",
            ["kind"],
            registry=r,
        )
        self.serving = Gauge(
            "fedledger_serving_model_loaded", "1 while a champion is in service", registry=r
        )

    def exposition(self) -> bytes:
        """The registry in Prometheus' text format."""
        return generate_latest(self.registry)
