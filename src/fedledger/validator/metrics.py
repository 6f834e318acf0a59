"""Prometheus metrics of one validator, in its own registry (no process-global state)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

DURATION_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600)


@dataclass
class ValidatorMetrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self._evaluation_metrics(r)
        self.votes = Counter(
            "fedledger_validator_votes",
            "Votes this validator committed, by decision",
            ["decision"],
            registry=r,
        )
        self.conflicts = Counter(
            "fedledger_validator_read_conflicts",
            "Transactions of ours Fabric invalidated for a read conflict (MVCC_READ_CONFLICT, "
            "PHANTOM_READ_CONFLICT), by path: vote (none in normal operation; a vote is "
            "resubmitted, never re-evaluated) or decide (another member decided first)",
            ["path"],
            registry=r,
        )
        self.decisions = Counter(
            "fedledger_validator_decisions",
            "Decide transactions this validator committed, by the status they settled",
            ["status"],
            registry=r,
        )
        self.errors = Counter(
            "fedledger_validator_errors",
            "Failures, by kind (store_unavailable, ledger, evaluator, holdout, gave_up, ...)",
            ["kind"],
            registry=r,
        )
        self.last_block = Gauge(
            "fedledger_validator_last_block",
            "The last block whose events the watcher processed",
            registry=r,
        )
        self.pending = Gauge(
            "fedledger_validator_pending_proposals",
            "Proposals seen and not yet voted on",
            registry=r,
        )
        self.proposal_to_vote_seconds = Histogram(
            "fedledger_validator_vote_seconds",
            "From seeing a proposal to this organisation's vote being committed",
            buckets=DURATION_BUCKETS,
            registry=r,
        )

    def _evaluation_metrics(self, r: CollectorRegistry) -> None:
        self.evaluations = Counter(
            "fedledger_validator_evaluations",
            "Models evaluated, by task and outcome (approve, reject, or the model's fault code)",
            ["task", "outcome"],
            registry=r,
        )
        self.evaluation_seconds = Histogram(
            "fedledger_validator_evaluation_seconds",
            "Time to evaluate one model on the holdout",
            ["task"],
            buckets=DURATION_BUCKETS,
            registry=r,
        )
        self.cancelled = Counter(
            "fedledger_validator_evaluations_cancelled",
            "Evaluations cancelled because their proposal was decided meanwhile, by task",
            ["task"],
            registry=r,
        )

    def serve(self, address: str) -> MetricsServer:
        """Expose /metrics on `host:port` (port 0: any free one)."""
        host, _, port = address.rpartition(":")
        server, thread = start_http_server(int(port), addr=host, registry=self.registry)
        return MetricsServer(server, thread, f"{host}:{server.server_port}")


@dataclass
class MetricsServer:
    server: WSGIServer
    thread: threading.Thread
    address: str

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
