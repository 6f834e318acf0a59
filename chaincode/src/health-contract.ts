/**
 * The health contract, for tooling, readiness checks and benchmarks: "health:Version" and
 * "health:Beat". Two concurrent Beat calls on one name read and write the same key, which is the
 * project's standard way to provoke an MVCC_READ_CONFLICT in integration tests.
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import { Context, Contract, Info, Param, Returns, Transaction } from 'fabric-contract-api';
import { ID_PATTERN, ID_RULE, checkArgument } from './input';
import { emit, key, readRecord, reply, txTime, writeRecord } from './ledger';
import { KEYS, SCHEMA_VERSION, type Heartbeat } from './records';
import { Refusal } from './refusals';

/** The version in package.json, which sits one folder above both src/ and dist/. */
export function packageVersion(): string {
    const manifest = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version?: unknown };
    if (typeof manifest.version !== 'string') {
        throw new Refusal('INTERNAL', 'package.json has no version');
    }
    return manifest.version;
}

@Info({ title: 'fedledger health', description: 'Version and heartbeat for readiness checks and tests' })
export class HealthContract extends Contract {
    private readonly version: string;

    constructor(version: string = packageVersion()) {
        super('health');
        this.version = version;
    }

    @Transaction(false)
    @Returns('string')
    async Version(_ctx: Context): Promise<string> {
        return Promise.resolve(reply({ chaincode: 'fedledger', version: this.version }));
    }

    @Transaction()
    @Param('name', 'string', 'the heartbeat name')
    @Returns('string')
    async Beat(ctx: Context, name: string): Promise<string> {
        checkArgument('beat refused', 'name', name, ID_PATTERN, ID_RULE);
        const stateKey = key(ctx, KEYS.heartbeat, [name]);
        const previous = await readRecord<Heartbeat>(ctx, 'heartbeat', stateKey);
        const count = (previous?.count ?? 0) + 1;
        const beat: Heartbeat = {
            docType: 'heartbeat',
            schemaVersion: SCHEMA_VERSION,
            name,
            count,
            updatedAt: txTime(ctx).iso,
        };
        await writeRecord(ctx, stateKey, beat);
        emit(ctx, 'Heartbeat', { name, count });
        return reply(count);
    }
}
