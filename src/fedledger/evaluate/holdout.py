"""A validator's holdout: read and validated once, encoded to .npy files the sandbox maps."""

from __future__ import annotations

import shutil
import tempfile
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
    """Reuse one Holdout for many evaluations; its input files are written once per dtype."""

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
        files: dict[str, Path] = {}
        for name, dtype in dtypes.items():
            key = (name, dtype)
            if key not in self._files:
                numeric: NumericDType = "float32" if dtype == "float32" else "float64"
                array = frame_to_feeds(self.frame[[name]], _one(self.schema, name), numeric)[name]
                path = self._dir / f"{len(self._files)}.npy"
                np.save(path, array, allow_pickle=False)
                self._files[key] = path
            files[name] = self._files[key]
        return files

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
