"""Enrolling into a folder: the signing identity, and optionally its TLS certificate."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fedledger.ca.client import FabricCaClient
from fedledger.ca.msp_folder import (
    node_ou_role,
    refuse_existing_identity,
    write_msp,
    write_tls,
)

TLS_PROFILE = "tls"


@dataclass(frozen=True)
class EnrolledFolder:
    msp_dir: Path
    signcert: Path
    role: str | None
    tls_dir: Path | None


def enroll_into(
    client: FabricCaClient,
    enrollment_id: str,
    secret: str,
    msp_dir: Path,
    *,
    hosts: list[str],
    tls: bool,
) -> EnrolledFolder:
    """Enrol `enrollment_id` and write its MSP folder at `msp_dir`; with `tls`, enrol once more
    under the CA's TLS profile and write the TLS folder beside it.

    Both requests are made before anything is written, so a refusal leaves no half folder.
    Raises CaInputError when `msp_dir` already holds a key, and what FabricCaClient.enroll
    raises.
    """
    refuse_existing_identity(msp_dir)
    signing = client.enroll(enrollment_id, secret, hosts)
    tls_enrollment = client.enroll(enrollment_id, secret, hosts, TLS_PROFILE) if tls else None
    signcert = write_msp(msp_dir, signing, client.url)
    role = node_ou_role(signing.certificate_pem)
    tls_dir = None
    if tls_enrollment is not None:
        tls_dir = write_tls(msp_dir, tls_enrollment, role, client.url)
    return EnrolledFolder(msp_dir, signcert, role, tls_dir)
