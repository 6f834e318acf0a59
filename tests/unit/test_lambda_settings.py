"""The two Lambda handlers' settings: the shared FEDLEDGER_* variables read by one reader
(aws/settings.py), each handler adding its own; every error names the variable to set."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fedledger.aws.serving_handler import LambdaSettings
from fedledger.aws.settings import LambdaEnvironment, read_common
from fedledger.aws.upload_handler import UploadSettings
from fedledger.serving.errors import ServingConfigError
from fedledger.store.base import DEFAULT_MAX_BYTES
from fedledger.upload.errors import UploadError

SERVING = {"FEDLEDGER_TASK": "t", "FEDLEDGER_STORE": "s3://b/m"}
UPLOAD = {"FEDLEDGER_ORG": "Org1MSP", "FEDLEDGER_STORE": "s3://b/m"}


@pytest.mark.parametrize(
    ("read", "error", "environ", "message"),
    [
        (LambdaSettings.from_environment, ServingConfigError, {},
         "set FEDLEDGER_TASK and FEDLEDGER_STORE in the function's environment"),
        (LambdaSettings.from_environment, ServingConfigError, {"FEDLEDGER_TASK": "t"},
         "set FEDLEDGER_STORE in the function's environment"),
        (LambdaSettings.from_environment, ServingConfigError,
         {**SERVING, "FEDLEDGER_CHAMPION_CHECK_SECONDS": "soon"},
         "FEDLEDGER_CHAMPION_CHECK_SECONDS is 'soon': give a number of seconds >= 0"),
        (LambdaSettings.from_environment, ServingConfigError,
         {**SERVING, "FEDLEDGER_CHAMPION_CHECK_SECONDS": "-1"},
         "FEDLEDGER_CHAMPION_CHECK_SECONDS is '-1': give a number of seconds >= 0"),
        (LambdaSettings.from_environment, ServingConfigError,
         {**SERVING, "FEDLEDGER_CHAMPION_CHECK_SECONDS": "nan"},
         "FEDLEDGER_CHAMPION_CHECK_SECONDS is 'nan': give a number of seconds >= 0"),
        (UploadSettings.from_environment, UploadError, {},
         "set FEDLEDGER_ORG and FEDLEDGER_STORE in the function's environment"),
        (UploadSettings.from_environment, UploadError, {**UPLOAD, "FEDLEDGER_ORG": ""},
         "set FEDLEDGER_ORG in the function's environment"),
        (UploadSettings.from_environment, UploadError, {**UPLOAD, "FEDLEDGER_MAX_BYTES": "1e6"},
         "FEDLEDGER_MAX_BYTES is '1e6': give a whole number of bytes >= 1"),
        (UploadSettings.from_environment, UploadError, {**UPLOAD, "FEDLEDGER_MAX_BYTES": "0"},
         "FEDLEDGER_MAX_BYTES is '0': give a whole number of bytes >= 1"),
    ],
)  # fmt: skip
def test_each_error_names_the_variable_to_set_in_the_handlers_own_error(
    read: Any, error: type[Exception], environ: dict[str, str], message: str
) -> None:
    with pytest.raises(error) as caught:
        read(environ)
    assert str(caught.value) == message


def test_both_handlers_read_the_shared_variables_the_same_way() -> None:
    shared = {"FEDLEDGER_PROFILE": "/opt/p.yaml", "FEDLEDGER_ORG": "Org2MSP",
              "FEDLEDGER_STORE": "s3://b/m", "FEDLEDGER_TASK": "t"}  # fmt: skip
    serving = LambdaSettings.from_environment(shared)
    upload = UploadSettings.from_environment(shared)
    assert upload.common == LambdaEnvironment(Path("/opt/p.yaml"), "Org2MSP", "s3://b/m", "t")
    assert (serving.profile, serving.org, serving.store, serving.task) == (
        upload.common.profile,
        upload.common.org,
        upload.common.store,
        upload.common.task,
    )
    assert upload.org == "Org2MSP"


def test_defaults() -> None:
    serving = LambdaSettings.from_environment(SERVING)
    assert (serving.profile, serving.org, serving.check_seconds) == (
        Path("connection-profile.yaml"),
        None,
        30.0,
    )
    upload = UploadSettings.from_environment({**UPLOAD, "FEDLEDGER_MAX_BYTES": ""})
    assert upload.common == LambdaEnvironment(
        Path("connection-profile.yaml"), "Org1MSP", "s3://b/m", None
    )
    assert (upload.watch_prefix, upload.max_bytes) == ("", DEFAULT_MAX_BYTES)
    given = UploadSettings.from_environment(
        {**UPLOAD, "FEDLEDGER_MAX_BYTES": "2048", "FEDLEDGER_WATCH_PREFIX": "incoming"}
    )
    assert (given.watch_prefix, given.max_bytes) == ("incoming", 2048)


def test_the_store_is_required_whatever_a_handler_requires() -> None:
    with pytest.raises(ValueError) as caught:
        read_common({"FEDLEDGER_TASK": "t"}, ["FEDLEDGER_TASK", "FEDLEDGER_STORE"], ValueError)
    assert str(caught.value) == "set FEDLEDGER_STORE in the function's environment"
    with pytest.raises(KeyError) as three:
        read_common({}, ["FEDLEDGER_PROFILE", "FEDLEDGER_ORG"], KeyError)
    assert three.value.args == (
        "set FEDLEDGER_PROFILE, FEDLEDGER_ORG and FEDLEDGER_STORE in the function's environment",
    )
