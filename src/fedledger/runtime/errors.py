"""The runtime layer's errors: one root, `RuntimeLayerError`, for what this package raises.

Each error also keeps the built-in base its callers catch it by: a bad definition is a
ValueError, a node that never became ready a TimeoutError.
"""

from __future__ import annotations


class RuntimeLayerError(Exception):
    """Base of the errors this package raises: a definition, a port or a node that is unusable."""


class PortsUnavailableError(RuntimeLayerError, RuntimeError):
    """No block of free ports is left to choose from."""
