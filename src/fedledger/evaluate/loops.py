"""The static bound on a model's loops: every Loop and Scan must iterate a number of times known
before the model runs, and all of them together (multiplied through nesting) at most a limit.

Every other ONNX operator does work bounded by the size of its inputs and outputs, which the
sandbox's memory limit bounds; only Loop (until its condition turns false, or up to a trip
count computed at run time) and Scan (over a tensor computed at run time) can run without a
bound known beforehand. Recursion is impossible: model-local functions are refused earlier
(static._check_domains) and a graph cannot call itself otherwise. What a bounded model still
does inside its bound is the CPU budget's business (limits.Budget).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import onnx
from onnx import numpy_helper

from fedledger.evaluate.errors import UnboundedLoopError


def check_loops(graph: onnx.GraphProto, limit: int) -> None:
    """Raises UnboundedLoopError for a Loop or Scan whose iterations are not a constant, or
    whose iterations (times those of the loops around it) are over `limit`."""
    _check_graph(graph, {}, 1, limit)


def _constants(
    graph: onnx.GraphProto, outer: Mapping[str, onnx.TensorProto]
) -> dict[str, onnx.TensorProto]:
    """Tensors whose values are known before the model runs, visible in `graph`."""
    known = dict(outer)
    for tensor in graph.initializer:
        known[tensor.name] = tensor
    for node in graph.node:
        if node.op_type == "Constant" and node.domain in ("", "ai.onnx") and node.output:
            value = _constant_value(node)
            if value is not None:
                known[node.output[0]] = value
    return known


def _constant_value(node: onnx.NodeProto) -> onnx.TensorProto | None:
    for attr in node.attribute:
        if attr.name == "value":
            tensor: onnx.TensorProto = attr.t
            return tensor
        if attr.name == "value_int":
            return numpy_helper.from_array(np.array(attr.i, dtype=np.int64))
        if attr.name == "value_ints":
            return numpy_helper.from_array(np.array(list(attr.ints), dtype=np.int64))
    return None


def _check_graph(
    graph: onnx.GraphProto, outer: Mapping[str, onnx.TensorProto], around: int, limit: int
) -> None:
    known = _constants(graph, outer)
    for node in graph.node:
        iterations = 1
        if node.op_type == "Loop":
            iterations = _loop_iterations(node, known, limit)
        elif node.op_type == "Scan":
            iterations = _scan_iterations(node, known, limit)
        total = around * iterations
        if total > limit:
            raise UnboundedLoopError(
                f"{node.op_type} node {_name(node)!r} runs {iterations} times inside loops "
                f"running {around} times: {total} iterations, over the limit of {limit}"
            )
        for attr in node.attribute:
            for sub in [attr.g] if attr.HasField("g") else list(attr.graphs):
                _check_graph(sub, known, total, limit)


def _loop_iterations(
    node: onnx.NodeProto, known: Mapping[str, onnx.TensorProto], limit: int
) -> int:
    trip = node.input[0] if node.input else ""
    if not trip:
        raise UnboundedLoopError(
            f"Loop node {_name(node)!r} has no trip count: it runs until its condition turns "
            f"false, which cannot be bounded before it runs; give it a constant trip count "
            f"(an initializer) of at most {limit}"
        )
    if trip not in known:
        raise UnboundedLoopError(
            f"Loop node {_name(node)!r} has a trip count computed at run time ({trip!r}); a "
            f"Loop's trip count must be a constant (an initializer) of at most {limit}"
        )
    value = numpy_helper.to_array(known[trip])
    if value.size != 1 or not np.issubdtype(value.dtype, np.integer):
        raise UnboundedLoopError(
            f"Loop node {_name(node)!r} has a trip count {trip!r} that is not one integer"
        )
    count = int(value.reshape(-1)[0])
    if count > limit:
        raise UnboundedLoopError(
            f"Loop node {_name(node)!r} has a trip count of {count}, over the limit of {limit}"
        )
    return max(count, 0)


def _scan_iterations(
    node: onnx.NodeProto, known: Mapping[str, onnx.TensorProto], limit: int
) -> int:
    attrs = {a.name: a for a in node.attribute}
    scanned = int(attrs["num_scan_inputs"].i) if "num_scan_inputs" in attrs else 0
    axes = list(attrs["scan_input_axes"].ints) if "scan_input_axes" in attrs else []
    names = list(node.input)[len(node.input) - scanned :] if scanned else []
    for index, name in enumerate(names):
        if name in known:
            dims = list(known[name].dims)
            axis = axes[index] if index < len(axes) else 0
            # All scan inputs have the same length along their axes: one constant bounds them.
            count = int(dims[axis]) if dims and -len(dims) <= axis < len(dims) else 1
            if count > limit:
                raise UnboundedLoopError(
                    f"Scan node {_name(node)!r} iterates {count} times over {name!r}, over the "
                    f"limit of {limit}"
                )
            return count
    raise UnboundedLoopError(
        f"Scan node {_name(node)!r} iterates over tensors computed at run time ({names}); a "
        f"Scan must iterate over a constant (an initializer) of at most {limit} slices"
    )


def _name(node: onnx.NodeProto) -> str:
    return node.name or (node.output[0] if node.output else node.op_type)
