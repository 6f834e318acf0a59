import { expect } from 'chai';
import type { Context } from 'fabric-contract-api';
import { T0 } from './fake-ledger';
import { HOUR, ORG1, ORG2, ORG3, ORG4, TASK, World, expectRefusal, worldWithProposal, json, voteInput } from './fixtures';

describe('CastVote', () => {
    let world: World;
    let id: string;
    beforeEach(async () => {
        ({ world, id } = await worldWithProposal());
    });

    function cast(msp: string, input: unknown): Promise<string> {
        return world.ledger.invoke(msp, (ctx: Context) => world.registry.CastVote(ctx, typeof input === 'string' ? input : json(input)));
    }

    it('records the vote under (proposal, organisation) and announces it, without counting it', async () => {
        const before = world.ledger.read('proposal', [id]);
        const result = await world.vote(ORG2, id, 'approve', 0.8);
        const vote = {
            docType: 'vote',
            schemaVersion: 3,
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
        expect(result).to.deep.equal({ vote, proposal: before, late: false });
        expect(world.ledger.read('vote', [id, ORG2])).to.deep.equal(vote);
        expect(world.ledger.read('proposal', [id])).to.deep.equal(before);
        expect(world.ledger.lastEvent()).to.deep.equal({
            name: 'VoteCast',
            payload: { taskId: TASK, proposalId: id, voter: ORG2, decision: 'approve', score: 0.8, late: false },
        });
    });

    it("writes only its own key and reads nothing another member's vote writes, so votes never collide", async () => {
        const key = (type: string, attributes: string[]): string => world.ledger.lastStub?.createCompositeKey(type, attributes) ?? '';
        await world.vote(ORG1, id, 'approve', 0.75);
        await world.vote(ORG2, id, 'approve', 0.74);
        await world.decide(ORG3, id);
        const next = (await world.propose(ORG1, 2)).id as string;
        for (const [voter, proposal] of [
            [ORG2, next],
            [ORG3, next],
            [ORG3, id], // a late vote on the champion
        ] as const) {
            await world.vote(voter, proposal, 'approve', 0.8);
            const own = key('vote', [proposal, voter]);
            expect(world.ledger.lastWrites).to.deep.equal([own]);
            const othersVotes = world.ledger.lastReads.filter((read) => read.startsWith(key('vote', [])) && read !== own);
            expect(othersVotes, `${voter} on ${proposal}`).to.deep.equal([]);
            expect(world.ledger.lastReads).to.not.include(key('champion', [TASK]).concat('*'));
        }
    });

    it('refuses the second vote of an organisation and names the first', async () => {
        await world.vote(ORG2, id, 'reject', 0.7);
        const first = world.ledger.lastStub?.getTxID() ?? '';
        await expectRefusal(
            cast(ORG2, voteInput(id, 'approve', 0.8)),
            `[ALREADY_VOTED] vote refused: Org2MSP already voted on proposal ${id} (reject at ${new Date(T0).toISOString()}, transaction ${first})`,
        );
    });

    it('records a late vote on the champion: it decides nothing, becomes its champion score and announces it', async () => {
        await world.vote(ORG1, id, 'approve', 0.75);
        await world.vote(ORG2, id, 'approve', 0.74);
        await world.decide(ORG1, id);
        const champion = world.ledger.read('champion', [TASK]);
        world.ledger.now = T0 + 2 * HOUR; // after the voting period: the champion still reigns
        const result = await world.vote(ORG3, id, 'reject', 0.7);
        expect(result.vote).to.deep.include({ voter: ORG3, decision: 'reject', score: 0.7, castAt: new Date(T0 + 2 * HOUR).toISOString() });
        expect(result).to.deep.include({ late: true, proposal: world.ledger.read('proposal', [id]) });
        expect(world.ledger.read('vote', [id, ORG3])).to.deep.equal(result.vote);
        expect(world.ledger.read('champion', [TASK]), 'the champion record is not written').to.deep.equal(champion);
        expect(world.ledger.lastEvent()).to.deep.equal({
            name: 'ChampionScored',
            payload: { taskId: TASK, proposalId: id, voter: ORG3, decision: 'reject', score: 0.7 },
        });
    });

    it("records a vote after a rejection: the member's evaluation is kept, the decision stands", async () => {
        await world.vote(ORG1, id, 'reject', 0.75);
        await world.vote(ORG2, id, 'reject', 0.74);
        const rejected = await world.decide(ORG1, id);
        const result = await world.vote(ORG3, id, 'approve', 0.8);
        expect(result).to.deep.include({ late: true, proposal: rejected });
        expect(world.ledger.read('proposal', [id])).to.deep.equal(rejected);
        expect(world.ledger.lastEvent()).to.deep.equal({
            name: 'VoteCast',
            payload: { taskId: TASK, proposalId: id, voter: ORG3, decision: 'approve', score: 0.8, late: true },
        });
    });

    it('records a late vote on an accepted proposal that is no longer the champion from its electorate', async () => {
        await world.vote(ORG1, id, 'approve', 0.75);
        await world.vote(ORG2, id, 'approve', 0.74);
        await world.decide(ORG1, id);
        await world.accept(2);
        const result = await world.vote(ORG3, id, 'approve', 0.8);
        expect(result.late).to.equal(true);
        expect(world.ledger.lastEvent()?.name).to.equal('VoteCast');
    });

    it('refuses a second late vote and names the first', async () => {
        await world.vote(ORG1, id, 'approve', 0.75);
        await world.vote(ORG2, id, 'approve', 0.74);
        await world.decide(ORG1, id);
        await world.vote(ORG3, id, 'approve', 0.8);
        const first = world.ledger.lastStub?.getTxID() ?? '';
        await expectRefusal(
            cast(ORG3, voteInput(id, 'approve', 0.9)),
            `[ALREADY_VOTED] vote refused: Org3MSP already voted on proposal ${id} (approve at ${new Date(T0).toISOString()}, transaction ${first})`,
        );
    });

    it('refuses a vote once the voting period has ended', async () => {
        world.ledger.now = T0 + HOUR;
        await expectRefusal(
            cast(ORG2, voteInput(id, 'approve', 0.8)),
            `[VOTING_ENDED] vote refused: voting on proposal ${id} ended at ${new Date(T0 + HOUR).toISOString()}; settle it with Decide`,
        );
    });

    it('refuses a non-member', async () => {
        await expectRefusal(
            cast(ORG4, voteInput(id, 'approve', 0.8)),
            '[NOT_A_MEMBER] vote refused: Org4MSP is not a member of task credit-risk (members: Org1MSP, Org2MSP, Org3MSP)',
        );
    });

    function join(msp: string): void {
        const task = world.ledger.read('task', [TASK]) as { members: string[] };
        task.members.push(msp);
        world.ledger.state.set(world.ledger.lastStub?.createCompositeKey('task', [TASK]) ?? '', Buffer.from(JSON.stringify(task)));
    }

    it('lets a member that joined after the proposal score it late once it is the champion', async () => {
        await world.vote(ORG1, id, 'approve', 0.75);
        await world.vote(ORG2, id, 'approve', 0.74);
        await world.decide(ORG1, id);
        join(ORG4);
        const result = await world.vote(ORG4, id, 'approve', 0.77);
        expect(result.late).to.equal(true);
        expect((result.proposal as { electorate: string[] }).electorate).to.deep.equal([ORG1, ORG2, ORG3]);
        const champion = JSON.parse(await world.ledger.invoke(ORG1, (ctx: Context) => world.registry.GetChampion(ctx, TASK))) as { scores: unknown };
        expect(champion.scores).to.deep.equal({ [ORG1]: 0.75, [ORG2]: 0.74, [ORG4]: 0.77 });
    });

    it('refuses a member that joined after the proposal a late vote on a proposal that is not the champion', async () => {
        await world.vote(ORG1, id, 'reject', 0.75);
        await world.vote(ORG2, id, 'reject', 0.74);
        await world.decide(ORG1, id);
        join(ORG4);
        await expectRefusal(
            cast(ORG4, voteInput(id, 'approve', 0.8)),
            `[NOT_IN_ELECTORATE] vote refused: Org4MSP joined task credit-risk after proposal ${id} was submitted and the proposal is REJECTED, not the champion; only its electorate (Org1MSP, Org2MSP, Org3MSP) records votes on it`,
        );
    });

    it('refuses a member that joined after the proposal while it is open', async () => {
        join(ORG4);
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
        ['an unknown decision', (p) => voteInput(p, 'yes', 0.8), '[INVALID_ARGUMENT] vote refused: decision must be one of approve, reject, abstain, unavailable, got "yes"'],
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
