"""HTTP(S) to one Fabric CA: its address, the TLS trust, and its JSON envelope.

Every answer of Fabric CA is `{"success", "result", "errors": [{"code", "message"}],
"messages"}`; a refusal carries the CA's own codes (lib/caerrors), which become a
CaRefusedError. Network failures are told apart from TLS failures by the exception chain
(an ssl.SSLError anywhere in it), never by their text.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from fedledger.ca.errors import (
    CaAuthenticationError,
    CaError,
    CaInputError,
    CaMessage,
    CaRefusedError,
    CaResponseError,
    CaTlsError,
    CaUnreachableError,
)
from fedledger.ca.token import auth_token
from fedledger.orgs.msp import MspIdentity

API_PREFIX = "/api/v1/"
# Fabric CA's code for a failed Basic authentication (wrong secret or unknown identity).
AUTHENTICATION_FAILURE = 20
DEFAULT_TIMEOUT = 30.0


@dataclass(frozen=True)
class Call:
    """One request: which endpoint, what it is about (for messages), and who signs it."""

    endpoint: str
    operation: str
    identity: str
    body: Mapping[str, Any] | None = None
    basic: tuple[str, str] | None = None
    signer: MspIdentity | None = None


def _tls_context(url: str, ca_cert: Path | None) -> ssl.SSLContext | bool:
    if urlsplit(url).scheme != "https":
        return False
    if ca_cert is None:
        return True
    try:
        context = ssl.create_default_context(cadata=ca_cert.read_text())
    except (OSError, UnicodeDecodeError, ssl.SSLError) as error:
        raise CaInputError(
            f"--ca-cert {ca_cert}: not a readable PEM certificate ({error}); give the CA's "
            f"TLS certificate (fabric-ca-server's tls-cert.pem) or the one that signed it"
        ) from error
    # fabric-ca-client trusts the CA's own TLS certificate (tls-cert.pem, not self-signed) as
    # given; OpenSSL does so only with partial chains allowed.
    context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    return context


def normalise_url(url: str) -> str:
    """`url` without a trailing slash; raises CaInputError unless it is an http(s) URL with a
    host."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CaInputError(
            f"--ca-url {url!r} is not a CA address like https://ca.org1.example.com:7054"
        )
    return url.strip().rstrip("/")


def _ssl_cause(error: BaseException) -> ssl.SSLError | None:
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


class CaTransport:
    """Requests to the CA at `url`, trusting `ca_cert` (a PEM file) for its TLS certificate."""

    def __init__(
        self, url: str, ca_cert: Path | None = None, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        """Raises CaInputError for a malformed URL or an unreadable CA certificate."""
        self.url = normalise_url(url)
        self.ca_cert = ca_cert
        self._client = httpx.Client(verify=_tls_context(self.url, ca_cert), timeout=timeout)

    def close(self) -> None:
        self._client.close()

    def send(self, call: Call) -> dict[str, Any]:
        """The `result` of the CA's answer to `call`.

        Raises CaUnreachableError, CaTlsError, CaResponseError, CaRefusedError (its subclass
        CaAuthenticationError for a refused secret), each naming the CA and the identity.
        """
        body = b"" if call.body is None else json.dumps(call.body).encode()
        path = urlsplit(self.url).path.rstrip("/") + API_PREFIX + call.endpoint
        method = "GET" if call.body is None else "POST"
        headers = {"Content-Type": "application/json"} if call.body is not None else {}
        if call.signer is not None:
            signer = call.signer
            token = auth_token(signer.certificate_pem, signer.private_key, method, path, body)
            headers["Authorization"] = token
        try:
            response = self._client.request(
                method,
                self.url + API_PREFIX + call.endpoint,
                content=body or None,
                headers=headers,
                auth=call.basic,
            )
        except httpx.TransportError as error:
            raise self._transport_error(error, call) from error
        return self._result(response, call)

    def _transport_error(self, error: httpx.TransportError, call: Call) -> CaError:
        cause = _ssl_cause(error)
        if cause is not None:
            reason = getattr(cause, "verify_message", None) or cause.reason or str(cause)
            trust = (
                f"the certificate in {self.ca_cert} or signed by it"
                if self.ca_cert
                else "signed by one of the system's CAs"
            )
            return CaTlsError(
                f"TLS with the Fabric CA at {self.url} failed ({reason}) while trying to "
                f"{call.operation} {call.identity!r}: its TLS certificate is not {trust}, "
                f"or does not name the host in the URL; pass the CA's TLS certificate with "
                f"--ca-cert (fabric-ca-server writes it as tls-cert.pem)"
            )
        return CaUnreachableError(
            f"cannot reach the Fabric CA at {self.url} to {call.operation} {call.identity!r}: "
            f"{type(error).__name__}: {error or 'no detail'}; check --ca-url and that the CA "
            f"is running"
        )

    def _result(self, response: httpx.Response, call: Call) -> dict[str, Any]:
        envelope = _envelope(response, self.url, call)
        errors = [
            CaMessage(_code(entry.get("code")), str(entry.get("message", "")))
            for entry in envelope.get("errors") or []
            if isinstance(entry, dict)
        ]
        if errors or response.status_code >= 400 or not envelope.get("success"):
            authentication = call.basic is not None and AUTHENTICATION_FAILURE in {
                e.code for e in errors
            }
            refusal = CaAuthenticationError if authentication else CaRefusedError
            raise refusal(self.url, call.operation, call.identity, response.status_code, errors)
        result = envelope.get("result")
        return result if isinstance(result, dict) else {}


def _code(value: object) -> int:
    """Fabric CA's numeric code; 0 (Fabric CA's "unknown") for anything else."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _envelope(response: httpx.Response, url: str, call: Call) -> dict[str, Any]:
    try:
        envelope = response.json()
    except ValueError:
        envelope = None
    if not isinstance(envelope, dict):
        raise CaResponseError(
            f"the server at {url} answered {call.operation} {call.identity!r} with HTTP "
            f"{response.status_code} and no Fabric CA JSON ({response.text[:200]!r}): is "
            f"--ca-url the CA's address?"
        )
    return envelope
