/**
 * A world state behind sinon stubs of fabric-shim's ChaincodeStub and ClientIdentity, as Fabric's own
 * Node chaincode tests stub them. Like a peer, a transaction reads committed state only (never its
 * own writes), its writes are applied only if it succeeds, and only its last event survives.
 */
import { createHash } from 'crypto';
import Long from 'long';
import * as sinon from 'sinon';
import { Context } from 'fabric-contract-api';
import { ChaincodeStub, ClientIdentity } from 'fabric-shim';
import type { Iterators } from 'fabric-shim-api';

export interface LedgerEvent {
    name: string;
    payload: unknown;
}

interface Modification {
    txId: string;
    ms: number;
    value: Uint8Array | null;
}

export const T0 = Date.parse('2026-01-05T10:00:00.000Z');

type QueryResult<T> = Promise<Iterators.CommonIterator<T>> & AsyncIterable<T>;

function iterator<T>(items: T[]): Iterators.CommonIterator<T> {
    let index = 0;
    return {
        next: () => {
            const value = items[index];
            index += 1;
            return Promise.resolve(value === undefined ? { value: undefined as unknown as T, done: true } : { value, done: false });
        },
        close: () => Promise.resolve(),
    };
}

function iterate<T>(items: T[]): QueryResult<T> {
    const asyncIterable: AsyncIterable<T> = {
        [Symbol.asyncIterator]: () => {
            const cursor = iterator(items);
            return { next: () => cursor.next() as Promise<IteratorResult<T>> };
        },
    };
    return Object.assign(Promise.resolve(iterator(items)), asyncIterable);
}

export class FakeLedger {
    readonly state = new Map<string, Uint8Array>();
    readonly history = new Map<string, Modification[]>();
    readonly events: LedgerEvent[] = [];
    /** The timestamp the next transaction carries, in milliseconds since the epoch. */
    now = T0;
    private txCount = 0;
    lastStub: sinon.SinonStubbedInstance<ChaincodeStub> | undefined;
    /** What the last transaction read (keys, and ranges as "prefix*") and wrote, as a peer's read-write set records them. */
    lastReads: string[] = [];
    lastWrites: string[] = [];

    /** Runs one transaction as a member of `msp`; commits its writes and event only if it succeeds. */
    async invoke(msp: string, transaction: (ctx: Context) => Promise<string>): Promise<string> {
        const tx = this.begin(msp);
        const ctx = new Context();
        ctx.stub = tx.stub;
        ctx.clientIdentity = tx.identity;
        const result = await transaction(ctx);
        tx.commit();
        return result;
    }

    /**
     * Sends one transaction through fabric-shim's contract dispatcher, as a peer would: `args` are the
     * function name and its arguments, the creator is `certificate` under `msp`. Commits on status 200.
     */
    async dispatch(
        chaincode: { Invoke(stub: ChaincodeStub): Promise<{ status: number; message?: string; payload?: Uint8Array }> },
        msp: string,
        certificate: string,
        args: string[],
    ): Promise<{ status: number; message?: string; payload?: Uint8Array }> {
        const tx = this.begin(msp);
        // getBufferArgs is in fabric-shim's ChaincodeStub but not in its type declarations.
        (tx.stub as unknown as { getBufferArgs: sinon.SinonStub }).getBufferArgs.returns(args.map((arg) => Buffer.from(arg)));
        tx.stub.getChannelID.returns('fedledger');
        tx.stub.getCreator.returns({ mspid: msp, idBytes: Buffer.from(certificate) });
        const response = await chaincode.Invoke(tx.stub);
        if (response.status === 200) {
            tx.commit();
        }
        return response;
    }

    private begin(msp: string): {
        stub: sinon.SinonStubbedInstance<ChaincodeStub>;
        identity: sinon.SinonStubbedInstance<ClientIdentity>;
        commit: () => void;
    } {
        this.txCount += 1;
        const txId = createHash('sha256').update(`tx${this.txCount}`).digest('hex');
        const writes = new Map<string, Uint8Array | null>();
        const reads: string[] = [];
        this.lastReads = reads;
        this.lastWrites = [];
        let event: LedgerEvent | undefined;
        // A sandbox per transaction: the stubs change no global, so nothing needs restoring.
        const sandbox = sinon.createSandbox();
        const stub = sandbox.createStubInstance(ChaincodeStub);
        const real = ChaincodeStub.prototype;
        stub.createCompositeKey.callsFake((type, attributes) => real.createCompositeKey.call(stub, type, attributes));
        stub.splitCompositeKey.callsFake((compositeKey) => real.splitCompositeKey.call(stub, compositeKey));
        stub.getTxID.returns(txId);
        const ms = this.now;
        stub.getTxTimestamp.returns({ seconds: Long.fromNumber(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 });
        stub.getState.callsFake((key) => {
            reads.push(key);
            return Promise.resolve(this.state.get(key) ?? new Uint8Array(0));
        });
        stub.putState.callsFake((key, value) => {
            if (value.length === 0) {
                throw new Error(`test ledger: putState(${key}) with an empty value would delete the key on a peer`);
            }
            writes.set(key, Buffer.from(value));
            return Promise.resolve();
        });
        stub.deleteState.callsFake((key) => {
            writes.set(key, null);
            return Promise.resolve();
        });
        stub.getStateByPartialCompositeKey.callsFake((type, attributes) => {
            const prefix = real.createCompositeKey.call(stub, type, attributes);
            reads.push(`${prefix}*`);
            return iterate(this.range(prefix, '', Infinity).kvs);
        });
        stub.getStateByPartialCompositeKeyWithPagination.callsFake((type, attributes, pageSize, bookmark) => {
            const page = this.range(real.createCompositeKey.call(stub, type, attributes), bookmark ?? '', pageSize);
            // As the shim does: an all-default QueryResponseMetadata arrives as no bytes, no metadata.
            const empty = page.kvs.length === 0 && page.next === '';
            const response = {
                iterator: iterator(page.kvs),
                metadata: (empty ? undefined : { fetchedRecordsCount: page.kvs.length, bookmark: page.next }) as {
                    fetchedRecordsCount: number;
                    bookmark: string;
                },
            };
            return Object.assign(Promise.resolve(response), { [Symbol.asyncIterator]: iterate(page.kvs)[Symbol.asyncIterator] });
        });
        stub.getHistoryForKey.callsFake((key) =>
            iterate(
                [...(this.history.get(key) ?? [])].reverse().map((modification) => ({
                    txId: modification.txId,
                    isDelete: modification.value === null,
                    value: modification.value ?? new Uint8Array(0),
                    timestamp: {
                        seconds: Long.fromNumber(Math.floor(modification.ms / 1000)),
                        nanos: (modification.ms % 1000) * 1_000_000,
                    },
                })),
            ),
        );
        stub.setEvent.callsFake((name, payload) => {
            event = { name, payload: JSON.parse(Buffer.from(payload).toString('utf8')) as unknown };
        });
        const identity = sandbox.createStubInstance(ClientIdentity);
        identity.getMSPID.returns(msp);
        this.lastStub = stub;
        const commit = (): void => {
            this.lastWrites = [...writes.keys()];
            for (const [key, value] of writes) {
                if (value === null) {
                    this.state.delete(key);
                } else {
                    this.state.set(key, value);
                }
                const trail = this.history.get(key) ?? [];
                trail.push({ txId, ms, value });
                this.history.set(key, trail);
            }
            if (event !== undefined) {
                this.events.push(event);
            }
        };
        return { stub, identity, commit };
    }

    /** Keys under `prefix` from `bookmark` on, sorted as LevelDB sorts them, at most `limit`. */
    private range(prefix: string, bookmark: string, limit: number): { kvs: Iterators.KV[]; next: string } {
        const keys = [...this.state.keys()].filter((key) => key.startsWith(prefix) && key >= bookmark).sort();
        const taken = keys.slice(0, limit);
        return {
            kvs: taken.map((key) => ({ namespace: 'fedledger', key, value: this.state.get(key) ?? new Uint8Array(0) })),
            next: keys[limit] ?? '',
        };
    }

    lastEvent(): LedgerEvent | undefined {
        return this.events.at(-1);
    }

    /** The committed record under a composite key, parsed. */
    read(objectType: string, attributes: string[]): unknown {
        const key = ChaincodeStub.prototype.createCompositeKey.call(
            sinon.createSandbox().createStubInstance(ChaincodeStub),
            objectType,
            attributes,
        );
        const bytes = this.state.get(key);
        return bytes === undefined ? undefined : JSON.parse(Buffer.from(bytes).toString('utf8'));
    }
}
