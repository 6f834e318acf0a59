"""A validator configuration for one organisation of a connection profile.

For networks this project starts (their material is in cryptogen's layout): the identity is the
profile's, the server certificate is issued at start-up by the organisation's TLS CA, and the
clients accepted are those with a certificate from that same TLS CA (the organisation's users).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from fedledger.orgs.layout import OrgLayout
from fedledger.paths import with_written_paths
from fedledger.profile import ConnectionProfile, ProfileError


def org_layout_of(identity_msp: Path) -> OrgLayout:
    """The organisation of the profile's identity, whose TLS CA issues and accepts.

    Raises ProfileError when the profile's identity or TLS CA is missing.
    """
    try:
        org = OrgLayout.of_user_msp(identity_msp)
    except ValueError as error:
        raise ProfileError(str(error)) from None
    if not org.tlsca_cert.is_file():
        raise ProfileError(f"no TLS CA certificate in {org.tlsca_cert.parent}")
    return org


def config_document(
    profile: ConnectionProfile,
    msp_id: str,
    *,
    tasks: dict[str, Path],
    store: str,
    state_dir: Path,
    listen: str = "127.0.0.1:0",
    identity: str = "user",
    store_endpoint_url: str | None = None,
    metrics: str | None = None,
    limits: dict[str, Any] | None = None,
    retry: dict[str, Any] | None = None,
    protocol: str | None = None,
) -> dict[str, Any]:
    """The configuration of organisation `msp_id`'s validator; `protocol` (default: the
    organisation's in the profile) `peer` points `gateway.profile` at the profile. Raises
    ProfileError for an organisation, identity or TLS CA the profile does not have."""
    org = profile.org(msp_id)
    identity_msp = org.identity(identity)
    layout = org_layout_of(identity_msp)
    ca_cert, ca_key = layout.tlsca_cert, layout.tlsca_key
    gateway: dict[str, Any] = {
        "endpoint": org.gateway.endpoint,
        "serverName": org.gateway.server_name,
        "tlsCaCert": org.gateway.tls_ca_cert,
    }
    if org.tls_client is not None:
        gateway["tlsClient"] = {"cert": org.tls_client.cert, "key": org.tls_client.key}
    if (protocol or org.protocol) == "peer":
        if profile.path is None:
            raise ProfileError("the peer protocol needs the profile's file: load it from one")
        gateway.update(protocol="peer", profile=profile.path)
    document: dict[str, Any] = {
        "organization": msp_id,
        "identity": identity_msp,
        "channel": profile.channel,
        "chaincode": profile.chaincode,
        "gateway": gateway,
        "tasks": {task: {"holdout": path} for task, path in tasks.items()},
        "store": {"location": store if "://" in store else Path(store)}
        | ({"endpointUrl": store_endpoint_url} if store_endpoint_url else {}),
        "listen": {
            "address": listen,
            "tls": {
                "issueFrom": {"caCert": ca_cert, "caKey": ca_key},
                "clientCaCerts": [ca_cert],
            },
        },
        "stateDir": state_dir,
    }
    if metrics is not None:
        document["metrics"] = {"address": metrics}
    if limits:
        document["limits"] = limits
    if retry:
        document["retry"] = retry
    return document


def render_config(path: Path, document: dict[str, Any]) -> str:
    """The text of `document` as a file at `path`: its `Path` values relative to the file's
    folder when below it, absolute otherwise (docs/validator-config.md)."""
    return yaml.safe_dump(with_written_paths(document, path.parent), sort_keys=False)


def write_config(path: Path, document: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_config(path, document))
    return path
