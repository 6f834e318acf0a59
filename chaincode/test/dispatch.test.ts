/**
 * The contracts as a peer runs them: through fabric-shim's contract dispatcher (ChaincodeFromContract),
 * with a real X.509 creator, the generated metadata and fabric-contract-api's JSON serializer. Guards the
 * class-transformer pin (FACTS.md: 0.4.1 breaks object serialization and the metadata call).
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import { expect } from 'chai';
import { JSONSerializer } from 'fabric-contract-api';
import { contracts } from '../src/index';
import { FakeLedger } from './fake-ledger';
import { ORG1, ORG4, json, taskInput } from './fixtures';

// fabric-shim ships no types for its contract dispatcher.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const ChaincodeFromContract = require('fabric-shim/lib/contract-spi/chaincodefromcontract') as new (
        contractClasses: unknown[],
        serializers: unknown,
        metadata: unknown,
        title: string,
        version: string,
    ) => {
        metadata: { contracts: Record<string, { transactions: { name: string; tag: string[] }[] }> };
        Invoke(stub: unknown): Promise<{ status: number; message?: string; payload?: Uint8Array }>;
    };

const CERTIFICATE = readFileSync(join(__dirname, 'data', 'org1-client.pem'), 'utf8');
const SERIALIZERS = { transaction: 'jsonSerializer', serializers: { jsonSerializer: JSONSerializer } };

describe('the contracts behind fabric-shim', () => {
    const chaincode = new ChaincodeFromContract(contracts, SERIALIZERS, {}, 'fedledger-chaincode', '0.1.0');

    it('serializes objects with fabric-contract-api (class-transformer pinned to 0.4.0)', () => {
        const bytes = new JSONSerializer().toBuffer({ a: 1 }, { type: 'object' });
        expect(Buffer.from(bytes).toString()).to.equal('{"a":1}');
    });

    it('registers the registry first and marks queries as evaluate and the rest as submit', () => {
        expect(Object.keys(chaincode.metadata.contracts).slice(0, 2)).to.deep.equal(['registry', 'health']);
        const registry = chaincode.metadata.contracts.registry?.transactions ?? [];
        const tags = Object.fromEntries(registry.map((tx) => [tx.name, tx.tag[0]]));
        expect(tags).to.deep.equal({
            CreateTask: 'SUBMIT',
            SubmitProposal: 'SUBMIT',
            CastVote: 'SUBMIT',
            Decide: 'SUBMIT',
            AnnounceValidator: 'SUBMIT',
            ListValidators: 'EVALUATE',
            CloseExpired: 'SUBMIT',
            ProposeChange: 'SUBMIT',
            VoteChange: 'SUBMIT',
            GetTask: 'EVALUATE',
            ListTasks: 'EVALUATE',
            GetProposal: 'EVALUATE',
            ListProposals: 'EVALUATE',
            GetVotes: 'EVALUATE',
            GetChampion: 'EVALUATE',
            GetChange: 'EVALUATE',
            ListChanges: 'EVALUATE',
            GetHistory: 'EVALUATE',
        });
        const health = chaincode.metadata.contracts.health?.transactions ?? [];
        expect(health.map((tx) => `${tx.name}:${String(tx.tag[0])}`)).to.deep.equal(['Version:EVALUATE', 'Beat:SUBMIT']);
    });

    it('routes unprefixed names to the registry and "health:" names to the health contract', async () => {
        const ledger = new FakeLedger();
        const created = await ledger.dispatch(chaincode, ORG1, CERTIFICATE, ['CreateTask', json(taskInput())]);
        expect(created.status, created.message).to.equal(200);
        expect(JSON.parse(Buffer.from(created.payload ?? []).toString())).to.deep.include({ id: 'credit-risk', createdBy: ORG1 });
        const version = await ledger.dispatch(chaincode, ORG1, CERTIFICATE, ['health:Version']);
        expect(Buffer.from(version.payload ?? []).toString()).to.match(/^\{"chaincode":"fedledger","version":"[^"]+"\}$/);
        const beat = await ledger.dispatch(chaincode, ORG1, CERTIFICATE, ['health:Beat', 'probe']);
        expect(Buffer.from(beat.payload ?? []).toString()).to.equal('1');
    });

    it('answers the metadata call', async () => {
        const ledger = new FakeLedger();
        const response = await ledger.dispatch(chaincode, ORG1, CERTIFICATE, ['org.hyperledger.fabric:GetMetadata']);
        expect(response.status, response.message).to.equal(200);
        const metadata = JSON.parse(Buffer.from(response.payload ?? []).toString()) as { contracts: Record<string, unknown> };
        expect(Object.keys(metadata.contracts)).to.include.members(['registry', 'health']);
    });

    it('returns a refusal as status 500 with the exact message', async () => {
        const ledger = new FakeLedger();
        const response = await ledger.dispatch(chaincode, ORG4, CERTIFICATE, ['CreateTask', json(taskInput())]);
        expect(response.status).to.equal(500);
        // fabric-shim 2.5 answers with the error's message, 2.2 with the error itself, which its
        // handler sends the peer as `'' + message`: the same text either way.
        expect(String(response.message)).to.equal(
            '[NOT_A_MEMBER] task refused: Org4MSP is not among the members of task credit-risk; a task is created by one of its members',
        );
        expect(ledger.state.size).to.equal(0);
    });
});
