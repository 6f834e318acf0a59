import { expect } from 'chai';
import type { Context } from 'fabric-contract-api';
import { T0 } from './fake-ledger';
import { HOUR, ORG1, ORG2, ORG3, TASK, World, expectRefusal, json, voteInput, worldWithProposal } from './fixtures';

/** An `unavailable` report of `msp` on the proposal: no metrics, no rows, the fault first. */
function report(world: World, msp: string, id: string, reason = 'hash_mismatch: the object has SHA-256 00ff…'): Promise<Record<string, unknown>> {
    return world.vote(msp, id, 'unavailable', null, { holdoutRows: 0, reason });
}

describe('unavailable reports (CastVote)', () => {
    let world: World;
    let id: string;
    beforeEach(async () => {
        ({ world, id } = await worldWithProposal());
    });

    function cast(msp: string, input: unknown): Promise<string> {
        return world.ledger.invoke(msp, (ctx: Context) => world.registry.CastVote(ctx, json(input)));
    }

    it('records the report without a score and announces it', async () => {
        const result = await report(world, ORG2, id);
        expect(result.vote).to.deep.include({ voter: ORG2, decision: 'unavailable', score: null, metrics: {}, holdoutRows: 0 });
        expect(world.ledger.lastEvent()).to.deep.equal({
            name: 'VoteCast',
            payload: { taskId: TASK, proposalId: id, voter: ORG2, decision: 'unavailable', score: null, late: false },
        });
    });

    const refusals: [string, (p: string) => unknown, string][] = [
        [
            'a report with metrics',
            (p) => voteInput(p, 'unavailable', 0.8, { reason: 'hash_mismatch' }),
            '[INVALID_ARGUMENT] vote refused: metrics must be empty in an unavailable report: the model was not evaluated, got an object',
        ],
        [
            'a report that names no fault',
            (p) => voteInput(p, 'unavailable', null, { reason: 'the bytes were wrong' }),
            '[INVALID_ARGUMENT] vote refused: reason must start with the fault, one of hash_mismatch, object_missing, unreadable, ' +
                'alone or followed by ": " and details in an unavailable report, got "the bytes were wrong"',
        ],
        [
            'a report without a reason',
            (p) => voteInput(p, 'unavailable', null, { reason: '' }),
            '[INVALID_ARGUMENT] vote refused: reason must start with the fault, one of hash_mismatch, object_missing, unreadable, ' +
                'alone or followed by ": " and details in an unavailable report, got ""',
        ],
    ];
    for (const [name, input, message] of refusals) {
        it(`refuses ${name}`, async () => {
            await expectRefusal(cast(ORG2, input(id)), message);
            expect(world.ledger.read('vote', [id, ORG2])).to.equal(undefined);
        });
    }

    it('is replaced by the real vote of its member once it gets the bytes', async () => {
        await report(world, ORG2, id);
        world.ledger.now = T0 + 1000;
        const result = await world.vote(ORG2, id, 'approve', 0.8);
        expect(world.ledger.read('vote', [id, ORG2])).to.deep.equal(result.vote);
        expect(result.vote).to.deep.include({ decision: 'approve', castAt: new Date(T0 + 1000).toISOString() });
    });

    it('is replaced by a later report of its member (the fault changed)', async () => {
        await report(world, ORG2, id);
        await report(world, ORG2, id, 'object_missing');
        expect(world.ledger.read('vote', [id, ORG2])).to.deep.include({ decision: 'unavailable', reason: 'object_missing' });
    });

    it('never replaces a real vote: the second record is refused and names the first', async () => {
        await world.vote(ORG2, id, 'approve', 0.8);
        const first = world.ledger.lastStub?.getTxID() ?? '';
        await expectRefusal(
            cast(ORG2, voteInput(id, 'unavailable', null, { holdoutRows: 0, reason: 'hash_mismatch' })),
            `[ALREADY_VOTED] vote refused: Org2MSP already voted on proposal ${id} (approve at ${new Date(T0).toISOString()}, transaction ${first})`,
        );
        expect(world.ledger.read('vote', [id, ORG2])).to.deep.include({ decision: 'approve' });
    });

    it('is refused on a decided proposal, where a late vote is recorded', async () => {
        await world.vote(ORG1, id, 'approve', 0.75);
        await world.vote(ORG2, id, 'approve', 0.74);
        await world.decide(ORG1, id);
        await expectRefusal(
            cast(ORG3, voteInput(id, 'unavailable', null, { holdoutRows: 0, reason: 'object_missing' })),
            `[NOT_PENDING] vote refused: proposal ${id} is ACCEPTED, not PENDING; an unavailable report is for an open proposal ` +
                '(propose an expired model again to reopen it)',
        );
        expect(world.ledger.read('vote', [id, ORG3])).to.equal(undefined);
    });

    it('is refused after the voting period, as any vote is', async () => {
        world.ledger.now = T0 + HOUR;
        await expectRefusal(
            cast(ORG2, voteInput(id, 'unavailable', null, { holdoutRows: 0, reason: 'unreadable' })),
            `[VOTING_ENDED] vote refused: voting on proposal ${id} ended at ${new Date(T0 + HOUR).toISOString()}; settle it with Decide`,
        );
    });
});

describe('unavailable reports (Decide, CloseExpired, reopening)', () => {
    let world: World;
    let id: string;
    beforeEach(async () => {
        ({ world, id } = await worldWithProposal());
    });

    it('count for nothing: reports from every member decide nothing before the deadline', async () => {
        for (const msp of [ORG1, ORG2, ORG3]) {
            await report(world, msp, id);
        }
        await expectRefusal(
            world.decide(ORG1, id),
            `[UNDECIDED] decision refused: the votes on proposal ${id} decide nothing yet: 0 of 3 members voted (quorum 2); ` +
                `waiting for more votes; voting runs until ${new Date(T0 + HOUR).toISOString()}`,
        );
        const shown = (await world.evaluate((r, ctx) => r.GetProposal(ctx, id))) as Record<string, unknown>;
        expect(shown.tally).to.deep.equal({ approve: 0, reject: 0, abstain: 0, unavailable: 3, votes: {} });
    });

    it('expire the proposal with a reason naming the members and faults, announced in ProposalDecided', async () => {
        await report(world, ORG2, id);
        await report(world, ORG1, id, 'hash_mismatch');
        await world.vote(ORG3, id, 'approve', 0.8);
        world.ledger.now = T0 + HOUR;
        const reason = 'model bytes unavailable to Org1MSP, Org2MSP (hash_mismatch); re-upload the model and propose it again';
        expect(await world.decide(ORG3, id)).to.deep.include({
            status: 'EXPIRED',
            statusReason: reason,
            tally: {
                approve: 1,
                reject: 0,
                abstain: 0,
                unavailable: 2,
                votes: { [ORG3]: { decision: 'approve', score: 0.8, regression: null } },
            },
        });
        expect(world.ledger.lastEvent()?.payload).to.deep.include({
            status: 'EXPIRED',
            reason,
            tally: { approve: 1, reject: 0, abstain: 0, unavailable: 2 },
        });
    });

    it('give CloseExpired the same reason', async () => {
        await report(world, ORG3, id, 'object_missing: no object');
        world.ledger.now = T0 + HOUR;
        const closed = JSON.parse(await world.ledger.invoke(ORG1, (ctx: Context) => world.registry.CloseExpired(ctx, id))) as Record<string, unknown>;
        expect(closed).to.deep.include({
            status: 'EXPIRED',
            statusReason: 'model bytes unavailable to Org3MSP (object_missing); re-upload the model and propose it again',
        });
    });

    it('do not change a decision the votes make: an acceptance despite a report', async () => {
        await report(world, ORG3, id);
        await world.vote(ORG1, id, 'approve', 0.75);
        await world.vote(ORG2, id, 'approve', 0.74);
        expect(await world.decide(ORG1, id)).to.deep.include({ status: 'ACCEPTED' });
    });

    it('are no votes at a reopen: their members vote for real and the proposal is accepted', async () => {
        await report(world, ORG1, id);
        await report(world, ORG2, id);
        world.ledger.now = T0 + HOUR;
        expect((await world.decide(ORG3, id)).status).to.equal('EXPIRED');
        world.ledger.now = T0 + 2 * HOUR;
        const reopened = await world.propose(ORG1, 1, { uri: 's3://repaired/model.onnx' });
        expect(reopened.statusReason).to.equal(
            `reopened after it expired at ${new Date(T0 + HOUR).toISOString()}; 0 of 3 members voted (quorum 2); waiting for votes`,
        );
        await world.vote(ORG1, id, 'approve', 0.75);
        await world.vote(ORG2, id, 'approve', 0.74);
        const decided = await world.decide(ORG3, id);
        expect(decided).to.deep.include({ status: 'ACCEPTED' });
        expect(decided.tally).to.deep.include({ approve: 2, unavailable: 0 });
    });
});

describe('records of chaincode 0.2 (schema version 2)', () => {
    it('read and count as before: a tally without unavailable reads as none', async () => {
        const { world, id } = await worldWithProposal();
        await world.vote(ORG2, id, 'approve', 0.8);
        const voteKey = world.ledger.lastStub?.createCompositeKey('vote', [id, ORG2]) ?? '';
        const vote = { ...(world.ledger.read('vote', [id, ORG2]) as Record<string, unknown>), schemaVersion: 2 };
        world.ledger.state.set(voteKey, Buffer.from(JSON.stringify(vote)));
        world.ledger.now = T0 + HOUR;
        const expired = await world.decide(ORG1, id);
        const proposalKey = world.ledger.lastStub?.createCompositeKey('proposal', [id]) ?? '';
        const legacy = { ...expired, schemaVersion: 2, tally: { approve: 1, reject: 0, abstain: 0, votes: {} } };
        world.ledger.state.set(proposalKey, Buffer.from(JSON.stringify(legacy)));
        const shown = (await world.evaluate((r, ctx) => r.GetProposal(ctx, id))) as Record<string, unknown>;
        expect(shown).to.deep.include({ schemaVersion: 2, status: 'EXPIRED' });
        world.ledger.now = T0 + 2 * HOUR;
        await world.propose(ORG1, 1);
        expect(world.ledger.lastEvent()?.name).to.equal('ProposalSubmitted');
        await expectRefusal(
            world.vote(ORG2, id, 'approve', 0.7).then(() => undefined),
            `[ALREADY_VOTED] vote refused: Org2MSP already voted on proposal ${id} (approve at ${new Date(T0).toISOString()}, transaction ${String((vote as Record<string, unknown>).txId)})`,
        );
        await world.vote(ORG3, id, 'approve', 0.79);
        expect(await world.decide(ORG1, id)).to.deep.include({ status: 'ACCEPTED' });
    });
});
