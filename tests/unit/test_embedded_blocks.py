"""Block hashing as Fabric does it, identities and signatures as a peer checks them, and the
read/write set a simulation records."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from fabric_protos.common import common_pb2
from fabric_protos.ledger.rwset import rwset_pb2
from fabric_protos.ledger.rwset.kvrwset import kv_rwset_pb2

from fedledger.embedded.blocks import build_block, data_hash, header_bytes, header_hash
from fedledger.embedded.identity import IdentityError, MemberRegistry, Signer, check_signature
from fedledger.embedded.simulator import RangeRecord, TxSimulator
from fedledger.embedded.store import HistoryEntry, StateEntry
from fedledger.fabric.crypto import P256_ORDER, sign_low_s
from fedledger.orgs import MemberOrg, OrdererOrg, OrgLayout, generate_material

ORDERER = OrdererOrg("Orderer", "OrdererMSP", "orderer.test")
ORG1 = MemberOrg("Org1", "Org1MSP", "org1.test")


@pytest.mark.parametrize(
    ("number", "encoded_number"),
    [(0, "020100"), (1, "020101"), (127, "02017f"), (128, "02020080"), (256, "02020100")],
)
def test_header_bytes_are_the_der_of_number_previous_and_data_hash(
    number: int, encoded_number: str
) -> None:
    previous, data = b"\x01" * 32, b"\x02" * 32
    body = bytes.fromhex(encoded_number) + b"\x04\x20" + previous + b"\x04\x20" + data
    assert header_bytes(number, previous, data) == b"\x30" + bytes([len(body)]) + body


def test_an_empty_previous_hash_encodes_as_an_empty_octet_string() -> None:
    assert header_bytes(0, b"", b"\x00" * 32)[:7] == bytes.fromhex("30270201000400")


def test_data_hash_is_sha256_of_the_concatenated_envelopes() -> None:
    assert data_hash([b"ab", b"cd"]) == hashlib.sha256(b"abcd").digest()


@pytest.fixture(scope="module")
def material(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("crypto")
    generate_material(root, [ORG1], ORDERER)
    return root


def test_blocks_chain_by_header_hash_and_carry_the_validation_codes(material: Path) -> None:
    layout = OrgLayout.under(material, ORG1.domain)
    signer = Signer.from_msp(layout.peer(0).msp, ORG1.msp_id)
    first = build_block(0, b"", [b"config"], [0], signer, b"n" * 24)
    second = build_block(1, header_hash(first.header), [b"tx1", b"tx2"], [0, 11], signer, b"m" * 24)
    assert (
        second.header.previous_hash
        == hashlib.sha256(header_bytes(0, b"", hashlib.sha256(b"config").digest())).digest()
    )
    assert second.metadata.metadata[common_pb2.TRANSACTIONS_FILTER] == bytes([0, 11])
    assert len(second.metadata.metadata) == 5
    signatures = common_pb2.Metadata.FromString(second.metadata.metadata[common_pb2.SIGNATURES])
    [signature] = signatures.signatures
    signed = (
        signatures.value
        + signature.signature_header
        + header_bytes(1, second.header.previous_hash, second.header.data_hash)
    )
    signer.private_key.public_key().verify(signature.signature, signed, ec.ECDSA(hashes.SHA256()))


def test_a_high_s_signature_is_refused_though_it_verifies() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    r, s = decode_dss_signature(sign_low_s(key, b"data"))
    high = encode_dss_signature(r, P256_ORDER - s)
    key.public_key().verify(high, b"data", ec.ECDSA(hashes.SHA256()))
    with pytest.raises(IdentityError, match="smaller than half the order"):
        check_signature(key.public_key(), b"data", high)


def test_members_are_recognised_by_their_ca_and_role(material: Path, tmp_path: Path) -> None:
    layout = OrgLayout.under(material, ORG1.domain)
    members = MemberRegistry.from_pem_files({ORG1.msp_id: layout.ca_cert})
    peer = members.deserialize(Signer.from_msp(layout.peer(0).msp, ORG1.msp_id).serialized)
    assert (peer.msp_id, peer.role) == ("Org1MSP", "peer")
    user = members.deserialize(Signer.from_msp(layout.client.msp, ORG1.msp_id).serialized)
    assert user.role == "client"

    generate_material(tmp_path, [ORG1], ORDERER)
    impostor = Signer.from_msp(OrgLayout.under(tmp_path, ORG1.domain).client.msp, ORG1.msp_id)
    with pytest.raises(IdentityError, match="does not verify against Org1MSP's CA") as forged:
        members.deserialize(impostor.serialized)
    assert forged.value.unknown_org
    stranger = Signer.from_msp(layout.client.msp, "Org9MSP")
    with pytest.raises(IdentityError, match="'Org9MSP' is not a member") as raised:
        members.deserialize(stranger.serialized)
    assert raised.value.unknown_org


def test_an_expired_certificate_is_refused(material: Path) -> None:
    layout = OrgLayout.under(material, ORG1.domain)
    members = MemberRegistry.from_pem_files({ORG1.msp_id: layout.ca_cert})
    user = Signer.from_msp(layout.client.msp, ORG1.msp_id)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=20 * 365)
    with pytest.raises(IdentityError, match="is not valid at"):
        members.deserialize(user.serialized, now=later)


class FakeState:
    def __init__(self, entries: dict[str, tuple[bytes, tuple[int, int]]]) -> None:
        self.entries = entries

    def get_state(self, namespace: str, key: str) -> StateEntry | None:
        found = self.entries.get(key)
        return StateEntry(key, *found) if found else None

    def state_range(
        self, namespace: str, start: str, end: str, limit: int | None = None
    ) -> list[StateEntry]:
        keys = sorted(k for k in self.entries if k >= start and (not end or k < end))
        return [StateEntry(k, *self.entries[k]) for k in keys][:limit]

    def history(self, namespace: str, key: str) -> list[HistoryEntry]:
        return []


def test_the_read_write_set_records_first_reads_last_writes_and_ranges_sorted() -> None:
    simulator = TxSimulator(FakeState({"b": (b"B", (3, 1)), "a": (b"A", (2, 0))}), "cc")
    assert simulator.get_state("b") == b"B"
    simulator.put_state("b", b"B2")
    assert simulator.get_state("b") == b"B"  # reads see committed state, not own writes
    assert simulator.get_state("missing") == b""
    simulator.put_state("z", b"1")
    simulator.del_state("z")
    simulator.put_state("c", b"C")
    simulator.record_range(RangeRecord("a", "c", [("a", (2, 0)), ("b", (3, 1))], exhausted=True))
    txrw = rwset_pb2.TxReadWriteSet.FromString(simulator.results())
    [ns] = txrw.ns_rwset
    kv = kv_rwset_pb2.KVRWSet.FromString(ns.rwset)
    assert ns.namespace == "cc"
    assert [(r.key, r.HasField("version")) for r in kv.reads] == [("b", True), ("missing", False)]
    assert (kv.reads[0].version.block_num, kv.reads[0].version.tx_num) == (3, 1)
    assert [(w.key, w.is_delete, w.value) for w in kv.writes] == [
        ("b", False, b"B2"),
        ("c", False, b"C"),
        ("z", True, b""),
    ]
    [info] = kv.range_queries_info
    assert (info.start_key, info.end_key, info.itr_exhausted) == ("a", "c", True)
    assert [r.key for r in info.raw_reads.kv_reads] == ["a", "b"]


def test_a_read_only_simulation_has_an_empty_read_write_set() -> None:
    simulator = TxSimulator(FakeState({}), "cc")
    assert not rwset_pb2.TxReadWriteSet.FromString(simulator.results()).ns_rwset
