"""The ordering package's errors: one root, `OrderingError`, for everything it raises."""

from __future__ import annotations


class OrderingError(ValueError):
    """Base of the errors this package raises."""


class OrdererFolderError(OrderingError):
    """The ordering organisation's folder (`orderer init`) is missing, wrong or in use."""


class OrdererFileError(OrderingError):
    """An ordering organisation's file (`orderer export`) cannot be read or has a wrong field."""


class OrdererNodeError(OrderingError):
    """The orderer did not start, or `osnadmin` refused a join."""
