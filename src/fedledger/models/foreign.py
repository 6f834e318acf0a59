"""`fedledger models convert`: a model as its owner saved it -> an ONNX file that fits a task.

The file's suffix says what it is: `.skops` (scikit-learn, loaded with skops), `.json`/`.ubj`
(XGBoost `save_model`), `.txt` (LightGBM booster `save_model`), `.onnx` (any tool). Every path
ends with the same fedledger metadata the project's own models carry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import onnx

from fedledger.models.boosters import lightgbm_to_onnx, xgboost_to_onnx
from fedledger.models.conversion import library_versions, set_metadata
from fedledger.models.errors import ConversionError
from fedledger.models.fitting import fit_to_schema
from fedledger.models.metadata import ModelMetadata, parse_model
from fedledger.models.skops_files import skops_to_graph
from fedledger.schema.types import Schema

SUFFIXES = {
    ".skops": "scikit-learn (skops)",
    ".json": "XGBoost",
    ".ubj": "XGBoost",
    ".txt": "LightGBM",
    ".onnx": "ONNX",
}


@dataclass(frozen=True)
class ConvertedModel:
    data: bytes
    source: str  # one of SUFFIXES' values
    changes: tuple[str, ...] = ()  # what was adapted to fit the task


def convert_file(
    path: Path, schema: Schema, task_id: str, *, trusted: Sequence[str] = ()
) -> ConvertedModel:
    """Convert the model in `path` for task `task_id`.

    Raises ConversionError (FitError: an input or output does not fit; UntrustedTypesError:
    skops types not in `trusted`; MissingLibraryError: the boosters extra is missing) and
    MalformedModelError for an unreadable ONNX file.
    """
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ConversionError(
            f"{path}: cannot tell the model's kind from the suffix {suffix!r}; name it "
            + ", ".join(f"{s} ({kind})" for s, kind in SUFFIXES.items())
        )
    if not path.is_file():
        raise ConversionError(f"{path}: no such file")
    if suffix == ".skops":
        graph, names = skops_to_graph(path, schema, trusted)
    elif suffix == ".onnx":
        graph, names = parse_model(path.read_bytes()), None
    elif suffix == ".txt":
        graph, names = lightgbm_to_onnx(path, schema)
    else:
        graph, names = xgboost_to_onnx(path, schema)
    fitted = fit_to_schema(graph, schema, feature_order=names)
    libraries = library_versions()
    if graph.producer_name and suffix == ".onnx":
        libraries["producer"] = f"{graph.producer_name} {graph.producer_version}".strip()
    _drop_fedledger_metadata(fitted.model)
    metadata = ModelMetadata(
        task_id=task_id,
        schema_sha256=schema.sha256(),
        kind="classification" if schema.target.is_classification else "regression",
        numeric_dtype=fitted.numeric_dtype,
        training_rows=0,
        libraries=libraries,
    )
    set_metadata(fitted.model, metadata)
    return ConvertedModel(bytes(fitted.model.SerializeToString()), SUFFIXES[suffix], fitted.changes)


def _drop_fedledger_metadata(model: onnx.ModelProto) -> None:
    """A model converted for another task gets this task's metadata, not both."""
    kept = [p for p in model.metadata_props if not p.key.startswith("fedledger.")]
    del model.metadata_props[:]
    model.metadata_props.extend(kept)
