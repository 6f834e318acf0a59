/**
 * World-state access shared by every concern: typed record reads and writes, index keys, range
 * reads, history, the transaction time, the caller and the event. No rich (CouchDB) queries: the
 * project's peers run LevelDB.
 */
import type { Context } from 'fabric-contract-api';
import type { Iterators } from 'fabric-shim-api';
import { canonicalJson, toBytes, type JsonValue } from './json';
import { SCHEMA_VERSION, type LedgerRecord } from './records';
import { Refusal } from './refusals';

/** Fabric deletes a key written with an empty value, so index entries hold one zero byte. */
const INDEX_VALUE = new Uint8Array([0]);

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;

export interface TxTime {
    ms: number;
    iso: string;
}

/** The transaction's timestamp, set by the client and the same on every endorser: never the local clock. */
export function txTime(ctx: Context): TxTime {
    const stamp = ctx.stub.getTxTimestamp();
    const ms = Number(stamp.seconds.toString()) * 1000 + Math.floor(stamp.nanos / 1_000_000);
    return { ms, iso: new Date(ms).toISOString() };
}

/** The caller's organisation, from the identity that signed the proposal. */
export function callerMsp(ctx: Context): string {
    return ctx.clientIdentity.getMSPID();
}

export function key(ctx: Context, objectType: string, attributes: string[]): string {
    return ctx.stub.createCompositeKey(objectType, attributes);
}

export async function readRecord<T extends LedgerRecord>(
    ctx: Context,
    docType: T['docType'],
    stateKey: string,
): Promise<T | undefined> {
    const bytes = await ctx.stub.getState(stateKey);
    if (bytes.length === 0) {
        return undefined;
    }
    return decodeRecord<T>(docType, stateKey, bytes);
}

/** Reads a record that other ledger records refer to, so that its absence is a broken ledger. */
export async function requireRecord<T extends LedgerRecord>(ctx: Context, docType: T['docType'], stateKey: string): Promise<T> {
    const record = await readRecord<T>(ctx, docType, stateKey);
    if (record === undefined) {
        throw new Refusal('LEDGER_ERROR', `ledger error: the ${docType} at ${printable(stateKey)} is missing`);
    }
    return record;
}

export function decodeRecord<T extends LedgerRecord>(docType: T['docType'], stateKey: string, bytes: Uint8Array): T {
    const value = JSON.parse(Buffer.from(bytes).toString('utf8')) as { docType?: unknown; schemaVersion?: unknown };
    if (value.docType !== docType) {
        throw new Refusal('LEDGER_ERROR', `ledger error: the record at ${printable(stateKey)} is not a ${docType}`);
    }
    if (typeof value.schemaVersion !== 'number' || value.schemaVersion > SCHEMA_VERSION) {
        throw new Refusal(
            'LEDGER_ERROR',
            `ledger error: the ${docType} at ${printable(stateKey)} has schema version ${String(value.schemaVersion)}, ` +
                `newer than this chaincode's ${SCHEMA_VERSION}; upgrade the chaincode`,
        );
    }
    return value as T;
}

export async function writeRecord(ctx: Context, stateKey: string, record: LedgerRecord): Promise<void> {
    await ctx.stub.putState(stateKey, toBytes(record));
}

export async function writeIndex(ctx: Context, objectType: string, attributes: string[]): Promise<void> {
    await ctx.stub.putState(key(ctx, objectType, attributes), INDEX_VALUE);
}

export async function deleteIndex(ctx: Context, objectType: string, attributes: string[]): Promise<void> {
    await ctx.stub.deleteState(key(ctx, objectType, attributes));
}

export interface Entry {
    attributes: string[];
    value: Uint8Array;
}

/** Every key and value under a partial composite key (allowed inside submit transactions). */
export async function entries(ctx: Context, objectType: string, attributes: string[]): Promise<Entry[]> {
    const found: Entry[] = [];
    const iterator = await ctx.stub.getStateByPartialCompositeKey(objectType, attributes);
    try {
        for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
            found.push({ attributes: ctx.stub.splitCompositeKey(next.value.key).attributes, value: next.value.value });
        }
    } finally {
        await iterator.close();
    }
    return found;
}

export interface Page<T> {
    records: T[];
    /** Pass back to get the next page; "" when there is none. */
    bookmark: string;
    fetched: number;
}

/** One page of keys under a partial composite key; paginated reads are allowed in queries only. */
export async function pageOfKeys(
    ctx: Context,
    objectType: string,
    attributes: string[],
    pageSize: number,
    bookmark: string,
): Promise<Page<Iterators.KV>> {
    const { iterator, metadata } = await ctx.stub.getStateByPartialCompositeKeyWithPagination(
        objectType,
        attributes,
        pageSize,
        bookmark,
    );
    const records: Iterators.KV[] = [];
    try {
        for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
            records.push(next.value);
        }
    } finally {
        await iterator.close();
    }
    // A peer sends the page's metadata as a serialised message; an empty page with no next
    // bookmark serialises to no bytes at all, and the shim then returns no metadata.
    const received = metadata as typeof metadata | undefined;
    return { records, bookmark: received?.bookmark ?? '', fetched: received?.fetchedRecordsCount ?? records.length };
}

export interface HistoryEntry {
    txId: string;
    timestamp: string;
    isDelete: boolean;
    value: JsonValue;
}

/** Every committed version of a key, newest first, as the peer keeps them. */
export async function keyHistory(ctx: Context, stateKey: string): Promise<HistoryEntry[]> {
    const entries: HistoryEntry[] = [];
    const iterator = await ctx.stub.getHistoryForKey(stateKey);
    try {
        for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
            const modification = next.value;
            const ms =
                Number(modification.timestamp.seconds.toString()) * 1000 +
                Math.floor(modification.timestamp.nanos / 1_000_000);
            const bytes = Buffer.from(modification.value);
            entries.push({
                txId: modification.txId,
                timestamp: new Date(ms).toISOString(),
                isDelete: modification.isDelete,
                value: modification.isDelete || bytes.length === 0 ? null : (JSON.parse(bytes.toString('utf8')) as JsonValue),
            });
        }
    } finally {
        await iterator.close();
    }
    return entries;
}

/** Sets the transaction's one event (Fabric keeps only the last setEvent of a transaction). */
export function emit(ctx: Context, name: string, payload: unknown): void {
    ctx.stub.setEvent(name, toBytes(payload));
}

export function reply(value: unknown): string {
    return canonicalJson(value);
}

/** A composite key with its zero-byte separators made visible, for error messages. */
export function printable(stateKey: string): string {
    return stateKey.split('\u0000').filter((part) => part !== '').join('/');
}
