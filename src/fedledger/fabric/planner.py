"""Endorsement plans per chaincode: from a peer's discovery service, else from the profile.

Discovery answers for the chaincode's actual endorsement policy, so it is asked first, once per
chaincode and then again after `ttl` seconds (the membership and the policy change rarely, and
asking before every transaction would double the calls). A peer without discovery (the embedded
ledger, a peer with discovery disabled, a client the peer will not answer) gives the profile's
plan for the same period; the reason is logged once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import grpc
from fabric_protos.common import common_pb2
from fabric_protos.peer import proposal_pb2

from fedledger.fabric import discovery
from fedledger.fabric.endorsement import Plan, PlanError, choose_layout, profile_plan
from fedledger.fabric.identity import SigningIdentity
from fedledger.fabric.nodes import Connections, Node

log = logging.getLogger(__name__)
PLAN_TTL = 60.0


class Planner:
    """Thread-safe; `plan()` raises PlanError when no plan can be made. `local` is the client's
    organisation in the profile (its first peer is asked for discovery)."""

    def __init__(
        self,
        signer: SigningIdentity,
        local: str,
        peers: Mapping[str, Sequence[Node]],
        policy: str,
        connections: Connections,
        node_for: discovery.NodeFor,
        *,
        timeout: float = 5.0,
        use_discovery: bool = True,
        ttl: float = PLAN_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._signer = signer
        self.local = local
        self._peers = peers
        self._policy = policy
        self._connections = connections
        self._node_for = node_for
        self._timeout = timeout
        self._use_discovery = use_discovery
        self._ttl = ttl
        self._clock = clock
        self._cache: dict[tuple[str, str], tuple[float, Plan]] = {}
        self._lock = threading.Lock()
        self.discovery_error = ""

    def peers_of(self, organizations: Sequence[str]) -> list[Node]:
        """The profile's peers of `organizations`, in order. Raises PlanError naming an
        organisation the profile lists no peers for."""
        unknown = [msp for msp in organizations if not self._peers.get(msp)]
        if unknown:
            raise PlanError(f"failed to find any peers for org(s): {', '.join(unknown)}")
        return [node for msp in organizations for node in self._peers[msp]]

    def plan(self, channel: str, chaincode: str, requested: Sequence[str] = ()) -> Plan:
        """The peers to endorse a transaction of `chaincode` on; organisations `requested` by
        the caller replace the policy's choice."""
        if requested:
            return profile_plan(self._peers, self.local, self._policy, requested)
        key = (channel, chaincode)
        now = self._clock()
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        plan = self._discovered(*key) or profile_plan(self._peers, self.local, self._policy)
        with self._lock:
            self._cache[key] = (now, plan)
        return plan

    def _discovered(self, channel: str, chaincode: str) -> Plan | None:
        if not self._use_discovery:
            return None
        node = self._peers[self.local][0]
        request = discovery.request(self._signer, channel, chaincode, node.tls_cert_hash)
        stub = discovery.stub_for(self._connections.channel(node))
        try:
            descriptor: Any = discovery.discover(stub, request, self._timeout)
            return choose_layout(discovery.layouts(descriptor, self._node_for), self.local)
        except (grpc.RpcError, discovery.DiscoveryError, PlanError) as error:
            reason = _reason(error)
            if reason != self.discovery_error:
                log.info(
                    "no endorsement plan from %s's discovery service (%s): using the profile's "
                    "%s policy",
                    node,
                    reason,
                    self._policy,
                )
                self.discovery_error = reason
            return None


def _reason(error: Exception) -> str:
    if isinstance(error, grpc.Call):
        return f"{error.code().name}: {error.details()}"
    return str(error)


def chaincode_of(signed: proposal_pb2.SignedProposal) -> str:
    """The chaincode a signed proposal invokes (its channel header's extension)."""
    proposal = proposal_pb2.Proposal.FromString(signed.proposal_bytes)
    header = common_pb2.Header.FromString(proposal.header)
    channel_header = common_pb2.ChannelHeader.FromString(header.channel_header)
    extension = proposal_pb2.ChaincodeHeaderExtension.FromString(channel_header.extension)
    return str(extension.chaincode_id.name)
