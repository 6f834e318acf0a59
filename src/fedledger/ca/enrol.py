"""Enrolling into a folder: the signing identity, and optionally its TLS certificate."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from fedledger.ca.client import FabricCaClient
from fedledger.ca.msp_folder import (
    node_ou_role,
    refuse_existing_identity,
    split_chain,
    write_msp,
    write_tls,
)
from fedledger.orgs.msp import load_msp_identity

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
    tls_ca_name: str | None = None,
) -> EnrolledFolder:
    """Enrol `enrollment_id` and write its MSP folder at `msp_dir`; with `tls`, enrol once more
    under the TLS profile of the same CA, or of the server's CA `tls_ca_name`, and write the
    TLS folder beside it.

    Both requests are made before anything is written, so a refusal leaves no half folder.
    Raises CaInputError when `msp_dir` already holds a key, and what FabricCaClient.enroll
    raises.
    """
    refuse_existing_identity(msp_dir, tls=tls)
    signing = client.enroll(enrollment_id, secret, hosts)
    tls_enrollment = None
    if tls:
        tls_enrollment = client.enroll(enrollment_id, secret, hosts, TLS_PROFILE, tls_ca_name)
    signcert = write_msp(msp_dir, signing, client.url)
    role = node_ou_role(signing.certificate_pem)
    tls_dir = None
    if tls_enrollment is not None:
        tls_dir = write_tls(msp_dir, tls_enrollment, role, client.url)
    return EnrolledFolder(msp_dir, signcert, role, tls_dir)


def reenroll_into(
    client: FabricCaClient, msp_dir: Path, *, hosts: list[str], now: dt.datetime
) -> EnrolledFolder:
    """Renew the identity of the MSP folder `msp_dir`: a new key and certificate, requested
    with the current ones. The current certificate and key move to
    `<msp>/previous/<UTC time>/` (they stay valid until they expire or are revoked, and a key
    is never deleted); the new ones take their place.

    Raises MspFolderError for a folder without a usable identity, and what
    FabricCaClient.reenroll and split_chain raise (CaResponseError), before anything moves.
    """
    current = load_msp_identity(msp_dir, "")
    renewed = client.reenroll(current, hosts)
    split_chain(renewed.info.chain_pem, client.url)  # a bad answer must not move anything
    previous = msp_dir / "previous" / now.strftime("%Y%m%dT%H%M%S.%fZ")
    previous.mkdir(parents=True)
    for folder in ("signcerts", "keystore"):
        for file in (msp_dir / folder).iterdir():
            (previous / folder).mkdir(exist_ok=True)
            file.rename(previous / folder / file.name)
    signcert = write_msp(msp_dir, renewed, client.url)
    return EnrolledFolder(msp_dir, signcert, node_ou_role(renewed.certificate_pem), None)
