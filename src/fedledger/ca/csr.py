"""The certificate signing request an enrolment sends.

Fabric CA refuses a CSR whose subject common name is not the enrolment ID (code 77); the CA
replaces the rest of the subject with its own (OU from the identity's type and affiliation),
so the CSR carries only the common name and the host names asked for.
"""

from __future__ import annotations

import ipaddress

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def new_key() -> ec.EllipticCurvePrivateKey:
    """A fresh P-256 key, generated here: the private key never leaves this host."""
    return ec.generate_private_key(ec.SECP256R1())


def _general_name(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def build_csr(key: ec.EllipticCurvePrivateKey, enrollment_id: str, hosts: list[str]) -> bytes:
    """A PEM PKCS#10 request for `enrollment_id`, signed by `key`, naming `hosts` (DNS names or
    IP addresses) as subject alternative names."""
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, enrollment_id)])
    )
    if hosts:
        names = [_general_name(host) for host in dict.fromkeys(hosts)]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)
