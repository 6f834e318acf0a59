"""Checks made on a model file before any of it runs."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import onnx

from fedledger.evaluate.errors import (
    CustomOperatorError,
    ExternalDataError,
    GraphTooComplexError,
    InputSignatureError,
    InvalidModelError,
    ModelSizeError,
    OutputSignatureError,
    UnsupportedVersionError,
)
from fedledger.evaluate.limits import SandboxLimits
from fedledger.evaluate.loops import check_loops
from fedledger.evaluate.policy import Task
from fedledger.evaluate.runtime_support import RuntimeSupport, domain_name, installed_support
from fedledger.models.metadata import CLASSIFIER_OUTPUTS, ModelMetadata, check_metadata, parse_model
from fedledger.models.metadata import read_metadata as read_model_metadata

ALLOWED_DOMAINS = frozenset({"", "ai.onnx", "ai.onnx.ml"})
_NUMERIC: dict[int, str] = {onnx.TensorProto.FLOAT: "float32", onnx.TensorProto.DOUBLE: "float64"}


@dataclass(frozen=True)
class CheckedModel:
    model: onnx.ModelProto
    metadata: ModelMetadata
    input_dtypes: dict[str, str]  # feature name -> "float32", "float64" or "str"
    outputs: tuple[str, ...]  # ("label", "probabilities") or the regression output's name


def check_model(
    model_bytes: bytes,
    task: Task,
    limits: SandboxLimits,
    support: RuntimeSupport | None = None,
) -> CheckedModel:
    """Every static check, cheapest and most fundamental first; raises the first failure.
    `support` is what the evaluation's onnxruntime loads (by default the installed one's).

    ModelSizeError over the task's size limit, UnsupportedVersionError for an IR version or
    opset newer than `support`, UnboundedLoopError for a Loop or Scan without a constant bound
    (loops.py), InvalidModelError for anything else the checks refuse; EvaluatorError when the
    installed onnxruntime cannot be probed.
    """
    if len(model_bytes) > task.policy.max_model_bytes:
        raise ModelSizeError(len(model_bytes), task.policy.max_model_bytes)
    model = parse_model(model_bytes)
    _check_external_data(model)
    _check_domains(model)
    _check_versions(model, support or installed_support())
    _check_complexity(model.graph, limits)
    try:
        onnx.checker.check_model(model)
    except (onnx.checker.ValidationError, ValueError) as exc:
        raise InvalidModelError(f"onnx.checker refused the model: {exc}") from None
    check_loops(model.graph, limits.max_loop_iterations)
    metadata = read_model_metadata(model, task.task_id)
    check_metadata(metadata, task.task_id, task.schema)
    return CheckedModel(model, metadata, _check_inputs(model, task), _check_outputs(model, task))


def _graphs(graph: onnx.GraphProto, depth: int = 0) -> Iterator[tuple[onnx.GraphProto, int]]:
    yield graph, depth
    for node in graph.node:
        for attr in node.attribute:
            for sub in [attr.g] if attr.HasField("g") else list(attr.graphs):
                yield from _graphs(sub, depth + 1)


def _tensors(graph: onnx.GraphProto) -> Iterator[onnx.TensorProto]:
    yield from graph.initializer
    for sparse in graph.sparse_initializer:
        yield sparse.values
        yield sparse.indices
    for node in graph.node:
        for attr in node.attribute:
            if attr.HasField("t"):
                yield attr.t
            yield from attr.tensors


def _check_external_data(model: onnx.ModelProto) -> None:
    for graph, _ in _graphs(model.graph):
        for tensor in _tensors(graph):
            if tensor.data_location == onnx.TensorProto.EXTERNAL or len(tensor.external_data):
                where = next((e.value for e in tensor.external_data if e.key == "location"), "?")
                raise ExternalDataError(
                    f"tensor {tensor.name!r} refers to external data {where!r}; "
                    "a model must be one self-contained file"
                )


def _check_domains(model: onnx.ModelProto) -> None:
    for opset in model.opset_import:
        if opset.domain not in ALLOWED_DOMAINS:
            raise CustomOperatorError(
                f"model imports operator domain {opset.domain!r}; only ai.onnx and ai.onnx.ml "
                "are allowed"
            )
    if len(model.functions):
        raise CustomOperatorError(
            f"model defines local functions ({model.functions[0].domain}."
            f"{model.functions[0].name}); only standard operators are allowed"
        )
    for graph, _ in _graphs(model.graph):
        for node in graph.node:
            if node.domain not in ALLOWED_DOMAINS:
                raise CustomOperatorError(
                    f"node {node.name or node.op_type!r} uses operator {node.domain}.{node.op_type}"
                    "; only ai.onnx and ai.onnx.ml are allowed"
                )


def _check_versions(model: onnx.ModelProto, support: RuntimeSupport) -> None:
    runtime = f"onnxruntime {support.onnxruntime}, which the validators evaluate with,"
    if model.ir_version > support.ir_version:
        raise UnsupportedVersionError(
            f"model has IR version {model.ir_version}; {runtime} reads IR versions up to "
            f"{support.ir_version} (export the model with that IR version)"
        )
    for opset in model.opset_import:
        domain = "" if opset.domain == "ai.onnx" else opset.domain
        highest = support.opsets.get(domain)
        if highest is not None and opset.version > highest:
            raise UnsupportedVersionError(
                f"model imports {domain_name(domain)} opset {opset.version}; {runtime} supports "
                f"{domain_name(domain)} up to opset {highest} (export the model for that opset)"
            )


def _check_complexity(graph: onnx.GraphProto, limits: SandboxLimits) -> None:
    nodes = subgraphs = 0
    for sub, depth in _graphs(graph):
        if depth > limits.max_subgraph_depth:
            raise GraphTooComplexError(
                f"subgraphs nest {depth} deep, over the limit of {limits.max_subgraph_depth}"
            )
        subgraphs += depth > 0
        nodes += len(sub.node)
    if subgraphs > limits.max_subgraphs:
        raise GraphTooComplexError(
            f"{subgraphs} subgraphs, over the limit of {limits.max_subgraphs}"
        )
    if nodes > limits.max_nodes:
        raise GraphTooComplexError(f"{nodes} nodes, over the limit of {limits.max_nodes}")


def _real_inputs(model: onnx.ModelProto) -> list[onnx.ValueInfoProto]:
    initializers = {t.name for t in model.graph.initializer}
    return [i for i in model.graph.input if i.name not in initializers]


def _dims(value: onnx.ValueInfoProto) -> list[int | None]:
    return [
        d.dim_value if d.HasField("dim_value") else None for d in value.type.tensor_type.shape.dim
    ]


def _check_inputs(model: onnx.ModelProto, task: Task) -> dict[str, str]:
    schema = task.schema
    inputs = {i.name: i for i in _real_inputs(model)}
    missing = [n for n in schema.feature_names if n not in inputs]
    extra = sorted(set(inputs) - set(schema.feature_names))
    if missing or extra:
        raise InputSignatureError(
            f"model inputs must be the schema's features: missing {missing}, unexpected {extra}"
        )
    dtypes: dict[str, str] = {}
    for feature in schema.features:
        value = inputs[feature.name]
        if not value.type.HasField("tensor_type"):
            raise InputSignatureError(f"input {feature.name!r} is not a tensor")
        elem = value.type.tensor_type.elem_type
        type_name = onnx.TensorProto.DataType.Name(elem)
        if feature.type == "category":
            if elem != onnx.TensorProto.STRING:
                raise InputSignatureError(
                    f"input {feature.name!r} is {type_name}; a category feature needs STRING"
                )
            dtypes[feature.name] = "str"
        elif elem in _NUMERIC:
            dtypes[feature.name] = _NUMERIC[elem]
        else:
            raise InputSignatureError(
                f"input {feature.name!r} is {type_name}; a {feature.type} feature needs "
                "FLOAT or DOUBLE"
            )
        dims = _dims(value)
        if len(dims) != 2 or dims[1] != 1 or dims[0] not in (None, 0):
            raise InputSignatureError(f"input {feature.name!r} has shape {dims}; expected [N, 1]")
    return dtypes


def _check_outputs(model: onnx.ModelProto, task: Task) -> tuple[str, ...]:
    outputs = {o.name: o for o in model.graph.output}
    if task.schema.target.is_classification:
        label, proba = CLASSIFIER_OUTPUTS
        if label not in outputs or proba not in outputs:
            raise OutputSignatureError(
                f"a classifier must output {label!r} and {proba!r} (convert with zipmap=False); "
                f"this model outputs {sorted(outputs)}"
            )
        _expect_tensor(outputs[label], {onnx.TensorProto.INT64}, (1, 2))
        _expect_tensor(outputs[proba], set(_NUMERIC), (2,))
        classes = len(task.schema.target.classes)
        width = _dims(outputs[proba])[1]
        if width not in (None, classes):
            raise OutputSignatureError(
                f"output {proba!r} has {width} columns; the task has {classes} classes"
            )
        return (label, proba)
    if len(outputs) != 1:
        raise OutputSignatureError(
            f"a regressor must have exactly one output; this model has {sorted(outputs)}"
        )
    [value] = outputs.values()
    _expect_tensor(value, set(_NUMERIC), (1, 2))
    if len(_dims(value)) == 2 and _dims(value)[1] not in (None, 1):
        raise OutputSignatureError(
            f"output {value.name!r} has shape {_dims(value)}; expected [N, 1]"
        )
    return (value.name,)


def _expect_tensor(
    value: onnx.ValueInfoProto, elem_types: set[int], ranks: tuple[int, ...]
) -> None:
    if not value.type.HasField("tensor_type"):
        raise OutputSignatureError(f"output {value.name!r} is not a tensor (ZipMap output?)")
    elem = value.type.tensor_type.elem_type
    if elem not in elem_types:
        wanted = sorted(onnx.TensorProto.DataType.Name(e) for e in elem_types)
        raise OutputSignatureError(
            f"output {value.name!r} is {onnx.TensorProto.DataType.Name(elem)}; expected {wanted}"
        )
    rank = len(_dims(value))
    if value.type.tensor_type.HasField("shape") and rank not in ranks:
        raise OutputSignatureError(f"output {value.name!r} has rank {rank}; expected {ranks}")
