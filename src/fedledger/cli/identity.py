"""`fedledger identity`: enrol and register identities with a Fabric CA (fedledger/ca/).

Keys are generated on this host and written only into the MSP folder; the CA receives the
CSR, and the registrar's requests carry only its certificate and signature.
"""

from __future__ import annotations

import datetime as dt
import socket
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from fedledger.ca import FabricCaClient, Registration, enroll_into, reenroll_into
from fedledger.ca.msp_folder import split_chain
from fedledger.cli.failures import fail
from fedledger.orgs.msp import load_msp_identity

identity_app = typer.Typer(
    help="Enrol and register identities with a Fabric CA.",
    no_args_is_help=True,
)
out = Console(soft_wrap=True)

CaUrl = Annotated[
    str, typer.Option("--ca-url", help="The CA's address, e.g. https://ca.org1.example.com:7054.")
]
CaCert = Annotated[
    Path | None,
    typer.Option(
        "--ca-cert",
        help="The CA's TLS certificate (fabric-ca-server's tls-cert.pem) or the certificate "
        "that signed it, PEM. Without it, https uses the system's CAs.",
    ),
]
CaName = Annotated[
    str,
    typer.Option("--ca-name", help="Which CA of a server hosting several (default: its default)."),
]
EnrollmentId = Annotated[str, typer.Option("--id", help="The identity's enrolment ID.")]
Secret = Annotated[
    str,
    typer.Option(
        "--secret",
        envvar="FEDLEDGER_CA_SECRET",
        help="The enrolment secret the registrar set (or $FEDLEDGER_CA_SECRET).",
    ),
]
NewMspDir = Annotated[
    Path | None,
    typer.Option("--msp-dir", help="Where to write the MSP folder (default: ./<id>/msp)."),
]
CsrHosts = Annotated[
    list[str] | None,
    typer.Option(
        "--csr-hosts",
        help="Host names or addresses for the certificates, comma separated or repeated "
        "(default: this host's name, as fabric-ca-client).",
    ),
]
TlsFlag = Annotated[
    bool, typer.Option("--tls", help="Also enrol a TLS certificate (the CA's tls profile).")
]
TlsCaName = Annotated[
    str | None,
    typer.Option("--tls-ca-name", help="The server's TLS CA, when separate (default: --ca-name)."),
]


def _split(values: list[str] | None) -> list[str]:
    return [part.strip() for value in values or [] for part in value.split(",") if part.strip()]


def parse_attrs(values: list[str] | None) -> dict[str, str]:
    """'name=value' items (comma separated or repeated) → a mapping; ends the command naming
    --attrs for an item without '='."""
    attributes = {}
    for item in _split(values):
        name, equals, value = item.partition("=")
        if not equals or not name:
            fail(f"--attrs {item!r} is not name=value (e.g. --attrs hf.Revoker=true,dept=risk)")
        attributes[name] = value
    return attributes


@identity_app.command()
def enroll(
    ca_url: CaUrl,
    enrollment_id: EnrollmentId,
    secret: Secret,
    ca_cert: CaCert = None,
    msp_dir: NewMspDir = None,
    csr_hosts: CsrHosts = None,
    tls: TlsFlag = False,
    ca_name: CaName = "",
    tls_ca_name: TlsCaName = None,
) -> None:
    """Enrol an identity with its secret and write its MSP folder.

    The private key is generated here and written only to <msp-dir>/keystore (mode 0600); the
    CA receives a CSR. With --tls, a TLS certificate and key go to <msp-dir>/../tls, named as
    cryptogen names them (server.* for a peer or orderer, client.* otherwise).
    """
    folder = msp_dir if msp_dir is not None else Path(enrollment_id) / "msp"
    hosts = _split(csr_hosts) or [socket.gethostname()]
    client = FabricCaClient(ca_url, ca_cert, ca_name)
    try:
        enrolled = enroll_into(
            client,
            enrollment_id,
            secret,
            folder,
            hosts=hosts,
            tls=tls,
            tls_ca_name=tls_ca_name,
        )
    finally:
        client.close()
    role = enrolled.role or "no NodeOU role"
    out.print(f"enrolled {enrollment_id} ({role}) into {enrolled.msp_dir}")
    if enrolled.tls_dir is not None:
        out.print(f"TLS certificate and key in {enrolled.tls_dir} (for {', '.join(hosts)})")


@identity_app.command()
def register(
    ca_url: CaUrl,
    registrar: Annotated[
        Path, typer.Option("--as", help="MSP folder of the registrar (an enrolled admin).")
    ],
    enrollment_id: EnrollmentId,
    identity_type: Annotated[
        str, typer.Option("--type", help="client, peer, admin or orderer.")
    ] = "client",
    secret: Annotated[
        str | None,
        typer.Option("--secret", help="The enrolment secret (default: the CA makes one)."),
    ] = None,
    affiliation: Annotated[
        str, typer.Option("--affiliation", help="e.g. org1.department1 (default: the registrar's).")
    ] = "",
    attrs: Annotated[
        list[str] | None,
        typer.Option("--attrs", help="Attributes as name=value, comma separated or repeated."),
    ] = None,
    max_enrollments: Annotated[
        int, typer.Option("--max-enrollments", help="0: the CA's default.")
    ] = 0,
    ca_cert: CaCert = None,
    ca_name: CaName = "",
) -> None:
    """Register a new identity, signed by the registrar's enrolled identity.

    Prints the enrolment secret when the CA generated it: hand it to the identity's owner,
    who enrols on their own host, so that their key is made there.
    """
    registration = Registration(
        enrollment_id, identity_type, secret, affiliation, parse_attrs(attrs), max_enrollments
    )
    signer = load_msp_identity(registrar, msp_id="")
    client = FabricCaClient(ca_url, ca_cert, ca_name)
    try:
        issued = client.register(signer, registration)
    finally:
        client.close()
    if secret:
        out.print(f"registered {enrollment_id} ({identity_type}) with the given secret")
    else:
        out.print(f"registered {enrollment_id} ({identity_type}); enrolment secret: {issued}")


@identity_app.command()
def revoke(
    ca_url: CaUrl,
    registrar: Annotated[
        Path, typer.Option("--as", help="MSP folder of the revoker (an enrolled admin).")
    ],
    enrollment_id: EnrollmentId,
    reason: Annotated[str, typer.Option("--reason", help="e.g. keycompromise.")] = "",
    crl_out: Annotated[
        Path | None,
        typer.Option(
            "--crl-out", help="Write the CA's CRL (PEM) to this file, e.g. msp/crls/crl.pem."
        ),
    ] = None,
    ca_cert: CaCert = None,
    ca_name: CaName = "",
) -> None:
    """Revoke every certificate of an identity at the CA.

    Peers learn of it only from a CRL in the channel's MSP definition: --crl-out writes the
    CA's CRL, for the organisation's MSP folder and its next channel update (docs/identities.md).
    """
    signer = load_msp_identity(registrar, msp_id="")
    client = FabricCaClient(ca_url, ca_cert, ca_name)
    try:
        revocation = client.revoke(signer, enrollment_id, reason, crl=crl_out is not None)
    finally:
        client.close()
    serials = revocation.serials
    out.print(f"revoked {enrollment_id}: {len(serials)} certificates ({', '.join(serials)})")
    if crl_out is not None and revocation.crl_pem is not None:
        crl_out.parent.mkdir(parents=True, exist_ok=True)
        crl_out.write_bytes(revocation.crl_pem)
        out.print(f"CRL written to {crl_out}")


@identity_app.command()
def reenroll(
    ca_url: CaUrl,
    msp_dir: Annotated[Path, typer.Option("--msp-dir", help="The MSP folder to renew.")],
    csr_hosts: CsrHosts = None,
    ca_cert: CaCert = None,
    ca_name: CaName = "",
) -> None:
    """Renew an enrolled identity's certificate and key, signed with the current ones.

    The current certificate and key move to <msp-dir>/previous/<UTC time>/; nothing is deleted.
    """
    client = FabricCaClient(ca_url, ca_cert, ca_name)
    try:
        renewed = reenroll_into(
            client,
            msp_dir,
            hosts=_split(csr_hosts) or [socket.gethostname()],
            now=dt.datetime.now(dt.UTC),
        )
    finally:
        client.close()
    out.print(
        f"re-enrolled {renewed.msp_dir}; the previous certificate and key are in its previous/"
    )


@identity_app.command()
def info(ca_url: CaUrl, ca_cert: CaCert = None, ca_name: CaName = "") -> None:
    """Show the CA's name, version and certificate chain (the certificates an organisation's
    MSP definition lists)."""
    client = FabricCaClient(ca_url, ca_cert, ca_name)
    try:
        answer = client.cainfo()
    finally:
        client.close()
    roots, intermediates = split_chain(answer.chain_pem, client.url)
    out.print(f"CA {answer.ca_name or '(default)'} at {client.url}, Fabric CA {answer.version}")
    for kind, certificates in (("root", roots), ("intermediate", intermediates)):
        for certificate in certificates:
            out.print(f"  {kind}: {certificate.subject.rfc4514_string()}")
