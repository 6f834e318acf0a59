"""XGBoost and LightGBM boosters -> ONNX with onnxmltools, fitted to the task's schema.

Both libraries are the optional `boosters` extra; a booster takes one float32 matrix, which
`fitting.fit_to_schema` splits into one input per feature (columns in the booster's recorded
feature names when it has them, else in the schema's order).
"""

from __future__ import annotations

import json
import re
from importlib import import_module
from pathlib import Path
from types import ModuleType
from typing import Any

import onnx

from fedledger.models.errors import ConversionError, FitError, MissingLibraryError
from fedledger.models.fitting import check_width
from fedledger.schema.types import Schema

# onnxmltools' tree converters write at most this opset of the default domain.
BOOSTER_OPSET = 15
_UNNAMED = re.compile(r"(Column_|f)\d+")


def _library(name: str, what: str) -> ModuleType:
    try:
        return import_module(name)
    except ImportError:
        raise MissingLibraryError(
            f"converting {what} needs the {name} package, which is not installed: run "
            "`uv sync --extra boosters` (or pip install 'fedledger[boosters]')"
        ) from None


def xgboost_to_onnx(path: Path, schema: Schema) -> tuple[onnx.ModelProto, list[str] | None]:
    """The ONNX graph of an XGBoost model saved with `save_model` (.json or .ubj) and its
    recorded feature names. Raises MissingLibraryError, ConversionError, FitError."""
    xgboost = _library("xgboost", "an XGBoost model")
    try:
        booster = xgboost.Booster(model_file=str(path))
    except Exception as error:  # xgboost.core.XGBoostError, raised for any unreadable file
        raise ConversionError(f"cannot read {path} as an XGBoost model: {error}") from None
    config = json.loads(booster.save_config())
    objective = str(config["learner"]["objective"]["name"])
    _check_objective(path, objective, schema, ("binary:", "multi:softprob"), "reg:")
    check_width(str(path), booster.num_features(), schema)
    names = _names(booster.feature_names)
    booster.feature_names = None  # onnxmltools reads only its own f0, f1, ... placeholders
    from onnxmltools import convert_xgboost

    return _convert(convert_xgboost, booster, schema, path), names


def lightgbm_to_onnx(path: Path, schema: Schema) -> tuple[onnx.ModelProto, list[str] | None]:
    """The ONNX graph of a LightGBM booster saved with `save_model` (.txt) and its feature
    names. Raises MissingLibraryError, ConversionError, FitError."""
    lightgbm = _library("lightgbm", "a LightGBM model")
    try:
        booster = lightgbm.Booster(model_file=str(path))
    except Exception as error:  # lightgbm.basic.LightGBMError for any unreadable file
        raise ConversionError(f"cannot read {path} as a LightGBM model: {error}") from None
    objective = str(booster.dump_model()["objective"]).split(" ")[0]
    _check_objective(path, objective, schema, ("binary", "multiclass"), "regression")
    check_width(str(path), booster.num_feature(), schema)
    from onnxmltools import convert_lightgbm

    model = _convert(convert_lightgbm, booster, schema, path, zipmap=False)
    return model, _names(booster.feature_name())


def _check_objective(
    path: Path, objective: str, schema: Schema, classifying: tuple[str, ...], regressing: str
) -> None:
    is_classifier = objective.startswith(classifying)
    if is_classifier == schema.target.is_classification and (
        is_classifier or objective.startswith(regressing)
    ):
        return
    wanted = "a classification" if schema.target.is_classification else "a regression"
    raise FitError(f"{path} was trained with objective {objective!r}; the task needs {wanted} one")


def _convert(converter: Any, booster: Any, schema: Schema, path: Path, **options: Any) -> Any:
    from onnxmltools.convert.common.data_types import FloatTensorType

    try:
        return converter(
            booster,
            initial_types=[("features", FloatTensorType([None, len(schema.features)]))],
            target_opset=BOOSTER_OPSET,
            **options,
        )
    except Exception as error:  # onnxmltools raises RuntimeError, ValueError, NotImplemented...
        raise ConversionError(f"onnxmltools cannot convert {path}: {error}") from None


def _names(names: list[str] | None) -> list[str] | None:
    """Feature names the booster recorded; the libraries' placeholders (f0, Column_0) are none."""
    if not names or all(_UNNAMED.fullmatch(n) for n in names):
        return None
    return list(names)
