import { expect } from 'chai';
import type { Context } from 'fabric-contract-api';
import { T0 } from './fake-ledger';
import { HOUR, ORG1, ORG2, ORG3, ORG4, TASK, World, expectRefusal, json, modelSha, voteInput } from './fixtures';

describe('CastVote', () => {
    let world: World;
    let id: string;
    beforeEach(async () => {
        world = new World();
        await world.createTask(ORG1);
        id = (await world.propose(ORG1, 1)).id as string;
    });

    function cast(msp: string, input: unknown): Promise<string> {
        return world.ledger.invoke(msp, (ctx: Context) => world.registry.CastVote(ctx, typeof input === 'string' ? input : json(input)));
    }

    it('records the vote under (proposal, organisation), counts it and announces it', async () => {
        const result = await world.vote(ORG2, id, 'approve', 0.8);
        const vote = {
            docType: 'vote',
            schemaVersion: 1,
            proposalId: id,
            taskId: TASK,
            voter: ORG2,
            decision: 'approve',
            metrics: { accuracy: 0.9, roc_auc: 0.8 },
            score: 0.8,
            holdoutRows: 2000,
            evaluatorVersion: 'fedledger-evaluate 0.1.0',
            reason: '',
            castAt: new Date(T0).toISOString(),
            txId: world.ledger.lastStub?.getTxID(),
        };
        expect(result.vote).to.deep.equal(vote);
        expect(world.ledger.read('vote', [id, ORG2])).to.deep.equal(vote);
        expect(result.proposal).to.deep.include({
            status: 'PENDING',
            statusReason: '1 of 3 members voted (quorum 2); waiting for more votes',
            tally: { approve: 1, reject: 0, abstain: 0, votes: { [ORG2]: { decision: 'approve', score: 0.8, regression: null } } },
        });
        expect(world.ledger.lastEvent()).to.deep.equal({
            name: 'VoteCast',
            payload: { taskId: TASK, proposalId: id, voter: ORG2, decision: 'approve', score: 0.8, tally: { approve: 1, reject: 0, abstain: 0 } },
        });
    });

    it('accepts with the deciding vote, crowns the champion with every scoring member and announces it', async () => {
        world.ledger.now = T0 + 1000;
        await world.vote(ORG3, id, 'reject', 0.7);
        const result = await world.vote(ORG2, id, 'approve', 0.74);
        const reason = '1 of 2 approve or reject votes approve (threshold 0.5), 2 of 3 members voted (quorum 2)';
        expect(result.proposal).to.deep.include({ status: 'ACCEPTED', statusReason: reason, decidedAt: new Date(T0 + 1000).toISOString() });
        expect(world.ledger.read('champion', [TASK])).to.deep.include({
            docType: 'champion',
            proposalId: id,
            modelSha256: modelSha(1),
            scores: { [ORG2]: 0.74, [ORG3]: 0.7 },
            lineage: [],
            since: new Date(T0 + 1000).toISOString(),
        });
        expect(world.ledger.lastEvent()).to.deep.equal({
            name: 'ProposalDecided',
            payload: {
                taskId: TASK,
                proposalId: id,
                modelSha256: modelSha(1),
                uri: `s3://models/${modelSha(1)}.onnx`,
                status: 'ACCEPTED',
                reason,
                decidedAt: new Date(T0 + 1000).toISOString(),
                decidedBy: ORG2,
                champion: id,
                tally: { approve: 1, reject: 1, abstain: 0 },
            },
        });
    });

    it('lets a member veto a successor that regresses on its holdout, and keeps the champion', async () => {
        await world.vote(ORG1, id, 'approve', 0.75);
        await world.vote(ORG2, id, 'approve', 0.8);
        const next = (await world.propose(ORG1, 2)).id as string;
        await world.vote(ORG1, next, 'approve', 0.9);
        const result = await world.vote(ORG2, next, 'approve', 0.75);
        const reason = `veto: Org2MSP's roc_auc is ${0.8 - 0.75} worse than its champion score, over the task's maxRegression 0.02`;
        expect(result.proposal).to.deep.include({ status: 'REJECTED', statusReason: reason });
        expect(world.ledger.lastEvent()?.payload).to.deep.include({ status: 'REJECTED', champion: id });
        expect((world.ledger.read('champion', [TASK]) as Record<string, unknown>).proposalId).to.equal(id);
    });

    it('lets a member without a champion score approve whatever its score against nothing', async () => {
        await world.vote(ORG1, id, 'approve', 0.75);
        await world.vote(ORG2, id, 'approve', 0.8);
        const next = (await world.propose(ORG1, 2)).id as string;
        const result = await world.vote(ORG3, next, 'approve', 0.61);
        expect((result.proposal as { tally: { votes: Record<string, unknown> } }).tally.votes[ORG3]).to.deep.equal({
            decision: 'approve',
            score: 0.61,
            regression: null,
        });
    });

    it('rejects an approval below the minimum score', async () => {
        const result = await world.vote(ORG2, id, 'approve', 0.55);
        expect(result.proposal).to.deep.include({
            status: 'REJECTED',
            statusReason: "Org2MSP approved with roc_auc 0.55, worse than the task's minScore 0.6",
        });
    });

    it('rejects once approval is out of reach and counts an abstention without a score', async () => {
        await world.vote(ORG1, id, 'abstain', null);
        await world.vote(ORG2, id, 'reject', 0.7);
        const result = await world.vote(ORG3, id, 'reject', 0.7);
        expect(result.proposal).to.deep.include({
            status: 'REJECTED',
            statusReason: 'at most 0 of 2 votes can approve, below the threshold 0.5',
            tally: {
                approve: 0,
                reject: 2,
                abstain: 1,
                votes: {
                    [ORG1]: { decision: 'abstain', score: null, regression: null },
                    [ORG2]: { decision: 'reject', score: 0.7, regression: null },
                    [ORG3]: { decision: 'reject', score: 0.7, regression: null },
                },
            },
        });
    });

    it('refuses the second vote of an organisation and names the first', async () => {
        await world.vote(ORG2, id, 'reject', 0.7);
        const first = world.ledger.lastStub?.getTxID() ?? '';
        await expectRefusal(
            cast(ORG2, voteInput(id, 'approve', 0.8)),
            `[ALREADY_VOTED] vote refused: Org2MSP already voted on proposal ${id} (reject at ${new Date(T0).toISOString()}, transaction ${first})`,
        );
    });

    it('records a late vote on the champion: it decides nothing, scores the champion and announces it', async () => {
        await world.vote(ORG1, id, 'approve', 0.75);
        await world.vote(ORG2, id, 'approve', 0.74);
        world.ledger.now = T0 + 2 * HOUR; // after the voting period: the champion still reigns
        const result = await world.vote(ORG3, id, 'reject', 0.7);
        expect(result.vote).to.deep.include({ voter: ORG3, decision: 'reject', score: 0.7, castAt: new Date(T0 + 2 * HOUR).toISOString() });
        expect(world.ledger.read('vote', [id, ORG3])).to.deep.equal(result.vote);
        expect(result.proposal).to.deep.include({ status: 'ACCEPTED', tally: (world.ledger.read('proposal', [id]) as Record<string, unknown>).tally });
        expect((result.proposal as { tally: { reject: number } }).tally.reject).to.equal(0);
        expect(world.ledger.read('champion', [TASK])).to.deep.include({ proposalId: id, scores: { [ORG1]: 0.75, [ORG2]: 0.74, [ORG3]: 0.7 } });
        expect(result.champion).to.deep.equal(world.ledger.read('champion', [TASK]));
        expect(world.ledger.lastEvent()).to.deep.equal({
            name: 'ChampionScored',
            payload: { taskId: TASK, proposalId: id, voter: ORG3, decision: 'reject', score: 0.7 },
        });
    });

    it('lets a late voter veto a successor that regresses on its holdout', async () => {
        await world.vote(ORG1, id, 'approve', 0.75);
        await world.vote(ORG2, id, 'approve', 0.74);
        await world.vote(ORG3, id, 'approve', 0.8);
        const next = (await world.propose(ORG1, 2)).id as string;
        const result = await world.vote(ORG3, next, 'approve', 0.7);
        expect(result.proposal).to.deep.include({
            status: 'REJECTED',
            statusReason: `veto: Org3MSP's roc_auc is ${0.8 - 0.7} worse than its champion score, over the task's maxRegression 0.02`,
        });
    });

    it('records a late abstention without touching the champion scores', async () => {
        await world.vote(ORG1, id, 'approve', 0.75);
        await world.vote(ORG2, id, 'approve', 0.74);
        const result = await world.vote(ORG3, id, 'abstain', null, { holdoutRows: 0, reason: 'holdout not loaded' });
        expect(result.vote).to.deep.include({ decision: 'abstain', score: null });
        expect((world.ledger.read('champion', [TASK]) as { scores: unknown }).scores).to.deep.equal({ [ORG1]: 0.75, [ORG2]: 0.74 });
        expect(world.ledger.lastEvent()?.payload).to.deep.include({ voter: ORG3, decision: 'abstain', score: null });
    });

    it('refuses a second late vote and names the first', async () => {
        await world.vote(ORG1, id, 'approve', 0.75);
        await world.vote(ORG2, id, 'approve', 0.74);
        await world.vote(ORG3, id, 'approve', 0.8);
        const first = world.ledger.lastStub?.getTxID() ?? '';
        await expectRefusal(
            cast(ORG3, voteInput(id, 'approve', 0.9)),
            `[ALREADY_VOTED] vote refused: Org3MSP already voted on proposal ${id} (approve at ${new Date(T0).toISOString()}, transaction ${first})`,
        );
    });

    it('refuses a vote on a rejected proposal', async () => {
        await world.vote(ORG1, id, 'reject', 0.75);
        await world.vote(ORG2, id, 'reject', 0.74);
        await expectRefusal(
            cast(ORG3, voteInput(id, 'approve', 0.8)),
            `[NOT_PENDING] vote refused: proposal ${id} is REJECTED, not PENDING (decided at ${new Date(T0).toISOString()}: at most 1 of 3 votes can approve, below the threshold 0.5)`,
        );
    });

    it('refuses a late vote on an accepted proposal that is no longer the champion', async () => {
        await world.vote(ORG1, id, 'approve', 0.75);
        await world.vote(ORG2, id, 'approve', 0.74);
        await world.accept(2);
        await expectRefusal(
            cast(ORG3, voteInput(id, 'approve', 0.8)),
            `[NOT_PENDING] vote refused: proposal ${id} is ACCEPTED, not PENDING (decided at ${new Date(T0).toISOString()}: 2 of 2 approve or reject votes approve (threshold 0.5), 2 of 3 members voted (quorum 2)); it is no longer task ${TASK}'s champion, so a late vote would score nothing`,
        );
    });

    it('refuses a vote once the voting period has ended', async () => {
        world.ledger.now = T0 + HOUR;
        await expectRefusal(
            cast(ORG2, voteInput(id, 'approve', 0.8)),
            `[VOTING_ENDED] vote refused: voting on proposal ${id} ended at ${new Date(T0 + HOUR).toISOString()}; close it with CloseExpired`,
        );
    });

    it('refuses a non-member', async () => {
        await expectRefusal(
            cast(ORG4, voteInput(id, 'approve', 0.8)),
            '[NOT_A_MEMBER] vote refused: Org4MSP is not a member of task credit-risk (members: Org1MSP, Org2MSP, Org3MSP)',
        );
    });

    it('lets a member that joined after the proposal score it late once it is the champion', async () => {
        await world.vote(ORG1, id, 'approve', 0.75);
        await world.vote(ORG2, id, 'approve', 0.74);
        const task = world.ledger.read('task', [TASK]) as { members: string[] };
        task.members.push(ORG4);
        world.ledger.state.set(world.ledger.lastStub?.createCompositeKey('task', [TASK]) ?? '', Buffer.from(JSON.stringify(task)));
        const result = await world.vote(ORG4, id, 'approve', 0.77);
        expect(result.champion).to.deep.include({ scores: { [ORG1]: 0.75, [ORG2]: 0.74, [ORG4]: 0.77 } });
        expect((result.proposal as { electorate: string[] }).electorate).to.deep.equal([ORG1, ORG2, ORG3]);
    });

    it('refuses a member that joined after the proposal', async () => {
        const task = world.ledger.read('task', [TASK]) as { members: string[] };
        task.members.push(ORG4);
        world.ledger.state.set(
            world.ledger.lastStub?.createCompositeKey('task', [TASK]) ?? '',
            Buffer.from(JSON.stringify(task)),
        );
        await expectRefusal(
            cast(ORG4, voteInput(id, 'approve', 0.8)),
            `[NOT_IN_ELECTORATE] vote refused: Org4MSP joined task credit-risk after proposal ${id} was submitted; only its electorate votes on it (Org1MSP, Org2MSP, Org3MSP)`,
        );
    });

    it('refuses an approval without the task metric', async () => {
        await expectRefusal(
            cast(ORG2, voteInput(id, 'approve', null)),
            "[INVALID_ARGUMENT] vote refused: metrics.roc_auc is missing; an approve vote carries the score on task credit-risk's metric roc_auc",
        );
    });

    const refusals: [string, (proposalId: string) => unknown, string][] = [
        ['a non-finite metric', (p) => `{"proposalId":"${p}","decision":"approve","metrics":{"roc_auc":-1e999},"holdoutRows":1,"evaluatorVersion":"v1"}`, '[INVALID_ARGUMENT] vote refused: metrics.roc_auc must be a finite number, got -Infinity'],
        ['a textual metric', (p) => voteInput(p, 'approve', null, { metrics: { roc_auc: '0.8' } }), '[INVALID_ARGUMENT] vote refused: metrics.roc_auc must be a finite number, got "0.8"'],
        ['too many metrics', (p) => voteInput(p, 'approve', null, { metrics: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`m${i}`, 1])) }), '[INVALID_ARGUMENT] vote refused: metrics has 33 entries, over the limit of 32'],
        ['an unknown decision', (p) => voteInput(p, 'yes', 0.8), '[INVALID_ARGUMENT] vote refused: decision must be one of approve, reject, abstain, got "yes"'],
        ['a voter field', (p) => voteInput(p, 'approve', 0.8, { voter: ORG3 }), '[INVALID_ARGUMENT] vote refused: unknown field voter (allowed: proposalId, decision, metrics, holdoutRows, evaluatorVersion, reason)'],
        ['a reason over its limit', (p) => voteInput(p, 'reject', 0.7, { reason: 'r'.repeat(257) }), '[INVALID_ARGUMENT] vote refused: reason is 257 characters, over the limit of 256'],
        ['an evaluator version over its limit', (p) => voteInput(p, 'approve', 0.8, { evaluatorVersion: 'v'.repeat(65) }), '[INVALID_ARGUMENT] vote refused: evaluatorVersion is 65 characters, over the limit of 64'],
        ['a non-printable evaluator version', (p) => voteInput(p, 'approve', 0.8, { evaluatorVersion: 'v\t1' }), '[INVALID_ARGUMENT] vote refused: evaluatorVersion must be printable ASCII, got "v\\t1"'],
        ['an approval without holdout rows', (p) => voteInput(p, 'approve', 0.8, { holdoutRows: 0 }), '[INVALID_ARGUMENT] vote refused: holdoutRows must be an integer from 1 to 1000000000000, got 0'],
        ['an abstention without a reason', (p) => voteInput(p, 'abstain', null, { reason: '' }), '[INVALID_ARGUMENT] vote refused: reason must say why the member abstains, got ""'],
        ['a malformed proposal id', () => voteInput('p-1', 'approve', 0.8), '[INVALID_ARGUMENT] vote refused: proposalId must be "p-" and 32 lowercase hex characters, got "p-1"'],
        ['an unknown proposal', () => voteInput(`p-${'a'.repeat(32)}`, 'approve', 0.8), `[PROPOSAL_NOT_FOUND] vote refused: proposal p-${'a'.repeat(32)} does not exist; list proposals with ListProposals`],
    ];
    for (const [name, input, message] of refusals) {
        it(`refuses ${name}`, async () => {
            await expectRefusal(cast(ORG2, input(id)), message);
            expect(world.ledger.read('vote', [id, ORG2])).to.equal(undefined);
        });
    }

    it('accepts an abstention with zero holdout rows', async () => {
        const result = await world.vote(ORG2, id, 'abstain', null, { holdoutRows: 0 });
        expect((result.vote as Record<string, unknown>).holdoutRows).to.equal(0);
    });
});
