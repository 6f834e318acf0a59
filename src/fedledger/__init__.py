"""fedledger: govern a shared machine-learning model across organisations on a Fabric ledger."""

__version__ = "0.1.0"
