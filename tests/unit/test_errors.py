"""Each package's errors derive from its one root, and the command line maps every root."""

from __future__ import annotations

import importlib

import pytest
import typer

from fedledger import ca
from fedledger.backends import BackendError
from fedledger.channelconfig import errors as channelconfig
from fedledger.cli.failures import PACKAGE_ROOTS, failures, is_package_error
from fedledger.embedded.channel_config import SubmitterRefusedError
from fedledger.embedded.errors import (
    ChaincodeNotBuiltError,
    EmbeddedAlreadyRunningError,
    EmbeddedLedgerError,
)
from fedledger.evaluate import errors as evaluate
from fedledger.evaluate.zygote import ZygoteGoneError
from fedledger.fabric import errors as fabric
from fedledger.installation import InstallationError
from fedledger.models import errors as models
from fedledger.network.errors import AlreadyRunningError, NetworkError
from fedledger.network.packaging import PackagingError
from fedledger.network.peercli import CommandError
from fedledger.network.validators import ValidatorExitedError, ValidatorsSpecError
from fedledger.orgs.errors import OrgError, OrgFileError, OrgFolderError
from fedledger.orgs.msp import MspFolderError
from fedledger.registry.errors import ChaincodeRefusalError, RecordError, RegistryError
from fedledger.registry.evaluation import SchemaHashMismatchError
from fedledger.runtime.definition import DefinitionError
from fedledger.runtime.errors import PortsUnavailableError, RuntimeLayerError
from fedledger.runtime.health import NotReadyError
from fedledger.schema.errors import TaskSchemaError
from fedledger.schema.types import SchemaError
from fedledger.schema.validate import SchemaValidationError
from fedledger.store import errors as store
from fedledger.task_source import TaskFileError
from fedledger.validator import errors as validator
from fedledger.validator.config import ConfigError

EVALUATE_MODEL_FAULTS = [
    evaluate.ModelSizeError,
    evaluate.ExternalDataError,
    evaluate.CustomOperatorError,
    evaluate.GraphTooComplexError,
    evaluate.InvalidModelError,
    evaluate.InputSignatureError,
    evaluate.OutputSignatureError,
    evaluate.InvalidOutputError,
    evaluate.InferenceFailedError,
    evaluate.ResourceLimitError,
    evaluate.UnboundedLoopError,
]

# package root → the public errors that must derive from it
HIERARCHY: dict[type[Exception], list[type[Exception]]] = {
    BackendError: [],
    ca.CaError: [
        ca.CaInputError,
        ca.CaUnreachableError,
        ca.CaTlsError,
        ca.CaResponseError,
        ca.CaRefusedError,
        ca.CaAuthenticationError,
    ],
    channelconfig.ChannelConfigError: [
        channelconfig.NoChangeError,
        channelconfig.MembershipError,
        channelconfig.UpdateFileError,
        channelconfig.UpdateRefusedError,
        channelconfig.PolicyNotSatisfiedError,
        channelconfig.BroadcastError,
        SubmitterRefusedError,
    ],
    OrgError: [OrgFolderError, OrgFileError, MspFolderError],
    EmbeddedLedgerError: [EmbeddedAlreadyRunningError, ChaincodeNotBuiltError],
    evaluate.EvaluationError: [
        evaluate.ModelFaultError,
        *EVALUATE_MODEL_FAULTS,
        evaluate.EvaluatorError,
        evaluate.HoldoutError,
        evaluate.SandboxStarvedError,
        evaluate.EvaluationCancelledError,
        ZygoteGoneError,
    ],
    fabric.FabricError: [
        fabric.GatewayError,
        fabric.TransactionError,
        fabric.EvaluateError,
        fabric.EndorseError,
        fabric.SubmitError,
        fabric.CommitStatusError,
        fabric.CommitError,
        fabric.EventsError,
    ],
    InstallationError: [],
    models.ModelError: [
        models.MalformedModelError,
        models.ConversionError,
        models.MetadataError,
        models.NotFedledgerModelError,
        models.FitError,
        models.UntrustedTypesError,
        models.MissingLibraryError,
        models.TaskMismatchError,
        models.SchemaMismatchError,
        evaluate.ModelFaultError,
        *EVALUATE_MODEL_FAULTS,
    ],
    NetworkError: [AlreadyRunningError, PackagingError, CommandError, ValidatorsSpecError],
    RegistryError: [RecordError, ChaincodeRefusalError, SchemaHashMismatchError],
    RuntimeLayerError: [
        DefinitionError,
        NotReadyError,
        PortsUnavailableError,
        ValidatorExitedError,
    ],
    TaskSchemaError: [SchemaError, SchemaValidationError, TaskFileError],
    store.StoreError: [
        store.InvalidUriError,
        store.ObjectNotFoundError,
        store.HashMismatchError,
        store.ModelTooLargeError,
        store.StoreUnavailableError,
    ],
    validator.ValidatorError: [
        validator.InvalidRequestError,
        validator.NotFoundError,
        validator.NotReadyError,
        validator.LimitExceededError,
        validator.UnavailableError,
        validator.ModelRejectedError,
        validator.StartError,
        ConfigError,
    ],
}

# The built-in bases callers catch these by, kept when they got their package's root.
KEPT_BASES: list[tuple[type[Exception], type[Exception]]] = [
    (DefinitionError, ValueError),
    (NotReadyError, TimeoutError),
    (ValidatorExitedError, TimeoutError),
    (PortsUnavailableError, RuntimeError),
    (NetworkError, RuntimeError),
    (PackagingError, RuntimeError),
    (CommandError, RuntimeError),
    (ValidatorsSpecError, ValueError),
    (EmbeddedLedgerError, RuntimeError),
    (ChaincodeNotBuiltError, RuntimeError),
    (InstallationError, RuntimeError),
    (BackendError, RuntimeError),
    (SchemaError, ValueError),
    (SchemaValidationError, ValueError),
    (ConfigError, ValueError),
    (RecordError, ValueError),
    (ca.CaInputError, ValueError),
    (MspFolderError, ValueError),
]


@pytest.mark.parametrize("root", list(HIERARCHY), ids=lambda root: root.__name__)
def test_a_packages_errors_derive_from_its_root(root: type[Exception]) -> None:
    assert [error for error in HIERARCHY[root] if not issubclass(error, root)] == []


@pytest.mark.parametrize(("error", "base"), KEPT_BASES, ids=lambda c: c.__name__)
def test_an_error_keeps_the_builtin_base_callers_catch(
    error: type[Exception], base: type[Exception]
) -> None:
    assert issubclass(error, base)


def test_the_model_faults_and_ours_are_apart() -> None:
    """A validator rejects a model for a ModelError and abstains for an EvaluatorError."""
    assert not issubclass(evaluate.EvaluatorError, models.ModelError)
    assert not issubclass(evaluate.ModelFaultError, evaluate.EvaluatorError)


def test_the_command_line_maps_every_packages_root() -> None:
    mapped = {getattr(importlib.import_module(module), name) for module, name in PACKAGE_ROOTS}
    assert all(isinstance(root, type) and issubclass(root, Exception) for root in mapped)
    assert set(HIERARCHY) <= mapped


def test_a_package_error_ends_the_command_with_its_message(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(typer.Exit) as stop, failures():
        raise PackagingError("the chaincode in cc is not built: run `npm run build`")
    assert stop.value.exit_code == 1
    assert capsys.readouterr().err == (
        "error: the chaincode in cc is not built: run `npm run build`\n"
    )


def test_a_command_can_say_what_failed(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(typer.Exit), failures("the validator did not start: ", also=(OSError,)):
        raise OSError("no file at key.pem")
    assert capsys.readouterr().err == "error: the validator did not start: no file at key.pem\n"


def test_any_other_error_is_a_bug_and_keeps_its_traceback() -> None:
    with pytest.raises(KeyError), failures():
        raise KeyError("peer0")
    assert not is_package_error(typer.Exit(1))
