"""Fit an ONNX graph from another tool to a task: its inputs named and typed by the schema, its
outputs named as a validator reads them (docs/bring-your-own-model.md).

What is adapted, and nothing else:
- one numeric input of shape [N, F] holding every feature (F = the schema's feature count): it
  becomes one [N, 1] input per feature, joined by a Concat in `feature_order` (default: the
  schema's order). Only when every feature is numeric: a category cannot live in a float matrix.
- a classifier's outputs: the one rank-2 float tensor is the probabilities, the one integer
  tensor the label; each is renamed (an Identity node) to `probabilities` and `label`. Without
  an integer label (string labels, or none) the label is the most probable class (ArgMax).
Anything else that does not fit raises FitError naming the input or output and the fix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import onnx
from onnx import TensorProto, helper

from fedledger.models.errors import FitError
from fedledger.models.inputs import NumericDType
from fedledger.models.metadata import CLASSIFIER_OUTPUTS
from fedledger.schema.types import Schema

_NUMERIC: dict[int, NumericDType] = {TensorProto.FLOAT: "float32", TensorProto.DOUBLE: "float64"}
_INTEGER = frozenset({TensorProto.INT64, TensorProto.INT32})
_MATRIX = "fedledger_features"
# For graphs that import no standard opset: Concat, Identity and ArgMax as of opset 13.
DEFAULT_OPSET = 13
ZIPMAP_HINT = (
    "export it without ZipMap (skl2onnx: options={id(model): {'zipmap': False}}; "
    "onnxmltools: zipmap=False)"
)


@dataclass(frozen=True)
class FittedGraph:
    model: onnx.ModelProto
    numeric_dtype: NumericDType
    changes: tuple[str, ...]  # what was adapted, for the command's report


def fit_to_schema(
    model: onnx.ModelProto, schema: Schema, *, feature_order: Sequence[str] | None = None
) -> FittedGraph:
    """A copy of `model` whose inputs and outputs fit `schema`; raises FitError otherwise."""
    fitted = onnx.ModelProto()
    fitted.CopyFrom(model)
    changes: list[str] = []
    dtype = _fit_inputs(fitted, schema, list(feature_order or schema.feature_names), changes)
    if schema.target.is_classification:
        _fit_classifier_outputs(fitted, len(schema.target.classes), changes)
    else:
        _check_regression_output(fitted)
    if changes and not any(o.domain in ("", "ai.onnx") for o in fitted.opset_import):
        # A tree-only graph imports ai.onnx.ml alone; the nodes added here are standard ones.
        fitted.opset_import.append(helper.make_opsetid("", DEFAULT_OPSET))
    return FittedGraph(fitted, dtype, tuple(changes))


def check_width(source: str, width: int, schema: Schema) -> None:
    """A model fitted on a matrix must take exactly the task's features.

    Raises FitError naming both counts otherwise.
    """
    if width != len(schema.features):
        raise FitError(
            f"{source} takes {width} features; the task has {len(schema.features)} "
            f"({', '.join(schema.feature_names)}): train on exactly those columns"
        )


def _type_name(elem: int) -> str:
    return str(TensorProto.DataType.Name(elem))


def _dims(value: onnx.ValueInfoProto) -> list[int | None]:
    return [
        d.dim_value if d.HasField("dim_value") else None for d in value.type.tensor_type.shape.dim
    ]


def _real_inputs(model: onnx.ModelProto) -> list[onnx.ValueInfoProto]:
    initializers = {t.name for t in model.graph.initializer}
    return [i for i in model.graph.input if i.name not in initializers]


def _fit_inputs(
    model: onnx.ModelProto, schema: Schema, order: list[str], changes: list[str]
) -> NumericDType:
    inputs = _real_inputs(model)
    names = {i.name for i in inputs}
    if names == set(schema.feature_names):
        return _check_feature_inputs(inputs, schema)
    if len(inputs) == 1 and inputs[0].type.HasField("tensor_type"):
        return _split_matrix(model, inputs[0], schema, order, changes)
    missing = [n for n in schema.feature_names if n not in names]
    extra = sorted(names - set(schema.feature_names))
    raise FitError(
        f"the model's inputs {sorted(names)} are not the task's features: missing {missing}, "
        f"unexpected {extra}; export one [N, 1] input per feature named after it, or one "
        f"[N, {len(schema.features)}] FLOAT input holding every feature in the task's order"
    )


def _check_feature_inputs(inputs: list[onnx.ValueInfoProto], schema: Schema) -> NumericDType:
    by_name = {i.name: i for i in inputs}
    numeric: set[NumericDType] = set()
    for feature in schema.features:
        value = by_name[feature.name]
        elem = value.type.tensor_type.elem_type if value.type.HasField("tensor_type") else 0
        if feature.type == "category":
            if elem != TensorProto.STRING:
                raise FitError(
                    f"input {feature.name!r} is {_type_name(elem)}; the task's feature "
                    f"{feature.name!r} is a category: declare the input as a STRING tensor [N, 1]"
                )
        elif elem in _NUMERIC:
            numeric.add(_NUMERIC[elem])
        else:
            raise FitError(
                f"input {feature.name!r} is {_type_name(elem)}; the task's feature "
                f"{feature.name!r} is {feature.type}: declare the input as FLOAT or DOUBLE [N, 1]"
            )
        dims = _dims(value)
        if len(dims) != 2 or dims[1] not in (None, 1):
            raise FitError(f"input {feature.name!r} has shape {dims}; declare it as [N, 1]")
    return "float32" if "float32" in numeric or not numeric else "float64"


def _split_matrix(
    model: onnx.ModelProto,
    matrix: onnx.ValueInfoProto,
    schema: Schema,
    order: list[str],
    changes: list[str],
) -> NumericDType:
    """One input per feature, concatenated into the model's single [N, F] input."""
    elem = matrix.type.tensor_type.elem_type
    dims = _dims(matrix)
    where = f"the model's one input {matrix.name!r} ({_type_name(elem)} {dims})"
    categories = [f.name for f in schema.features if f.type == "category"]
    if categories:
        raise FitError(
            f"{where} is a numeric matrix, but the task's feature(s) {categories} are "
            "categories, which a matrix cannot carry: export one [N, 1] input per feature, "
            "category features as STRING (e.g. a scikit-learn pipeline with a OneHotEncoder, "
            "saved with skops)"
        )
    if elem not in _NUMERIC:
        raise FitError(f"{where} must be FLOAT or DOUBLE to hold the task's numeric features")
    if len(dims) != 2 or dims[1] not in (None, len(order)):
        raise FitError(
            f"{where} must have shape [N, {len(order)}]: one column per feature of the task, "
            f"in this order: {', '.join(order)}"
        )
    if sorted(order) != sorted(schema.feature_names):
        raise FitError(
            f"the model's columns {order} are not the task's features "
            f"{list(schema.feature_names)}; train it on exactly those columns"
        )
    graph = model.graph
    original = matrix.name
    _rename_value(graph, original, _MATRIX)
    graph.input.remove(matrix)
    per_feature = [helper.make_tensor_value_info(n, elem, [None, 1]) for n in schema.feature_names]
    graph.input.extend(per_feature)
    concat = helper.make_node("Concat", order, [_MATRIX], name="fedledger_concat", axis=1)
    graph.node.insert(0, concat)
    changes.append(
        f"input {original!r} of {len(order)} columns became one input per feature "
        f"(columns in the order {', '.join(order)})"
    )
    return _NUMERIC[elem]


def _rename_value(graph: onnx.GraphProto, old: str, new: str) -> None:
    for node in graph.node:
        for index, name in enumerate(node.input):
            if name == old:
                node.input[index] = new
        for attribute in node.attribute:
            if attribute.HasField("g"):
                _rename_value(attribute.g, old, new)
            for sub in attribute.graphs:
                _rename_value(sub, old, new)


def _fit_classifier_outputs(model: onnx.ModelProto, classes: int, changes: list[str]) -> None:
    label_name, proba_name = CLASSIFIER_OUTPUTS
    outputs = [_copy(o) for o in model.graph.output]  # the graph's own are replaced below
    maps = [o.name for o in outputs if not o.type.HasField("tensor_type")]
    matrices = [o for o in outputs if _is_float_matrix(o)]
    if len(matrices) != 1:
        found = [f"{o.name} ({_describe_output(o)})" for o in outputs]
        hint = f"; {ZIPMAP_HINT}" if maps else ""
        raise FitError(
            f"a classifier must output one FLOAT tensor [N, {classes}] of class probabilities; "
            f"this model outputs {found}{hint}"
        )
    [proba] = matrices
    width = _dims(proba)[1]
    if width not in (None, classes):
        raise FitError(
            f"output {proba.name!r} has {width} columns; the task has {classes} classes: "
            "output one probability per class, in the order of the task's classes"
        )
    integers = [o for o in outputs if o.type.tensor_type.elem_type in _INTEGER and o is not proba]
    label = integers[0] if len(integers) == 1 else None
    graph = model.graph
    del graph.output[:]
    probabilities = _renamed(graph, proba, proba_name, changes)
    if label is not None and label.type.tensor_type.elem_type == TensorProto.INT64:
        renamed = _renamed(graph, label, label_name, changes)
        if len(_dims(renamed)) == 1:  # onnxmltools declares some labels [1]; they are [N]
            renamed = helper.make_tensor_value_info(label_name, TensorProto.INT64, [None])
    else:
        node = helper.make_node(
            "ArgMax", [proba_name], [label_name], name="fedledger_label", axis=1, keepdims=0
        )
        graph.node.append(node)
        renamed = helper.make_tensor_value_info(label_name, TensorProto.INT64, [None])
        changes.append(f"output {label_name!r} is the most probable class (ArgMax)")
    graph.output.extend([renamed, probabilities])


def _renamed(
    graph: onnx.GraphProto, value: onnx.ValueInfoProto, name: str, changes: list[str]
) -> onnx.ValueInfoProto:
    if value.name == name:
        return value
    if any(name in node.output for node in graph.node):
        raise FitError(f"the model already has a value named {name!r} that is not an output")
    graph.node.append(helper.make_node("Identity", [value.name], [name], name=f"fedledger_{name}"))
    changes.append(f"output {value.name!r} is now named {name!r}")
    renamed = _copy(value)
    renamed.name = name
    return renamed


def _copy(value: onnx.ValueInfoProto) -> onnx.ValueInfoProto:
    copied = onnx.ValueInfoProto()
    copied.CopyFrom(value)
    return copied


def _is_float_matrix(value: onnx.ValueInfoProto) -> bool:
    tensor = value.type.tensor_type
    return (
        value.type.HasField("tensor_type")
        and tensor.elem_type in _NUMERIC
        and len(_dims(value)) == 2
    )


def _describe_output(value: onnx.ValueInfoProto) -> str:
    if not value.type.HasField("tensor_type"):
        return "not a tensor: a ZipMap sequence of maps?"
    return f"{_type_name(value.type.tensor_type.elem_type)} {_dims(value)}"


def _check_regression_output(model: onnx.ModelProto) -> None:
    outputs = list(model.graph.output)
    numeric = [o for o in outputs if o.type.tensor_type.elem_type in _NUMERIC]
    if len(outputs) != 1 or len(numeric) != 1:
        found = [f"{o.name} ({_describe_output(o)})" for o in outputs]
        raise FitError(
            f"a regressor must have exactly one FLOAT or DOUBLE output [N, 1] or [N]; this model "
            f"outputs {found}: remove the other outputs when exporting"
        )
