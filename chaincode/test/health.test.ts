import { readFileSync } from 'fs';
import { join } from 'path';
import { expect } from 'chai';
import type { Context } from 'fabric-contract-api';
import { HealthContract, packageVersion } from '../src/health-contract';
import { FakeLedger, T0 } from './fake-ledger';
import { ORG1, ORG2, expectRefusal } from './fixtures';

describe('health contract', () => {
    let ledger: FakeLedger;
    let health: HealthContract;
    beforeEach(() => {
        ledger = new FakeLedger();
        health = new HealthContract();
    });

    it('is named health', () => {
        expect(health.getName()).to.equal('health');
    });

    it('Version reports the package version', async () => {
        const manifest = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string };
        expect(packageVersion()).to.equal(manifest.version);
        expect(await ledger.invoke(ORG1, (ctx: Context) => health.Version(ctx))).to.equal(
            `{"chaincode":"fedledger","version":"${manifest.version}"}`,
        );
        expect(await ledger.invoke(ORG1, (ctx: Context) => new HealthContract('9.9.9').Version(ctx))).to.equal(
            '{"chaincode":"fedledger","version":"9.9.9"}',
        );
    });

    it('Beat counts per name, stores the count and emits Heartbeat', async () => {
        expect(await ledger.invoke(ORG1, (ctx: Context) => health.Beat(ctx, 'probe'))).to.equal('1');
        expect(await ledger.invoke(ORG2, (ctx: Context) => health.Beat(ctx, 'probe'))).to.equal('2');
        expect(await ledger.invoke(ORG2, (ctx: Context) => health.Beat(ctx, 'other'))).to.equal('1');
        expect(ledger.read('heartbeat', ['probe'])).to.deep.equal({
            docType: 'heartbeat',
            schemaVersion: 3,
            name: 'probe',
            count: 2,
            updatedAt: new Date(T0).toISOString(),
        });
        expect(ledger.events.map((event) => event.payload)).to.deep.equal([
            { name: 'probe', count: 1 },
            { name: 'probe', count: 2 },
            { name: 'other', count: 1 },
        ]);
        expect(ledger.lastEvent()?.name).to.equal('Heartbeat');
    });

    it('Beat reads then writes the same key, so concurrent beats conflict on a peer', async () => {
        await ledger.invoke(ORG1, (ctx: Context) => health.Beat(ctx, 'probe'));
        const stub = ledger.lastStub;
        const key = stub?.createCompositeKey('heartbeat', ['probe']);
        expect(stub?.getState.calledOnceWith(key)).to.equal(true);
        expect(stub?.putState.calledOnceWith(key)).to.equal(true);
    });

    it('Beat refuses a malformed name', async () => {
        await expectRefusal(
            ledger.invoke(ORG1, (ctx: Context) => health.Beat(ctx, '')),
            '[INVALID_ARGUMENT] beat refused: name must be 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit, got ""',
        );
    });
});
