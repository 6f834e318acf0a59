"""The peer's side of the chaincode protocol, through a small key-value chaincode.

The fedledger chaincode uses ranges, pagination and history in its own ways; this chaincode
exercises each state call directly (written to a temporary folder, run on the chaincode's own
installed fabric-contract-api): range queries over several pages, paginated queries with
bookmarks, key history with deletes, phantom reads, and the calls the embedded ledger refuses.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace

import grpc
import pytest
from fabric_protos.peer import transaction_pb2

from fedledger.embedded import EmbeddedLedger
from fedledger.embedded.probe import GatewayProbe
from fedledger.profile import ConnectionProfile
from fedledger.runtime.definition import NetworkDefinition
from fedledger.runtime.ports import free_port_base

pytestmark = pytest.mark.ledger

KV_CHAINCODE = r"""
'use strict';
const { Contract } = require('fabric-contract-api');

class Health extends Contract {
    constructor() { super('health'); }
    async Version() { return JSON.stringify({ chaincode: 'kv' }); }
}

async function collect(iterator, map) {
    const out = [];
    let result = await iterator.next();
    while (!result.done) {
        out.push(map(result.value));
        result = await iterator.next();
    }
    await iterator.close();
    return out;
}

class Kv extends Contract {
    constructor() { super('kv'); }
    async Put(ctx, key, value) { await ctx.stub.putState(key, Buffer.from(value)); return value; }
    async PutMany(ctx, prefix, count) {
        for (let i = 0; i < Number(count); i++) {
            await ctx.stub.putState(prefix + String(i).padStart(4, '0'), Buffer.from(String(i)));
        }
        return count;
    }
    async Del(ctx, key) { await ctx.stub.deleteState(key); return key; }
    async Get(ctx, key) { return (await ctx.stub.getState(key)).toString(); }
    async Range(ctx, start, end) {
        const keys = await collect(await ctx.stub.getStateByRange(start, end), (r) => r.key);
        return JSON.stringify(keys);
    }
    async Page(ctx, start, end, size, bookmark) {
        const { iterator, metadata } = await ctx.stub.getStateByRangeWithPagination(
            start, end, Number(size), bookmark);
        const keys = await collect(iterator, (r) => r.key);
        return JSON.stringify({
            keys, bookmark: metadata.bookmark, fetched: metadata.fetchedRecordsCount });
    }
    async CountInto(ctx, start, end, key) {
        const keys = await collect(await ctx.stub.getStateByRange(start, end), (r) => r.key);
        await ctx.stub.putState(key, Buffer.from(String(keys.length)));
        return String(keys.length);
    }
    async History(ctx, key) {
        const entries = await collect(await ctx.stub.getHistoryForKey(key), (m) => ({
            txid: m.txId, value: Buffer.from(m.value).toString(), deleted: m.isDelete,
            seconds: Number(m.timestamp.seconds),
        }));
        return JSON.stringify(entries);
    }
    async Private(ctx) { return (await ctx.stub.getPrivateData('secrets', 'k')).toString(); }
    async Rich(ctx) {
        const iterator = await ctx.stub.getQueryResult('{"selector":{}}');
        return JSON.stringify(await collect(iterator, (r) => r.key));
    }
}

module.exports.contracts = [Kv, Health];
"""


@pytest.fixture(scope="module")
def kv_ledger(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConnectionProfile]:
    base = NetworkDefinition.load()
    source = tmp_path_factory.mktemp("kv-chaincode")
    (source / "dist").mkdir()
    (source / "dist" / "index.js").write_text(KV_CHAINCODE)
    (source / "package.json").write_text(
        json.dumps({"name": "kv", "version": "1.0.0", "main": "dist/index.js"})
    )
    installed = base.chaincode_source / "node_modules"
    if not (installed / "fabric-contract-api").exists():
        pytest.skip(f"needs the chaincode's dependencies: run `npm ci` in {base.chaincode_source}")
    (source / "node_modules").symlink_to(installed)
    definition = replace(
        base.with_overrides(port_base=free_port_base(), batch_timeout=0.05),
        chaincode_source=source,
    )
    ledger = EmbeddedLedger(definition, tmp_path_factory.mktemp("kv-run"))
    profile = ledger.up()
    yield profile
    ledger.down()


@pytest.fixture
def kv(kv_ledger: ConnectionProfile) -> Iterator[GatewayProbe]:
    with GatewayProbe.from_profile(kv_ledger, "Org1MSP") as probe:
        yield probe


def submit(probe: GatewayProbe, *args: str) -> bytes:
    committed = probe.submit(*args)
    assert committed.code_name == "VALID", committed
    return committed.result


def test_a_range_query_reads_every_page_in_key_order(kv: GatewayProbe) -> None:
    submit(kv, "kv:PutMany", "range/", "250")
    keys = json.loads(kv.evaluate("kv:Range", "range/", "range0"))
    assert keys == [f"range/{i:04d}" for i in range(250)]
    assert json.loads(kv.evaluate("kv:Range", "range/0100", "range/0103")) == [
        "range/0100",
        "range/0101",
        "range/0102",
    ]


def test_a_paginated_query_resumes_from_its_bookmark(kv: GatewayProbe) -> None:
    submit(kv, "kv:PutMany", "page/", "25")
    first = json.loads(kv.evaluate("kv:Page", "page/", "page0", "10", ""))
    assert first["keys"] == [f"page/{i:04d}" for i in range(10)]
    assert first["fetched"] == 10
    second = json.loads(kv.evaluate("kv:Page", "page/", "page0", "10", first["bookmark"]))
    assert second["keys"] == [f"page/{i:04d}" for i in range(10, 20)]
    last = json.loads(kv.evaluate("kv:Page", "page/", "page0", "10", second["bookmark"]))
    assert last["keys"] == [f"page/{i:04d}" for i in range(20, 25)]
    assert last["bookmark"] == ""


def test_history_lists_every_write_and_delete_newest_first(kv: GatewayProbe) -> None:
    writes = [kv.submit("kv:Put", "hist", "one"), kv.submit("kv:Del", "hist")]
    writes.append(kv.submit("kv:Put", "hist", "three"))
    history = json.loads(kv.evaluate("kv:History", "hist"))
    assert [(h["txid"], h["value"], h["deleted"]) for h in history] == [
        (writes[2].txid, "three", False),
        (writes[1].txid, "", True),
        (writes[0].txid, "one", False),
    ]
    assert all(h["seconds"] > 1_700_000_000 for h in history)


def test_reads_see_committed_state(kv: GatewayProbe) -> None:
    submit(kv, "kv:Put", "plain", "v1")
    assert kv.evaluate("kv:Get", "plain") == b"v1"
    submit(kv, "kv:Del", "plain")
    assert kv.evaluate("kv:Get", "plain") == b""


def test_a_range_changed_after_simulation_is_a_phantom_read(kv: GatewayProbe) -> None:
    submit(kv, "kv:PutMany", "phantom/", "3")
    counting = kv.propose("kv:CountInto", "phantom/", "phantom0", "phantom-count")
    envelope = kv.sign_envelope(kv.endorse(counting))
    submit(kv, "kv:Put", "phantom/0001x", "new")
    kv.submit_envelope(counting.txid, envelope)
    code, _ = kv.commit_status(counting.txid)
    assert transaction_pb2.TxValidationCode.Name(code) == "PHANTOM_READ_CONFLICT"
    assert kv.evaluate("kv:Get", "phantom-count") == b""


@pytest.mark.parametrize(
    ("function", "message"),
    [
        (
            "kv:Private",
            "GET_STATE on collection 'secrets' is not supported by the embedded ledger: "
            "private data collections are not supported",
        ),
        (
            "kv:Rich",
            "GET_QUERY_RESULT is not supported by the embedded ledger: rich queries need CouchDB",
        ),
    ],
)
def test_unsupported_calls_fail_with_an_error_naming_the_call(
    kv: GatewayProbe, function: str, message: str
) -> None:
    with pytest.raises(grpc.RpcError) as raised:
        kv.evaluate(function)
    assert "chaincode response 500" in raised.value.details()
    assert message in raised.value.details()
