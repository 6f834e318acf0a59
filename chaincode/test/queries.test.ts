import { expect } from 'chai';
import type { Context } from 'fabric-contract-api';
import type { RegistryContract } from '../src/registry-contract';
import { T0 } from './fake-ledger';
import { ORG1, ORG2, ORG3, POLICY, TASK, World, expectRefusal, expectRefusalStart, json } from './fixtures';

interface Page {
    records: Record<string, unknown>[];
    bookmark: string;
    fetched: number;
}

describe('queries', () => {
    let world: World;
    let accepted: string;
    let pending: string;
    let rejected: string;
    beforeEach(async () => {
        world = new World();
        await world.createTask(ORG1);
        await world.createTask(ORG2, { id: 'churn' });
        accepted = await world.accept(1);
        pending = (await world.propose(ORG2, 2)).id as string;
        await world.vote(ORG3, pending, 'approve', 0.8);
        rejected = (await world.propose(ORG3, 3)).id as string;
        await world.vote(ORG1, rejected, 'reject', 0.75);
        await world.vote(ORG2, rejected, 'reject', 0.74);
        await world.decide(ORG3, rejected);
    });

    function query(call: (registry: RegistryContract, ctx: Context) => Promise<string>): Promise<unknown> {
        return world.evaluate(call);
    }
    function ids(page: unknown): string[] {
        return (page as Page).records.map((record) => record.id as string);
    }

    it('GetTask returns the task record', async () => {
        expect(await query((r, ctx) => r.GetTask(ctx, TASK))).to.deep.equal(world.ledger.read('task', [TASK]));
        await expectRefusal(query((r, ctx) => r.GetTask(ctx, 'fraud')), '[TASK_NOT_FOUND] query refused: task fraud does not exist; list tasks with ListTasks');
    });

    it('ListTasks pages through the tasks with bookmarks', async () => {
        const first = (await query((r, ctx) => r.ListTasks(ctx, json({ pageSize: 1 })))) as Page;
        expect(ids(first)).to.deep.equal(['churn']);
        expect(first.fetched).to.equal(1);
        const second = (await query((r, ctx) => r.ListTasks(ctx, json({ pageSize: 1, bookmark: first.bookmark })))) as Page;
        expect(ids(second)).to.deep.equal([TASK]);
        expect(second.bookmark).to.equal('');
        expect(ids(await query((r, ctx) => r.ListTasks(ctx, '')))).to.deep.equal(['churn', TASK]);
    });

    it('an empty page has no bookmark (the shim gives an empty page no metadata)', async () => {
        const empty = (await query((r, ctx) => r.ListProposals(ctx, json({ status: 'EXPIRED' })))) as Page;
        expect(empty.records).to.deep.equal([]);
        expect(empty.bookmark).to.equal('');
        expect(empty.fetched).to.equal(0);
    });

    it('ListProposals filters by task, status and proposer', async () => {
        const all = [accepted, pending, rejected].sort();
        expect(ids(await query((r, ctx) => r.ListProposals(ctx, '')))).to.deep.equal(all);
        expect(ids(await query((r, ctx) => r.ListProposals(ctx, json({ taskId: TASK }))))).to.deep.equal(all);
        expect(ids(await query((r, ctx) => r.ListProposals(ctx, json({ taskId: 'churn' }))))).to.deep.equal([]);
        expect(ids(await query((r, ctx) => r.ListProposals(ctx, json({ status: 'PENDING' }))))).to.deep.equal([pending]);
        expect(ids(await query((r, ctx) => r.ListProposals(ctx, json({ status: 'ACCEPTED', taskId: TASK }))))).to.deep.equal([accepted]);
        expect(ids(await query((r, ctx) => r.ListProposals(ctx, json({ status: 'REJECTED', taskId: TASK, proposer: ORG3 }))))).to.deep.equal([
            rejected,
        ]);
        expect(ids(await query((r, ctx) => r.ListProposals(ctx, json({ status: 'REJECTED', taskId: TASK, proposer: ORG1 }))))).to.deep.equal([]);
    });

    it('ListProposals pages with bookmarks', async () => {
        const all = [accepted, pending, rejected].sort();
        const first = (await query((r, ctx) => r.ListProposals(ctx, json({ taskId: TASK, pageSize: 2 })))) as Page;
        expect(ids(first)).to.deep.equal(all.slice(0, 2));
        const second = (await query((r, ctx) => r.ListProposals(ctx, json({ taskId: TASK, pageSize: 2, bookmark: first.bookmark })))) as Page;
        expect(ids(second)).to.deep.equal(all.slice(2));
    });

    const refusals: [string, string, string][] = [
        ['a proposer without task and status', json({ proposer: ORG1 }), '[INVALID_ARGUMENT] query refused: proposer filters only together with taskId and status, got "Org1MSP"'],
        ['an unknown status', json({ status: 'OPEN' }), '[INVALID_ARGUMENT] query refused: status must be one of PENDING, ACCEPTED, REJECTED, EXPIRED, REVOKED, got "OPEN"'],
        ['a page over the limit', json({ pageSize: 201 }), '[INVALID_ARGUMENT] query refused: pageSize must be an integer from 1 to 200, got 201'],
        ['a bookmark that is not a string', json({ bookmark: 5 }), '[INVALID_ARGUMENT] query refused: bookmark must be a string of at most 2048 characters, as returned by the previous page, got 5'],
        ['an unknown filter', json({ model: 'x' }), '[INVALID_ARGUMENT] query refused: unknown field model (allowed: taskId, status, proposer, pageSize, bookmark)'],
    ];
    for (const [name, queryJson, message] of refusals) {
        it(`ListProposals refuses ${name}`, async () => {
            await expectRefusal(query((r, ctx) => r.ListProposals(ctx, queryJson)), message);
        });
    }

    it('ListProposals refuses a query that is not JSON', async () => {
        await expectRefusalStart(query((r, ctx) => r.ListProposals(ctx, '{')), '[INVALID_ARGUMENT] query refused: the argument is not valid JSON (');
    });

    it('GetProposal returns a decided proposal as recorded', async () => {
        expect(await query((r, ctx) => r.GetProposal(ctx, rejected))).to.deep.equal(world.ledger.read('proposal', [rejected]));
    });

    it('GetProposal and ListProposals count the votes of a PENDING proposal (votes do not write the proposal)', async () => {
        const live = {
            ...(world.ledger.read('proposal', [pending]) as Record<string, unknown>),
            statusReason: '1 of 3 members voted (quorum 2); waiting for more votes',
            tally: { approve: 1, reject: 0, abstain: 0, unavailable: 0, votes: { [ORG3]: { decision: 'approve', score: 0.8, regression: null } } },
        };
        expect(await query((r, ctx) => r.GetProposal(ctx, pending))).to.deep.equal(live);
        expect((await query((r, ctx) => r.ListProposals(ctx, json({ status: 'PENDING' }))))).to.deep.include({ records: [live] });
        expect(((await query((r, ctx) => r.ListProposals(ctx, ''))) as Page).records).to.deep.include(live);
    });

    it('GetProposal says when the votes decide a PENDING proposal that waits for Decide', async () => {
        await world.vote(ORG1, pending, 'approve', 0.8);
        expect(await query((r, ctx) => r.GetProposal(ctx, pending))).to.deep.include({
            status: 'PENDING',
            statusReason:
                'the votes decide ACCEPTED (2 of 2 approve or reject votes approve (threshold 0.5), 2 of 3 members voted (quorum 2)); waiting for a Decide transaction',
        });
    });

    it('GetVotes returns every vote on a proposal, ordered by organisation', async () => {
        const votes = (await query((r, ctx) => r.GetVotes(ctx, rejected))) as Record<string, unknown>[];
        expect(votes.map((vote) => vote.voter)).to.deep.equal([ORG1, ORG2]);
        expect(await query((r, ctx) => r.GetVotes(ctx, (world.ledger.read('proposal', [pending]) as { id: string }).id))).to.have.length(1);
    });

    it("GetChampion returns the champion with every member's current score, or says there is none", async () => {
        await world.vote(ORG3, accepted, 'approve', 0.7);
        expect(await query((r, ctx) => r.GetChampion(ctx, TASK))).to.deep.include({
            proposalId: accepted,
            taskId: TASK,
            scores: { [ORG1]: 0.75, [ORG2]: 0.74, [ORG3]: 0.7 },
        });
        expect(world.ledger.read('champion', [TASK])).to.deep.include({ scores: { [ORG1]: 0.75, [ORG2]: 0.74 } });
        await expectRefusal(
            query((r, ctx) => r.GetChampion(ctx, 'churn')),
            '[NO_CHAMPION] query refused: task churn has no champion yet; none of its proposals has been accepted',
        );
    });

    it('GetHistory returns every version of a proposal, newest first', async () => {
        const history = (await query((r, ctx) => r.GetHistory(ctx, 'proposal', accepted))) as { key: string; entries: Record<string, unknown>[] };
        expect(history.key).to.equal(`proposal/${accepted}`);
        expect(history.entries.map((entry) => (entry.value as { status: string }).status)).to.deep.equal(['ACCEPTED', 'PENDING']);
        expect(history.entries[0]).to.deep.include({ isDelete: false, timestamp: new Date(T0).toISOString() });
    });

    it('GetHistory covers tasks, champions (deletions included) and changes', async () => {
        const task = (await query((r, ctx) => r.GetHistory(ctx, 'task', TASK))) as { entries: unknown[] };
        expect(task.entries).to.have.length(1);
        const change = JSON.parse(
            await world.ledger.invoke(ORG1, (ctx: Context) => world.registry.ProposeChange(ctx, json({ taskId: TASK, type: 'revokeChampion' }))),
        ) as { id: string };
        for (const msp of [ORG2, ORG3]) {
            await world.ledger.invoke(msp, (ctx: Context) => world.registry.VoteChange(ctx, change.id, 'approve'));
        }
        const champion = (await query((r, ctx) => r.GetHistory(ctx, 'champion', TASK))) as { entries: Record<string, unknown>[] };
        expect(champion.entries.map((entry) => entry.isDelete)).to.deep.equal([true, false]);
        expect(champion.entries[0]?.value).to.equal(null);
        const trail = (await query((r, ctx) => r.GetHistory(ctx, 'change', change.id))) as { entries: unknown[] };
        expect(trail.entries).to.have.length(3);
    });

    it('GetHistory refuses other records and malformed ids', async () => {
        await expectRefusal(
            query((r, ctx) => r.GetHistory(ctx, 'vote', accepted)),
            '[INVALID_ARGUMENT] query refused: history is kept for task, proposal, champion, change, not "vote"',
        );
        await expectRefusal(
            query((r, ctx) => r.GetHistory(ctx, 'proposal', TASK)),
            '[INVALID_ARGUMENT] query refused: proposalId must be "p-" and 32 lowercase hex characters, got "credit-risk"',
        );
        await expectRefusal(
            query((r, ctx) => r.GetHistory(ctx, 'task', 'a b')),
            '[INVALID_ARGUMENT] query refused: taskId must be 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit, got "a b"',
        );
    });

    it('GetChange and ListChanges return governance changes of a task', async () => {
        const change = JSON.parse(
            await world.ledger.invoke(ORG1, (ctx: Context) =>
                world.registry.ProposeChange(ctx, json({ taskId: TASK, type: 'updatePolicy', policy: POLICY })),
            ),
        ) as { id: string };
        expect(await query((r, ctx) => r.GetChange(ctx, change.id))).to.deep.equal(world.ledger.read('change', [change.id]));
        expect(ids(await query((r, ctx) => r.ListChanges(ctx, json({ taskId: TASK }))))).to.deep.equal([change.id]);
        expect(ids(await query((r, ctx) => r.ListChanges(ctx, json({ taskId: 'churn' }))))).to.deep.equal([]);
        await expectRefusal(query((r, ctx) => r.ListChanges(ctx, '')), '[INVALID_ARGUMENT] query refused: taskId must be a non-empty string, got nothing');
    });

    it('refuses unknown proposals and changes', async () => {
        const unknown = `p-${'b'.repeat(32)}`;
        const message = `[PROPOSAL_NOT_FOUND] query refused: proposal ${unknown} does not exist; list proposals with ListProposals`;
        await expectRefusal(query((r, ctx) => r.GetProposal(ctx, unknown)), message);
        await expectRefusal(query((r, ctx) => r.GetVotes(ctx, unknown)), message);
        await expectRefusal(
            query((r, ctx) => r.GetChange(ctx, `c-${'b'.repeat(32)}`)),
            `[CHANGE_NOT_FOUND] query refused: change c-${'b'.repeat(32)} does not exist; list changes with ListChanges`,
        );
        await expectRefusal(
            query((r, ctx) => r.GetHistory(ctx, 'change', 'c-x')),
            '[INVALID_ARGUMENT] query refused: changeId must be "c-" and 32 lowercase hex characters, got "c-x"',
        );
    });

    it('refuses a record of another type under a key (a broken ledger)', async () => {
        const key = world.ledger.lastStub?.createCompositeKey('task', ['churn']) ?? '';
        world.ledger.state.set(key, Buffer.from(JSON.stringify({ docType: 'vote', schemaVersion: 1 })));
        await expectRefusal(query((r, ctx) => r.GetTask(ctx, 'churn')), '[LEDGER_ERROR] ledger error: the record at task/churn is not a task');
    });

    it('refuses a record written by a newer chaincode', async () => {
        const key = world.ledger.lastStub?.createCompositeKey('task', ['churn']) ?? '';
        world.ledger.state.set(key, Buffer.from(JSON.stringify({ docType: 'task', schemaVersion: 4 })));
        await expectRefusal(
            query((r, ctx) => r.GetTask(ctx, 'churn')),
            "[LEDGER_ERROR] ledger error: the task at task/churn has schema version 4, newer than this chaincode's 3; upgrade the chaincode",
        );
    });

    it('refuses an index entry whose record is missing', async () => {
        const key = world.ledger.lastStub?.createCompositeKey('proposal', [pending]) ?? '';
        world.ledger.state.delete(key);
        await expectRefusal(
            query((r, ctx) => r.ListProposals(ctx, json({ status: 'PENDING' }))),
            `[LEDGER_ERROR] ledger error: the proposal at proposal/${pending} is missing`,
        );
    });
});
