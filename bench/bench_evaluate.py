"""Evaluation engine overhead: `uv run python bench/bench_evaluate.py [--rows N] [--repeat R]`.

For each model, on one holdout, medians of R, all with one thread, measured in the same run:
- bare: an in-process onnxruntime InferenceSession (from the model bytes) + run + the task
  metric, scikit-learn's roc_auc_score: the baseline of the goal (engine / bare <= 1.15);
- bare+full: the same, computing the engine's whole metric set with scikit-learn (roc_auc,
  accuracy, f1, log_loss, brier), for the ratio of like with like;
- engine: Evaluator.evaluate on a loaded Holdout, as a validator calls it: static checks, a
  child forked from the Evaluator's zygote, inference, output checks, all metrics, decision;
- first: the first evaluation of a new Evaluator, which also starts its zygote (imports);
- sklearn: the trained pipeline's predict_proba, for comparison;
- 1k overhead: engine minus bare on a 1,000-row holdout.
The holdout's .npy input files and the zygote are made by a warm-up evaluation.
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

import onnxruntime as ort
from sklearn import metrics as skm
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier

from fedledger.evaluate.engine import Evaluator
from fedledger.evaluate.holdout import Holdout
from fedledger.evaluate.limits import SandboxLimits
from fedledger.evaluate.policy import Task, TaskPolicy
from fedledger.models.conversion import convert
from fedledger.models.inputs import frame_to_feeds, prepare_frame
from fedledger.models.synthetic import synthetic_frame, synthetic_schema
from fedledger.models.train import train

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


def bare(model: bytes, feeds: dict[str, Any], y: Any, *, full: bool = False) -> float:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    label, proba = session.run(None, feeds)
    if full:
        skm.accuracy_score(y, label)
        skm.f1_score(y, label, pos_label=1, average="binary")
        skm.brier_score_loss(y, proba[:, 1], pos_label=1)
        skm.log_loss(y, proba, labels=[0, 1])
    return float(skm.roc_auc_score(y, proba[:, 1]))


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

    def first() -> None:
        with Evaluator(limits) as new:
            new.evaluate(model, task, big)

    with Evaluator(limits) as engine:
        report = engine.evaluate(model, task, big)  # warm-up: the zygote, the .npy inputs
        engine.evaluate(model, task, small)
        if report.score != bare(model, feeds, big.y):
            raise SystemExit(f"{name}: engine and bare roc_auc differ")
        engine_s = median_seconds(lambda: engine.evaluate(model, task, big), repeat)
        bare_s = median_seconds(lambda: bare(model, feeds, big.y), repeat)
        full_s = median_seconds(lambda: bare(model, feeds, big.y, full=True), repeat)
        first_s = median_seconds(first, repeat)
        sk_s = median_seconds(lambda: trained.pipeline.predict_proba(sk_input), repeat)
        engine_1k = median_seconds(lambda: engine.evaluate(model, task, small), repeat)
        bare_1k = median_seconds(lambda: bare(model, small_feeds, small.y), repeat)
    return (
        f"{name:24} {bare_s:7.3f} {full_s:9.3f} {engine_s:7.3f} {engine_s / bare_s:6.2f} "
        f"{engine_s / full_s:6.2f} {first_s:6.3f} {sk_s:8.3f} {sk_s / bare_s:6.2f} "
        f"{engine_1k - bare_1k:12.3f}"
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
        f"{'model':24} {'bare':>7} {'bare+full':>9} {'engine':>7} {'/bare':>6} {'/full':>6} "
        f"{'first':>6} {'sklearn':>8} {'/bare':>6} {'1k overhead':>12}"
    )
    print(header)
    print("-" * len(header))
    with Holdout(frame, schema) as big, Holdout(small_frame, schema) as small:
        for name, make in MODELS.items():
            print(measure(name, make, training, (frame, small_frame), (big, small), args.repeat))
    print(
        "/bare: engine / bare (goal <= 1.15); /full: engine / bare+full (both compute the full "
        "metric set); first: a new Evaluator's first evaluation, zygote start included."
    )


if __name__ == "__main__":
    main()
