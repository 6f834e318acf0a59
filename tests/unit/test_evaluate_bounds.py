"""Bounded evaluation: the static refusal of loops without a bound, each evaluation's CPU budget
(derived from the holdout and the model), and cancelling an evaluation while it runs.

The hostile models are built with onnx.helper around the classifier tail of test_evaluate.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import onnx
import pytest
from onnx import TensorProto, helper
from tests.unit.hostile_models import loop_body, loop_model
from tests.unit.test_evaluate import HOLDOUT, LR_MODEL, SCHEMA, TASK, _bytes, _handmade

from fedledger.evaluate.cancel import Cancellation
from fedledger.evaluate.engine import Evaluator
from fedledger.evaluate.errors import EvaluationCancelledError, UnboundedLoopError
from fedledger.evaluate.holdout import Holdout
from fedledger.evaluate.limits import MIB, SandboxLimits
from fedledger.evaluate.loops import check_loops
from fedledger.evaluate.policy import Decision
from fedledger.evaluate.static import check_model

LIMITS = SandboxLimits(memory_bytes=1024**3)


@pytest.fixture(scope="module")
def holdout() -> Iterator[Holdout]:
    with Holdout(HOLDOUT, SCHEMA) as h:
        yield h


def test_a_loop_with_a_trip_count_computed_at_run_time_is_refused_before_it_runs() -> None:
    with pytest.raises(UnboundedLoopError) as raised:
        check_model(_bytes(loop_model(None, trip_name="rows")), TASK, LIMITS)
    assert str(raised.value) == (
        "Loop node 'spin' has a trip count computed at run time ('rows'); a Loop's trip count "
        "must be a constant (an initializer) of at most 100000"
    )
    assert raised.value.code == "unbounded_loop"


def test_a_loop_without_a_trip_count_runs_until_its_condition_and_is_refused() -> None:
    with pytest.raises(UnboundedLoopError) as raised:
        check_model(_bytes(loop_model(1, trip_name="")), TASK, LIMITS)
    assert str(raised.value) == (
        "Loop node 'spin' has no trip count: it runs until its condition turns false, which "
        "cannot be bounded before it runs; give it a constant trip count (an initializer) of "
        "at most 100000"
    )


def test_a_huge_constant_trip_count_is_refused_and_the_limit_is_configurable() -> None:
    with pytest.raises(UnboundedLoopError) as raised:
        check_model(_bytes(loop_model(2**62)), TASK, LIMITS)
    assert str(raised.value) == (
        f"Loop node 'spin' has a trip count of {2**62}, over the limit of 100000"
    )
    check_model(_bytes(loop_model(50)), TASK, SandboxLimits(max_loop_iterations=50))
    with pytest.raises(UnboundedLoopError, match="trip count of 51, over the limit of 50"):
        check_model(_bytes(loop_model(51)), TASK, SandboxLimits(max_loop_iterations=50))


def test_nested_loops_multiply_their_iterations() -> None:
    inner = loop_model(1000, heavy=False, name="inner").graph
    body = loop_body(heavy=False)
    # The outer body runs the inner Loop (its trip count an initializer of the outer body).
    inner_loop = next(n for n in inner.node if n.op_type == "Loop")
    body.initializer.extend(
        [
            helper.make_tensor("trips", TensorProto.INT64, [], [1000]),
            helper.make_tensor("yes", TensorProto.BOOL, [], [True]),
        ]
    )
    body.node.append(helper.make_node("Loop", ["trips", "yes", "a_in"], ["unused"], name="inner"))
    body.node[-1].attribute.extend(inner_loop.attribute)
    model = loop_model(1000, heavy=False, name="outer")
    outer = next(n for n in model.graph.node if n.op_type == "Loop")
    del outer.attribute[:]
    outer.attribute.append(helper.make_attribute("body", body))
    with pytest.raises(UnboundedLoopError) as raised:
        check_loops(model.graph, LIMITS.max_loop_iterations)  # what check_model runs
    assert str(raised.value) == (
        "Loop node 'inner' runs 1000 times inside loops running 1000 times: 1000000 iterations, "
        "over the limit of 100000"
    )


def _scan_model(constant: bool) -> onnx.ModelProto:
    body = helper.make_graph(
        [
            helper.make_node("Add", ["total_in", "row"], ["total_out"]),
            helper.make_node("Identity", ["row"], ["seen"]),
        ],
        "scan_body",
        [
            helper.make_tensor_value_info("total_in", TensorProto.DOUBLE, [1]),
            helper.make_tensor_value_info("row", TensorProto.DOUBLE, [1]),
        ],
        [
            helper.make_tensor_value_info("total_out", TensorProto.DOUBLE, [1]),
            helper.make_tensor_value_info("seen", TensorProto.DOUBLE, [1]),
        ],
    )
    initializers = [
        helper.make_tensor("start", TensorProto.DOUBLE, [1], [0.0]),
        helper.make_tensor("zero", TensorProto.DOUBLE, [], [0.0]),
        helper.make_tensor("table", TensorProto.DOUBLE, [5, 1], [1.0] * 5),
    ]
    nodes = [
        helper.make_node(
            "Scan",
            ["start", "table" if constant else "x0"],
            ["total", "rows"],
            body=body,
            num_scan_inputs=1,
            name="sweep",
        ),
        helper.make_node("Mul", ["total", "zero"], ["nothing"]),
        helper.make_node("Add", ["x0", "nothing"], ["shifted"]),
        helper.make_node("Sigmoid", ["shifted"], ["p"]),
    ]
    return _handmade(nodes, initializers)


def test_a_scan_over_a_run_time_tensor_is_refused_and_over_a_constant_accepted(
    holdout: Holdout,
) -> None:
    with pytest.raises(UnboundedLoopError) as raised:
        check_model(_bytes(_scan_model(constant=False)), TASK, LIMITS)
    assert str(raised.value) == (
        "Scan node 'sweep' iterates over tensors computed at run time (['x0']); a Scan must "
        "iterate over a constant (an initializer) of at most 100000 slices"
    )
    with Evaluator(LIMITS) as evaluator:
        report = evaluator.evaluate(_bytes(_scan_model(constant=True)), TASK, holdout)
    assert report.error_code is None, report.reasons


def test_a_bounded_loop_with_a_small_constant_trip_count_is_accepted_and_runs(
    holdout: Holdout,
) -> None:
    with Evaluator(LIMITS) as evaluator:
        report = evaluator.evaluate(_bytes(loop_model(3)), TASK, holdout)
    assert report.error_code is None, report.reasons
    assert report.decision in (Decision.APPROVE, Decision.REJECT)
    assert report.score is not None


def test_a_cpu_bomb_within_the_loop_limit_is_refused_on_its_cpu_budget_in_seconds(
    holdout: Holdout,
) -> None:
    bomb = _bytes(loop_model(100_000))  # ~1,000 s of CPU if let run
    started = time.monotonic()
    with Evaluator(LIMITS) as evaluator:
        report = evaluator.evaluate(bomb, TASK, holdout)
    elapsed = time.monotonic() - started
    assert report.error_code == "resource_limit", report.reasons
    mib = len(bomb) / MIB
    assert report.reasons == (
        "resource_limit: model used its whole CPU budget of 3 s (2 s + 5 s per million holdout "
        f"cells (600 rows x 6 columns) + 0.5 s per MiB of model ({mib:.2f} MiB))",
    )
    assert report.timings["cpu_budget_seconds"] == 3
    assert elapsed < 30


def test_the_budget_grows_with_the_holdout_and_the_model_and_stops_at_the_cap() -> None:
    limits = SandboxLimits()
    small = limits.budget(2_000, 10, 50_000)
    assert (small.cpu_seconds, small.wall_seconds) == (3, 40.0)
    big = limits.budget(1_000_000, 20, 24 * MIB)
    assert big.cpu_seconds == 2 + 100 + 12
    assert big.wall_seconds == 600.0  # 10 x 114 + 10 is over limits.wallSeconds
    capped = limits.budget(100_000_000, 20, 0)
    assert capped.cpu_seconds == 300
    assert capped.explanation.endswith("(0.00 MiB), capped at 300 s")
    assert small.over_cpu() == (
        "model used its whole CPU budget of 3 s (2 s + 5 s per million holdout cells "
        "(2000 rows x 10 columns) + 0.5 s per MiB of model (0.05 MiB))"
    )


def test_cancelling_kills_the_sandbox_at_once_and_says_why(holdout: Holdout) -> None:
    cancel = Cancellation()
    outcome: list[object] = []
    limits = SandboxLimits(memory_bytes=1024**3, cpu_base_seconds=120)
    with Evaluator(limits) as evaluator:
        evaluator.evaluate(LR_MODEL, TASK, holdout)  # the zygote is up

        def run() -> None:
            try:
                outcome.append(
                    evaluator.evaluate(_bytes(loop_model(100_000)), TASK, holdout, cancel=cancel)
                )
            except EvaluationCancelledError as error:
                outcome.append(error)

        thread = threading.Thread(target=run)
        thread.start()
        time.sleep(1.0)
        cancelled_at = time.monotonic()
        cancel.cancel("the proposal was decided (REJECTED)")
        thread.join(30)
        assert time.monotonic() - cancelled_at < 2.0
        [error] = outcome
        assert isinstance(error, EvaluationCancelledError), error
        assert error.reason == "the proposal was decided (REJECTED)"
        assert str(error).startswith(
            "evaluation cancelled: the proposal was decided (REJECTED) after "
        )
        assert 0.9 < error.seconds < 5
        # The zygote serves on.
        assert evaluator.evaluate(LR_MODEL, TASK, holdout).error_code is None


def test_an_evaluation_cancelled_before_it_starts_runs_nothing(holdout: Holdout) -> None:
    cancel = Cancellation()
    cancel.cancel("the proposal was decided (ACCEPTED)")
    with Evaluator(LIMITS) as evaluator, pytest.raises(EvaluationCancelledError) as raised:
        evaluator.evaluate(LR_MODEL, TASK, holdout, cancel=cancel)
    assert raised.value.seconds == 0.0
    assert evaluator._zygote is None  # nothing was started


def test_evaluations_starting_together_share_the_zygote_they_started(holdout: Holdout) -> None:
    """The zygote says it is ready once: a second evaluation must not wait 60 s for it."""
    reports: list[object] = []
    with Evaluator(LIMITS) as evaluator:
        threads = [
            threading.Thread(
                target=lambda: reports.append(evaluator.evaluate(LR_MODEL, TASK, holdout))
            )
            for _ in range(2)
        ]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(40)
        assert time.monotonic() - started < 30
    assert [getattr(r, "error_code", r) for r in reports] == [None, None]
