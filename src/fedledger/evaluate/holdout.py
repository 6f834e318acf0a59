"""A validator's holdout: read and validated once, encoded to .npy files the sandbox maps."""

from __future__ import annotations

import shutil
import tempfile
import threading
from pathlib import Path
from types import TracebackType

import numpy as np
import numpy.typing as npt
import pandas as pd

from fedledger.evaluate.errors import HoldoutError
from fedledger.models.inputs import NumericDType, encode_target, frame_to_feeds
from fedledger.schema.conform import DataFileError, conform_file
from fedledger.schema.types import Schema
from fedledger.schema.validate import validate_frame


class Holdout:
    """Reuse one Holdout for many evaluations, also at once from several threads; its input
    files are written once per feature and dtype."""

    def __init__(self, frame: pd.DataFrame, schema: Schema, *, source: str = "holdout") -> None:
        report = validate_frame(frame, schema)
        if not report.ok:
            raise HoldoutError(
                f"{source} does not match the task schema: "
                + "; ".join(p.message for p in report.problems)
            )
        self.schema = schema
        self.source = source
        self.frame = frame
        self.rows = len(frame)
        self.y: npt.NDArray[np.generic] = encode_target(frame, schema)
        self._dir = Path(tempfile.mkdtemp(prefix="fedledger-holdout-"))
        self._files: dict[tuple[str, str], Path] = {}
        # Evaluations running at once (a validator's slots) ask for the same files: without it
        # two of them wrote different features to one file name, and a model was scored on
        # the wrong columns (an honest model rejected at roc_auc 0.47 under CI load).
        self._files_lock = threading.Lock()

    @classmethod
    def load(cls, path: str | Path, schema: Schema) -> Holdout:
        """Read as `fedledger data check` reads it (schema/conform.py): the same rules and the
        same normalisation. Raises HoldoutError naming the rows that cannot be used."""
        try:
            conformed = conform_file(path, schema)
        except DataFileError as error:
            raise HoldoutError(f"holdout {error}") from error
        if conformed.refused:
            raise HoldoutError(
                f"holdout {path} does not match the task schema: "
                f"{conformed.describe_refusals()}; `fedledger data check --task <task> {path}` "
                "lists every row"
            )
        return cls(conformed.typed_frame(), schema, source=str(path))

    def input_files(self, dtypes: dict[str, str]) -> dict[str, Path]:
        """One .npy per feature in the dtype the model declares ("float32", "float64", "str")."""
        with self._files_lock:
            return {name: self._input_file(name, dtype) for name, dtype in dtypes.items()}

    def _input_file(self, name: str, dtype: str) -> Path:
        key = (name, dtype)
        if key not in self._files:
            numeric: NumericDType = "float32" if dtype == "float32" else "float64"
            array = frame_to_feeds(self.frame[[name]], _one(self.schema, name), numeric)[name]
            # Named after what it holds, and complete before it has that name: a child maps
            # the file by name while later evaluations may still be writing others.
            path = self._dir / f"{self.schema.feature_names.index(name)}-{dtype}.npy"
            partial = path.with_suffix(".partial")
            with partial.open("wb") as out:
                np.save(out, array, allow_pickle=False)
            partial.replace(path)
            self._files[key] = path
        return self._files[key]

    def close(self) -> None:
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> Holdout:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _one(schema: Schema, name: str) -> Schema:
    return Schema((schema.feature(name),), schema.target)
