"""Hostile ONNX models built with onnx.helper, shared by the unit and integration tests: a
classifier (test_evaluate's hand-made tail) whose probability waits for a Loop."""

from __future__ import annotations

import onnx
from onnx import TensorProto, helper
from tests.unit.test_evaluate import SCHEMA, _handmade

from fedledger.schema.types import Schema

SIDE = 200  # a SIDE x SIDE matrix product per iteration: about 10 ms of CPU


def loop_body(heavy: bool) -> onnx.GraphProto:
    """(i, cond, a) -> (cond, tanh(a @ a)) when heavy, else (cond, a)."""
    nodes = [helper.make_node("Identity", ["cond_in"], ["cond_out"])]
    if heavy:
        nodes += [
            helper.make_node("MatMul", ["a_in", "a_in"], ["product"]),
            helper.make_node("Tanh", ["product"], ["a_out"]),
        ]
    else:
        nodes.append(helper.make_node("Identity", ["a_in"], ["a_out"]))
    return helper.make_graph(
        nodes,
        "body",
        [
            helper.make_tensor_value_info("i", TensorProto.INT64, []),
            helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
            helper.make_tensor_value_info("a_in", TensorProto.DOUBLE, None),
        ],
        [
            helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
            helper.make_tensor_value_info("a_out", TensorProto.DOUBLE, None),
        ],
    )


def loop_model(
    trips: int | None,
    *,
    trip_name: str = "trips",
    heavy: bool = True,
    name: str = "spin",
    schema: Schema = SCHEMA,
    task_id: str = "loans",
) -> onnx.ModelProto:
    """A classifier whose probability waits for a Loop over a SIDE x SIDE matrix. `trips` None:
    the trip count is computed at run time (from the holdout's row count)."""
    initializers = [
        helper.make_tensor("shape", TensorProto.INT64, [2], [SIDE, SIDE]),
        helper.make_tensor("seed", TensorProto.DOUBLE, [], [0.01]),
        helper.make_tensor("yes", TensorProto.BOOL, [], [True]),
        helper.make_tensor("zero", TensorProto.DOUBLE, [], [0.0]),
    ]
    nodes = [helper.make_node("Expand", ["seed", "shape"], ["a0"])]
    if trips is None:
        nodes.append(helper.make_node("Size", ["x0"], [trip_name]))
    elif trip_name:
        initializers.append(helper.make_tensor(trip_name, TensorProto.INT64, [], [trips]))
    nodes += [
        helper.make_node(
            "Loop", [trip_name, "yes", "a0"], ["a_end"], body=loop_body(heavy), name=name
        ),
        helper.make_node("ReduceMean", ["a_end"], ["mean"], keepdims=0),
        helper.make_node("Mul", ["mean", "zero"], ["nothing"]),
        helper.make_node("Add", ["x0", "nothing"], ["shifted"]),
        helper.make_node("Sigmoid", ["shifted"], ["p"]),
    ]
    return _handmade(nodes, initializers, schema=schema, task_id=task_id)
