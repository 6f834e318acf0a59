"""The serving package's errors: ServingError is the root the command line reports."""

from __future__ import annotations


class ServingError(Exception):
    """Serving cannot start or go on (the task, its champion, the configuration)."""


class ServingConfigError(ServingError):
    """A setting of the service (an option, or a Lambda environment variable) is invalid."""


class RowsError(ServingError):
    """A request's rows cannot be scored. `status` is the HTTP status to answer (400 an
    unreadable body, 413 too many rows, 415 an unsupported content type, 422 rows that do not
    fit the task's schema); `problems` name each row and field."""

    def __init__(
        self, status: int, message: str, problems: list[dict[str, object]] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.problems = problems or []
