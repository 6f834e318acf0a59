/** Shared inputs and helpers of the unit tests. */
import { createHash } from 'crypto';
import { expect } from 'chai';
import type { Context } from 'fabric-contract-api';
import { Refusal } from '../src/refusals';
import { RegistryContract } from '../src/registry-contract';
import { FakeLedger } from './fake-ledger';

export const ORG1 = 'Org1MSP';
export const ORG2 = 'Org2MSP';
export const ORG3 = 'Org3MSP';
export const ORG4 = 'Org4MSP';
export const TASK = 'credit-risk';
export const HOUR = 3600 * 1000;

export const SCHEMA = {
    features: [
        { name: 'funded_amnt', type: 'float' },
        { name: 'term', type: 'category', categories: ['term_36', 'term_60'] },
    ],
    target: { name: 'Class', type: 'category', classes: ['bad', 'good'] },
};

export const POLICY = {
    quorum: 2,
    approvalThreshold: 0.5,
    minScore: 0.6,
    maxRegression: 0.02,
    votingPeriodSeconds: 3600,
    maxModelBytes: 64 * 1024 * 1024,
    maxOpenProposalsPerOrg: 2,
};

export function taskInput(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    return {
        id: TASK,
        description: 'Lending Club default risk',
        schema: SCHEMA,
        metric: 'roc_auc',
        members: [ORG3, ORG1, ORG2],
        policy: POLICY,
        ...overrides,
    };
}

export function modelSha(n: number): string {
    return createHash('sha256').update(`model ${n}`).digest('hex');
}

export function proposalInput(n: number, overrides: Record<string, unknown> = {}): Record<string, unknown> {
    return {
        taskId: TASK,
        modelSha256: modelSha(n),
        uri: `s3://models/${modelSha(n)}.onnx`,
        sizeBytes: 123456,
        format: 'onnx',
        metrics: { roc_auc: 0.71 },
        ...overrides,
    };
}

export function voteInput(
    proposalId: string,
    decision: string,
    score: number | null,
    overrides: Record<string, unknown> = {},
): Record<string, unknown> {
    return {
        proposalId,
        decision,
        metrics: score === null ? {} : { roc_auc: score, accuracy: 0.9 },
        holdoutRows: 2000,
        evaluatorVersion: 'fedledger-evaluate 0.1.0',
        reason: decision === 'abstain' ? 'holdout unavailable' : '',
        ...overrides,
    };
}

export function json(value: unknown): string {
    return JSON.stringify(value);
}

/** Asserts that the promise fails with exactly this message. */
export async function expectRefusal(promise: Promise<unknown>, message: string): Promise<void> {
    let failure: unknown;
    try {
        await promise;
    } catch (err) {
        failure = err;
    }
    expect(failure, `expected the error: ${message}`).to.be.instanceOf(Refusal);
    expect((failure as Error).message).to.equal(message);
}

/** Asserts that the promise fails with a message that starts so (for messages that quote the JS engine). */
export async function expectRefusalStart(promise: Promise<unknown>, start: string): Promise<void> {
    let failure: unknown;
    try {
        await promise;
    } catch (err) {
        failure = err;
    }
    expect(failure, `expected an error starting: ${start}`).to.be.instanceOf(Refusal);
    expect((failure as Error).message.startsWith(start), (failure as Error).message).to.equal(true);
}

/** A ledger, the registry and shortcuts for its transactions. */
export class World {
    readonly ledger = new FakeLedger();
    readonly registry = new RegistryContract();

    async createTask(msp = ORG1, overrides: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
        return parse(await this.ledger.invoke(msp, (ctx) => this.registry.CreateTask(ctx, json(taskInput(overrides)))));
    }

    async propose(msp: string, n: number, overrides: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
        return parse(await this.ledger.invoke(msp, (ctx) => this.registry.SubmitProposal(ctx, json(proposalInput(n, overrides)))));
    }

    async vote(
        msp: string,
        proposalId: string,
        decision: string,
        score: number | null,
        overrides: Record<string, unknown> = {},
    ): Promise<Record<string, unknown>> {
        return parse(
            await this.ledger.invoke(msp, (ctx) => this.registry.CastVote(ctx, json(voteInput(proposalId, decision, score, overrides)))),
        );
    }

    /** Submits Decide on the proposal as a member of `msp`. */
    async decide(msp: string, proposalId: string): Promise<Record<string, unknown>> {
        return parse(await this.ledger.invoke(msp, (ctx) => this.registry.Decide(ctx, proposalId)));
    }

    /** Proposes model n from ORG1, has ORG1 and ORG2 approve it with the given scores, and decides it. */
    async accept(n: number, scores: [number, number] = [0.75, 0.74]): Promise<string> {
        const id = (await this.propose(ORG1, n)).id as string;
        await this.vote(ORG1, id, 'approve', scores[0]);
        await this.vote(ORG2, id, 'approve', scores[1]);
        await this.decide(ORG1, id);
        return id;
    }

    /** Runs a query as ORG1 and parses its JSON answer. */
    async evaluate(transaction: (registry: RegistryContract, ctx: Context) => Promise<string>): Promise<unknown> {
        return JSON.parse(await this.ledger.invoke(ORG1, (ctx) => transaction(this.registry, ctx))) as unknown;
    }
}

export function parse(text: string): Record<string, unknown> {
    return JSON.parse(text) as Record<string, unknown>;
}

/** A world with the task created by ORG1 and model 1 proposed by ORG1, and the proposal's id. */
export async function worldWithProposal(): Promise<{ world: World; id: string }> {
    const world = new World();
    await world.createTask(ORG1);
    return { world, id: (await world.propose(ORG1, 1)).id as string };
}
