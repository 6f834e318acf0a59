"""A validator configuration that loads (given its files beside it), for tests that change one
part of it."""

from __future__ import annotations

from typing import Any


def minimal_validator_document(**changes: Any) -> dict[str, Any]:
    """Refers to msp/, peer-ca.pem, holdout.csv, ca.pem and ca.key in the configuration's
    folder; `changes` replace top-level fields."""
    document: dict[str, Any] = {
        "organization": "Org1MSP",
        "identity": "msp",
        "gateway": {
            "endpoint": "127.0.0.1:7051",
            "serverName": "peer0",
            "tlsCaCert": "peer-ca.pem",
        },
        "tasks": {"churn": {"holdout": "holdout.csv"}},
        "store": {"location": "store"},
        "listen": {
            "address": "127.0.0.1:0",
            "tls": {
                "issueFrom": {"caCert": "ca.pem", "caKey": "ca.key"},
                "clientCaCerts": ["ca.pem"],
            },
        },
        "stateDir": "state",
    }
    return document | changes
