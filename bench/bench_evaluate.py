"""Evaluation engine overhead: `uv run python bench/bench_evaluate.py [--rows N] [--repeat R]`.

For each model, on one holdout: the engine's full evaluation (sandbox process start, static
checks, inference, output checks, all metrics, decision) divided by a bare in-process
onnxruntime InferenceSession.run plus the task metric (roc_auc), both with one thread, measured
in the same run (median of R). The holdout is loaded once, as a validator does; its .npy input
files are written by a warm-up evaluation. scikit-learn's predict_proba is shown for comparison,
and the fixed overhead is measured on a 1,000-row holdout.
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

import onnxruntime as ort
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.neural_network import MLPClassifier

from fedledger.evaluate import Evaluator, Holdout, SandboxLimits, Task, TaskPolicy
from fedledger.models import convert, frame_to_feeds, prepare_frame, train
from fedledger.models.synthetic import synthetic_frame, synthetic_schema

MODELS: dict[str, Callable[[], Any]] = {
    "LogisticRegression": lambda: LogisticRegression(max_iter=300),
    "HistGradientBoosting": lambda: HistGradientBoostingClassifier(max_iter=100, random_state=0),
    "RandomForest(depth 10)": lambda: RandomForestClassifier(
        50, max_depth=10, random_state=0, n_jobs=1
    ),
    "MLP(64, 32)": lambda: MLPClassifier((64, 32), max_iter=30, random_state=0),
}


def median_seconds(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bare(model: bytes, feeds: dict[str, Any], y: Any) -> float:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    _, proba = session.run(None, feeds)
    return float(roc_auc_score(y, proba[:, 1]))


def measure(
    name: str,
    make: Callable[[], Any],
    training: Any,
    frames: tuple[Any, Any],
    holdouts: tuple[Holdout, Holdout],
    repeat: int,
) -> str:
    schema = holdouts[0].schema
    task = Task("bench", schema, TaskPolicy("roc_auc", True))
    trained = train(schema, training, make())
    model = convert(trained, task_id="bench")
    big, small = holdouts
    feeds = frame_to_feeds(frames[0], schema, trained.numeric_dtype)
    small_feeds = frame_to_feeds(frames[1], schema, trained.numeric_dtype)
    sk_input = prepare_frame(frames[0], schema, trained.numeric_dtype)
    limits = SandboxLimits(threads=1)
    with Evaluator(limits) as cold, Evaluator(limits, keep_spare=True) as warm:
        report = cold.evaluate(model, task, big)  # warm-up: writes the holdout's .npy inputs
        cold.evaluate(model, task, small)
        warm.evaluate(model, task, big)
        if report.score is None or abs(report.score - bare(model, feeds, big.y)) > 1e-6:
            raise SystemExit(f"{name}: engine and bare scores differ")
        cold_s = median_seconds(lambda: cold.evaluate(model, task, big), repeat)
        warm_s = median_seconds(lambda: warm.evaluate(model, task, big), repeat)
        bare_s = median_seconds(lambda: bare(model, feeds, big.y), repeat)
        sk_s = median_seconds(lambda: trained.pipeline.predict_proba(sk_input), repeat)
        cold_1k = median_seconds(lambda: cold.evaluate(model, task, small), repeat)
        bare_1k = median_seconds(lambda: bare(model, small_feeds, small.y), repeat)
    return (
        f"{name:24} {bare_s:7.3f} {cold_s:7.3f} {cold_s / bare_s:6.2f} {warm_s:7.3f} "
        f"{warm_s / bare_s:6.2f} {sk_s:8.3f} {sk_s / bare_s:6.2f} {cold_1k - bare_1k:12.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--train-rows", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")

    schema = synthetic_schema(20)
    data = synthetic_frame(schema, args.train_rows + args.rows, seed=7)
    training, frame = data.iloc[: args.train_rows], data.iloc[args.train_rows :]
    small_frame = frame.iloc[:1000]
    print(
        f"holdout {len(frame):,} rows x {len(schema.features)} features, 1 thread, "
        f"median of {args.repeat}; times in s, ratios to bare"
    )
    header = (
        f"{'model':24} {'bare':>7} {'engine':>7} {'ratio':>6} {'spare':>7} {'ratio':>6} "
        f"{'sklearn':>8} {'ratio':>6} {'1k overhead':>12}"
    )
    print(header)
    print("-" * len(header))
    with Holdout(frame, schema) as big, Holdout(small_frame, schema) as small:
        for name, make in MODELS.items():
            print(measure(name, make, training, (frame, small_frame), (big, small), args.repeat))
    print(
        "engine: a new sandbox process per evaluation, started inside the timed call; "
        "spare: Evaluator(keep_spare=True), the process started ahead of the call."
    )


if __name__ == "__main__":
    main()
