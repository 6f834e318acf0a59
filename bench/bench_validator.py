"""Evaluate RPC time on a 100k-row holdout divided by the bare engine time, in the same run.

Starts an embedded ledger and one validator in this process (mutual TLS on loopback), then times
`Evaluator.evaluate` on a loaded Holdout (the bare engine) and the Evaluate RPC with the model
inline (gRPC + TLS + ledger reads of the task and champion + the same engine), median of 5 each.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression

from fedledger.embedded import EmbeddedLedger
from fedledger.evaluate.engine import Evaluator
from fedledger.evaluate.holdout import Holdout
from fedledger.fabric import connect
from fedledger.models.conversion import convert
from fedledger.models.synthetic import synthetic_frame, synthetic_schema
from fedledger.models.train import train
from fedledger.registry import Policy, Registry
from fedledger.runtime.definition import NetworkDefinition
from fedledger.validator.api import validator_pb2
from fedledger.validator.client import channel_for, stub
from fedledger.validator.config import ValidatorConfig
from fedledger.validator.evaluation import evaluation_task
from fedledger.validator.factory import build_validator
from fedledger.validator.profile_config import config_document, write_config

ROWS = 100_000
REPEATS = 5


def median_seconds(action: object) -> float:
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        action()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    schema = synthetic_schema(20)
    root = Path(tempfile.mkdtemp(prefix="bench-validator-"))
    definition = NetworkDefinition.load().with_overrides(
        port_base=random.randrange(40000, 50000, 200), batch_timeout=0.25
    )
    ledger = EmbeddedLedger(definition, root / "ledger")
    profile = ledger.up()
    try:
        task_id = f"bench-{uuid.uuid4().hex[:8]}"
        with connect(profile, "Org1MSP") as gateway:
            registry = Registry(gateway.network(profile.channel).contract(profile.chaincode))
            registry.create_task(
                task_id,
                schema=schema.to_dict(),
                metric="roc_auc",
                members=["Org1MSP"],
                policy=Policy(1, 0.5, None, None, 3600, 100_000_000, 5),
            )
            ledger_task = registry.get_task(task_id)
        holdout_path = root / "holdout.parquet"
        synthetic_frame(schema, ROWS, seed=1).to_parquet(holdout_path)
        training = synthetic_frame(schema, 5000, seed=1)
        document = config_document(
            profile,
            "Org1MSP",
            tasks={task_id: holdout_path},
            store=str(root / "store"),
            state_dir=root / "state",
        )
        config = ValidatorConfig.load(write_config(root / "validator.yaml", document))
        service = build_validator(config)
        service.start()
        task = evaluation_task(ledger_task, ledger_task.policy)
        try:
            with Holdout.load(holdout_path, schema) as holdout, Evaluator() as evaluator:
                channel = channel_for(config)
                client = stub(channel)
                for name, estimator in (
                    ("LogisticRegression", LogisticRegression(max_iter=500)),
                    ("HistGradientBoosting", HistGradientBoostingClassifier(max_iter=50)),
                ):
                    model = convert(train(schema, training, estimator), task_id)
                    bare = median_seconds(lambda: evaluator.evaluate(model, task, holdout))  # noqa: B023
                    request = validator_pb2.EvaluateRequest(task_id=task_id, inline=model)
                    rpc = median_seconds(lambda: client.Evaluate(request, timeout=300))  # noqa: B023
                    print(
                        f"{name:22s} {ROWS} rows: bare engine {bare:.3f} s, Evaluate RPC "
                        f"{rpc:.3f} s, ratio {rpc / bare:.2f}"
                    )
                channel.close()
        finally:
            service.stop(grace=1)
    finally:
        ledger.down(purge=True)


if __name__ == "__main__":
    main()
