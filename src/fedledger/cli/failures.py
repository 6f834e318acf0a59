"""How a command ends on a failure: `error: <message>` on stderr and exit status 1.

Every command runs inside `failures()` (the root group enters it, cli/app.py), so an error of
one of the packages below ends the command with its own message, which names the thing that
failed and what to do. Anything else is a bug and keeps its traceback. A command that can say
more about its failure (which file, which step) catches the error itself and calls `fail`.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape

console = Console(stderr=True, soft_wrap=True)

# Each package's root error, by module and class name. They are looked up in sys.modules, not
# imported: an error of a module that was never imported cannot be in flight, and importing
# them all would load gRPC and the ledger's protocols into commands that never use them.
PACKAGE_ROOTS: tuple[tuple[str, str], ...] = (
    ("fedledger.amb.errors", "AmbError"),
    ("fedledger.audit.errors", "AuditError"),
    ("fedledger.backends", "BackendError"),
    ("fedledger.ca.errors", "CaError"),
    ("fedledger.channelconfig.errors", "ChannelConfigError"),
    ("fedledger.deploy.errors", "DeployError"),
    ("fedledger.embedded.errors", "EmbeddedLedgerError"),
    ("fedledger.evaluate.errors", "EvaluationError"),
    ("fedledger.fabric.errors", "FabricError"),
    ("fedledger.installation.errors", "InstallationError"),
    ("fedledger.models.errors", "ModelError"),
    ("fedledger.network.errors", "NetworkError"),
    ("fedledger.ordering.errors", "OrderingError"),
    ("fedledger.orgnode.errors", "OrgNodeError"),
    ("fedledger.orgs.errors", "OrgError"),
    ("fedledger.profile", "ProfileError"),
    ("fedledger.registry.errors", "RegistryError"),
    ("fedledger.runtime.errors", "RuntimeLayerError"),
    ("fedledger.schema.errors", "TaskSchemaError"),
    ("fedledger.serving.errors", "ServingError"),
    ("fedledger.store.errors", "StoreError"),
    ("fedledger.upload.errors", "UploadError"),
    ("fedledger.validator.errors", "ValidatorError"),
)


def fail(message: str) -> NoReturn:
    """Print `error: <message>` on stderr and end the command with exit status 1."""
    console.print(f"[red]error:[/red] {escape(message)}")
    raise typer.Exit(1)


def is_package_error(error: BaseException) -> bool:
    """`error` derives from one of the PACKAGE_ROOTS."""
    for module_name, class_name in PACKAGE_ROOTS:
        root = getattr(sys.modules.get(module_name), class_name, None)
        if isinstance(root, type) and isinstance(error, root):
            return True
    return False


@contextmanager
def failures(context: str = "", *, also: tuple[type[Exception], ...] = ()) -> Iterator[None]:
    """End the command with `error: <context><message>` and exit status 1 when an error of one
    of the PACKAGE_ROOTS, or of the classes in `also`, escapes the block."""
    try:
        yield
    except Exception as error:
        if not (is_package_error(error) or isinstance(error, also)):
            raise
        fail(f"{context}{error}")
