"""Validation of a block's transactions, as a Fabric committing peer validates them.

Stateless checks first: a well-formed envelope for this channel signed by
a writer (BAD_PAYLOAD, UNKNOWN_TX_TYPE, TARGET_CHAIN_NOT_FOUND, BAD_CREATOR_SIGNATURE), the
transaction id derived from nonce and creator (BAD_PROPOSAL_TXID), the endorsed proposal
matching the envelope (INVALID_ENDORSER_TRANSACTION), a read/write set only for this chaincode
(BAD_RWSET, ILLEGAL_WRITESET), and the endorsement policy: valid signatures by peers of a
majority of distinct member organisations (ENDORSEMENT_POLICY_FAILURE). Then, in block order
against committed state plus the block's earlier valid writes: DUPLICATE_TXID,
MVCC_READ_CONFLICT (a read key changed version) and PHANTOM_READ_CONFLICT (a range read
returns a different set of keys or versions).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fabric_protos.common import common_pb2
from fabric_protos.ledger.rwset import rwset_pb2
from fabric_protos.ledger.rwset.kvrwset import kv_rwset_pb2
from fabric_protos.peer import chaincode_event_pb2, transaction_pb2

from fedledger.embedded.config import EmbeddedConfig
from fedledger.embedded.identity import IdentityError, MemberRegistry
from fedledger.embedded.messages import (
    MessageError,
    check_envelope,
    endorsed_action,
    parse,
)
from fedledger.embedded.store import Store, Version
from fedledger.fabric.crypto import transaction_id

Code = int
VALID = transaction_pb2.VALID


@dataclass
class Candidate:
    """One transaction of a block, as far as the stateless checks took it."""

    code: Code
    reason: str = ""
    txid: str = ""
    seconds: int = 0
    nanos: int = 0
    kv: kv_rwset_pb2.KVRWSet | None = None
    event: chaincode_event_pb2.ChaincodeEvent | None = None


@dataclass
class BlockUpdates:
    """Writes of the block's valid transactions so far: later transactions validate on them."""

    writes: dict[str, tuple[bytes | None, Version]] = field(default_factory=dict)

    def version(self, store: Store, namespace: str, key: str) -> Version | None:
        if key in self.writes:
            value, version = self.writes[key]
            return None if value is None else version
        return store.committed_version(namespace, key)


class Validator:
    def __init__(self, config: EmbeddedConfig, members: MemberRegistry) -> None:
        self.config = config
        self.members = members

    def check(self, envelope_bytes: bytes) -> Candidate:
        try:
            return self._check(envelope_bytes)
        except MessageError as error:
            return Candidate(error.code, str(error))

    def _check(self, envelope_bytes: bytes) -> Candidate:
        if not envelope_bytes:
            return Candidate(transaction_pb2.NIL_ENVELOPE, "empty envelope")
        envelope = parse(common_pb2.Envelope, envelope_bytes, "the envelope")
        transaction = check_envelope(envelope, self.config.channel, self.members)
        header = transaction.channel_header
        candidate = Candidate(
            VALID,
            txid=header.tx_id,
            seconds=header.timestamp.seconds,
            nanos=header.timestamp.nanos,
        )
        signature_header = transaction.signature_header
        expected = transaction_id(signature_header.nonce, signature_header.creator)
        if header.tx_id != expected:
            candidate.code = transaction_pb2.BAD_PROPOSAL_TXID
            candidate.reason = (
                f"transaction id {header.tx_id} is not derived from its nonce and creator"
            )
            return candidate
        payload = parse(common_pb2.Payload, envelope.payload, "the envelope payload")
        action = endorsed_action(transaction, payload.data)
        if not action.proposal_hash_ok:
            candidate.code = transaction_pb2.INVALID_ENDORSER_TRANSACTION
            candidate.reason = "proposal hash does not match: the envelope is not what was endorsed"
            return candidate
        chaincode = action.action.chaincode_id.name
        if chaincode != self.config.chaincode_name:
            candidate.code = transaction_pb2.INVALID_CHAINCODE
            candidate.reason = f"chaincode {chaincode!r} is not defined on this channel"
            return candidate
        policy_failure = self._policy_failure(action.response_payload, action.endorsements)
        if policy_failure:
            candidate.code = transaction_pb2.ENDORSEMENT_POLICY_FAILURE
            candidate.reason = policy_failure
            return candidate
        try:
            txrw = parse(rwset_pb2.TxReadWriteSet, action.action.results, "the read/write set")
            for ns in txrw.ns_rwset:
                if ns.namespace != chaincode:
                    candidate.code = transaction_pb2.ILLEGAL_WRITESET
                    candidate.reason = f"read/write set for namespace {ns.namespace!r}"
                    return candidate
                candidate.kv = parse(kv_rwset_pb2.KVRWSet, ns.rwset, "the key-value set")
        except MessageError as error:
            candidate.code, candidate.reason = transaction_pb2.BAD_RWSET, str(error)
            return candidate
        if action.action.events:
            event = parse(chaincode_event_pb2.ChaincodeEvent, action.action.events, "the event")
            candidate.event = event
        return candidate

    def _policy_failure(self, response_payload: bytes, endorsements: list[object]) -> str:
        endorsed_by: set[str] = set()
        problems = []
        for endorsement in endorsements:
            endorser = getattr(endorsement, "endorser", b"")
            try:
                identity = self.members.deserialize(endorser)
                if identity.role != "peer":
                    raise IdentityError(
                        f"endorser of {identity.msp_id} is a {identity.role}, not a peer"
                    )
                identity.verify(response_payload + endorser, getattr(endorsement, "signature", b""))
            except IdentityError as error:
                problems.append(str(error))
                continue
            endorsed_by.add(identity.msp_id)
        needed = self.members.endorsement_quorum
        if len(endorsed_by) >= needed:
            return ""
        detail = f"; refused endorsements: {'; '.join(problems)}" if problems else ""
        return (
            f"endorsement policy not satisfied: {len(endorsed_by)} of the {needed} member "
            f"organisations required (a majority of {len(self.members.msp_ids)}) endorsed "
            f"({', '.join(sorted(endorsed_by)) or 'none'}){detail}"
        )

    def check_state(
        self, candidate: Candidate, store: Store, updates: BlockUpdates, namespace: str
    ) -> tuple[Code, str]:
        """MVCC and phantom checks against committed state plus the block's earlier writes."""
        kv = candidate.kv
        if kv is None:
            return VALID, ""
        for read in kv.reads:
            expected = (
                (read.version.block_num, read.version.tx_num) if read.HasField("version") else None
            )
            actual = updates.version(store, namespace, read.key)
            if actual != expected:
                return (
                    transaction_pb2.MVCC_READ_CONFLICT,
                    f"key {read.key!r} read at version {expected}, now at {actual}",
                )
        for info in kv.range_queries_info:
            seen = [
                (r.key, (r.version.block_num, r.version.tx_num)) for r in info.raw_reads.kv_reads
            ]
            now = _range_now(store, updates, namespace, info)
            if seen != now:
                return (
                    transaction_pb2.PHANTOM_READ_CONFLICT,
                    f"range [{info.start_key!r}, {info.end_key!r}) changed since simulation",
                )
        return VALID, ""


def _range_now(
    store: Store, updates: BlockUpdates, namespace: str, info: kv_rwset_pb2.RangeQueryInfo
) -> list[tuple[str, Version]]:
    inclusive = not info.itr_exhausted
    entries = {
        e.key: e.version
        for e in store.committed_range(namespace, info.start_key, info.end_key, inclusive)
    }
    start, end = info.start_key.encode(), info.end_key.encode()
    for key, (value, version) in updates.writes.items():
        raw = key.encode()
        inside = raw >= start and (not end or (raw <= end if inclusive else raw < end))
        if not inside:
            continue
        if value is None:
            entries.pop(key, None)
        else:
            entries[key] = version
    return sorted(entries.items(), key=lambda item: item[0].encode())
