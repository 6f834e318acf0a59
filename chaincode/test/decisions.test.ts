import { expect } from 'chai';
import type { Context } from 'fabric-contract-api';
import { T0 } from './fake-ledger';
import { HOUR, ORG1, ORG2, ORG3, ORG4, TASK, World, expectRefusal, worldWithProposal, modelSha } from './fixtures';

describe('Decide', () => {
    let world: World;
    let id: string;
    beforeEach(async () => {
        ({ world, id } = await worldWithProposal());
    });

    function decide(msp: string, proposalId: string): Promise<string> {
        return world.ledger.invoke(msp, (ctx: Context) => world.registry.Decide(ctx, proposalId));
    }

    it('accepts when the votes decide, records the tally, crowns the champion and announces it', async () => {
        await world.vote(ORG3, id, 'reject', 0.7);
        await world.vote(ORG2, id, 'approve', 0.74);
        world.ledger.now = T0 + 1000;
        const result = await world.decide(ORG1, id);
        const reason = '1 of 2 approve or reject votes approve (threshold 0.5), 2 of 3 members voted (quorum 2)';
        const tally = {
            approve: 1,
            reject: 1,
            abstain: 0,
            unavailable: 0,
            votes: {
                [ORG2]: { decision: 'approve', score: 0.74, regression: null },
                [ORG3]: { decision: 'reject', score: 0.7, regression: null },
            },
        };
        expect(result).to.deep.include({ status: 'ACCEPTED', statusReason: reason, decidedAt: new Date(T0 + 1000).toISOString(), tally });
        expect(world.ledger.read('proposal', [id])).to.deep.equal(result);
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
                decidedBy: ORG1,
                champion: id,
                tally: { approve: 1, reject: 1, abstain: 0, unavailable: 0 },
            },
        });
    });

    it('reads the votes with one range and writes the proposal, its status index and the champion', async () => {
        const key = (type: string, attributes: string[]): string => world.ledger.lastStub?.createCompositeKey(type, attributes) ?? '';
        await world.vote(ORG1, id, 'approve', 0.75);
        await world.vote(ORG2, id, 'approve', 0.74);
        await world.decide(ORG3, id);
        expect(world.ledger.lastReads).to.include(`${key('vote', [id])}*`);
        expect([...world.ledger.lastWrites].sort()).to.deep.equal(
            [
                key('proposal', [id]),
                key('proposal~status', ['PENDING', TASK, ORG1, id]),
                key('proposal~status', ['ACCEPTED', TASK, ORG1, id]),
                key('champion', [TASK]),
            ].sort(),
        );
    });

    it('refuses while the votes decide nothing before the deadline, and writes nothing', async () => {
        await world.vote(ORG2, id, 'approve', 0.8);
        const before = world.ledger.read('proposal', [id]);
        const events = world.ledger.events.length;
        await expectRefusal(
            decide(ORG2, id),
            `[UNDECIDED] decision refused: the votes on proposal ${id} decide nothing yet: 1 of 3 members voted (quorum 2); waiting for more votes; voting runs until ${new Date(T0 + HOUR).toISOString()}`,
        );
        expect(world.ledger.read('proposal', [id])).to.deep.equal(before);
        expect(world.ledger.events).to.have.length(events);
    });

    it('decides a veto at once: one vote that regresses against its champion score', async () => {
        await world.accept(2, [0.75, 0.8]);
        const next = (await world.propose(ORG1, 3)).id as string;
        await world.vote(ORG2, next, 'approve', 0.75);
        const result = await world.decide(ORG1, next);
        expect(result).to.deep.include({
            status: 'REJECTED',
            statusReason: `veto: Org2MSP's roc_auc is ${0.8 - 0.75} worse than its champion score, over the task's maxRegression 0.02`,
        });
        expect(world.ledger.lastEvent()?.payload).to.deep.include({ status: 'REJECTED', decidedBy: ORG1 });
        expect((world.ledger.read('champion', [TASK]) as { proposalId: string }).proposalId).not.to.equal(next);
    });

    it("measures a veto against a late voter's score of the champion", async () => {
        const champion = await world.accept(2);
        await world.vote(ORG3, champion, 'approve', 0.8);
        const next = (await world.propose(ORG1, 3)).id as string;
        await world.vote(ORG3, next, 'approve', 0.7);
        expect(await world.decide(ORG2, next)).to.deep.include({
            status: 'REJECTED',
            statusReason: `veto: Org3MSP's roc_auc is ${0.8 - 0.7} worse than its champion score, over the task's maxRegression 0.02`,
        });
    });

    it('lets a member without a champion score approve whatever its score against nothing', async () => {
        await world.accept(2);
        const next = (await world.propose(ORG1, 3)).id as string;
        await world.vote(ORG3, next, 'approve', 0.61);
        await world.vote(ORG1, next, 'approve', 0.76);
        const result = (await world.decide(ORG1, next)) as { status: string; tally: { votes: Record<string, unknown> } };
        expect(result.status).to.equal('ACCEPTED');
        expect(result.tally.votes[ORG3]).to.deep.equal({ decision: 'approve', score: 0.61, regression: null });
        expect(result.tally.votes[ORG1]).to.deep.equal({ decision: 'approve', score: 0.76, regression: 0.75 - 0.76 });
    });

    it('rejects an approval below the minimum score', async () => {
        await world.vote(ORG2, id, 'approve', 0.55);
        expect(await world.decide(ORG2, id)).to.deep.include({
            status: 'REJECTED',
            statusReason: "Org2MSP approved with roc_auc 0.55, worse than the task's minScore 0.6",
        });
    });

    it('rejects once approval is out of reach, counting an abstention towards the quorum only', async () => {
        await world.vote(ORG1, id, 'abstain', null);
        await world.vote(ORG2, id, 'reject', 0.7);
        await world.vote(ORG3, id, 'reject', 0.7);
        expect(await world.decide(ORG1, id)).to.deep.include({
            status: 'REJECTED',
            statusReason: 'at most 0 of 2 votes can approve, below the threshold 0.5',
            tally: {
                approve: 0,
                reject: 2,
                abstain: 1,
                unavailable: 0,
                votes: {
                    [ORG1]: { decision: 'abstain', score: null, regression: null },
                    [ORG2]: { decision: 'reject', score: 0.7, regression: null },
                    [ORG3]: { decision: 'reject', score: 0.7, regression: null },
                },
            },
        });
    });

    it('expires an undecided proposal from its deadline on', async () => {
        await world.vote(ORG2, id, 'approve', 0.8);
        world.ledger.now = T0 + HOUR;
        expect(await world.decide(ORG3, id)).to.deep.include({
            status: 'EXPIRED',
            statusReason: `the voting period ended at ${new Date(T0 + HOUR).toISOString()} with 1 of 3 members voted (quorum 2), 1 approving`,
        });
        expect(world.ledger.lastEvent()?.payload).to.deep.include({ status: 'EXPIRED', decidedBy: ORG3 });
    });

    it('decides by the votes after the deadline when they decide', async () => {
        await world.vote(ORG1, id, 'approve', 0.75);
        await world.vote(ORG2, id, 'approve', 0.74);
        world.ledger.now = T0 + 2 * HOUR;
        expect(await world.decide(ORG3, id)).to.deep.include({ status: 'ACCEPTED', decidedAt: new Date(T0 + 2 * HOUR).toISOString() });
    });

    it('refuses a second decision and names the first', async () => {
        await world.vote(ORG1, id, 'reject', 0.75);
        await world.vote(ORG2, id, 'reject', 0.74);
        await world.decide(ORG1, id);
        await expectRefusal(
            decide(ORG2, id),
            `[NOT_PENDING] decision refused: proposal ${id} is REJECTED, not PENDING (decided at ${new Date(T0).toISOString()}: at most 1 of 3 votes can approve, below the threshold 0.5)`,
        );
    });

    it('refuses a non-member, an unknown and a malformed proposal', async () => {
        await expectRefusal(decide(ORG4, id), '[NOT_A_MEMBER] decision refused: Org4MSP is not a member of task credit-risk (members: Org1MSP, Org2MSP, Org3MSP)');
        await expectRefusal(
            decide(ORG1, `p-${'f'.repeat(32)}`),
            `[PROPOSAL_NOT_FOUND] decision refused: proposal p-${'f'.repeat(32)} does not exist; list proposals with ListProposals`,
        );
        await expectRefusal(decide(ORG1, 'x'), '[INVALID_ARGUMENT] decision refused: proposalId must be "p-" and 32 lowercase hex characters, got "x"');
    });

    it('decides a proposal recorded by schema version 1 (tally inside the record) from its vote records', async () => {
        // What the first chaincode wrote: each vote rewrote the proposal's tally beside its own vote record.
        const proposalKey = world.ledger.lastStub?.createCompositeKey('proposal', [id]) ?? '';
        const legacy = {
            ...(world.ledger.read('proposal', [id]) as Record<string, unknown>),
            schemaVersion: 1,
            tally: { approve: 1, reject: 0, abstain: 0, votes: { [ORG2]: { decision: 'approve', score: 0.8, regression: null } } },
        };
        world.ledger.state.set(proposalKey, Buffer.from(JSON.stringify(legacy)));
        await world.vote(ORG2, id, 'approve', 0.8);
        const voteKey = world.ledger.lastStub?.createCompositeKey('vote', [id, ORG2]) ?? '';
        const vote = { ...(world.ledger.read('vote', [id, ORG2]) as Record<string, unknown>), schemaVersion: 1 };
        world.ledger.state.set(voteKey, Buffer.from(JSON.stringify(vote)));
        await world.vote(ORG3, id, 'approve', 0.78);
        expect(await world.decide(ORG1, id)).to.deep.include({
            schemaVersion: 1,
            status: 'ACCEPTED',
            tally: {
                approve: 2,
                reject: 0,
                abstain: 0,
                unavailable: 0,
                votes: {
                    [ORG2]: { decision: 'approve', score: 0.8, regression: null },
                    [ORG3]: { decision: 'approve', score: 0.78, regression: null },
                },
            },
        });
    });
});

describe('CloseExpired (proposals)', () => {
    let world: World;
    let id: string;
    beforeEach(async () => {
        ({ world, id } = await worldWithProposal());
        await world.vote(ORG2, id, 'approve', 0.8);
    });

    function close(msp: string, proposalId: string): Promise<string> {
        return world.ledger.invoke(msp, (ctx: Context) => world.registry.CloseExpired(ctx, proposalId));
    }

    it('expires an overdue proposal and announces the decision', async () => {
        world.ledger.now = T0 + HOUR;
        const expired = JSON.parse(await close(ORG3, id)) as Record<string, unknown>;
        const reason = `the voting period ended at ${new Date(T0 + HOUR).toISOString()} with 1 of 3 members voted (quorum 2), 1 approving`;
        expect(expired).to.deep.include({ status: 'EXPIRED', statusReason: reason, decidedAt: new Date(T0 + HOUR).toISOString() });
        expect(world.ledger.lastEvent()).to.deep.equal({
            name: 'ProposalDecided',
            payload: {
                taskId: TASK,
                proposalId: id,
                modelSha256: modelSha(1),
                uri: `s3://models/${modelSha(1)}.onnx`,
                status: 'EXPIRED',
                reason,
                decidedAt: new Date(T0 + HOUR).toISOString(),
                decidedBy: ORG3,
                champion: null,
                tally: { approve: 1, reject: 0, abstain: 0, unavailable: 0 },
            },
        });
    });

    it('settles an overdue proposal as its votes decide when they do', async () => {
        await world.vote(ORG3, id, 'approve', 0.7);
        world.ledger.now = T0 + HOUR;
        expect(JSON.parse(await close(ORG3, id))).to.deep.include({ status: 'ACCEPTED' });
    });

    it('refuses a proposal still open for votes', async () => {
        world.ledger.now = T0 + HOUR - 1;
        await expectRefusal(
            close(ORG1, id),
            `[VOTING_NOT_ENDED] close refused: voting on proposal ${id} runs until ${new Date(T0 + HOUR).toISOString()}; close it after that`,
        );
    });

    it('refuses a decided proposal', async () => {
        world.ledger.now = T0 + HOUR;
        await close(ORG1, id);
        const reason = `the voting period ended at ${new Date(T0 + HOUR).toISOString()} with 1 of 3 members voted (quorum 2), 1 approving`;
        await expectRefusal(
            close(ORG1, id),
            `[NOT_PENDING] close refused: proposal ${id} is EXPIRED, not PENDING (decided at ${new Date(T0 + HOUR).toISOString()}: ${reason})`,
        );
    });

    it('refuses a non-member', async () => {
        world.ledger.now = T0 + HOUR;
        await expectRefusal(close(ORG4, id), '[NOT_A_MEMBER] close refused: Org4MSP is not a member of task credit-risk (members: Org1MSP, Org2MSP, Org3MSP)');
    });

    it('refuses an unknown or malformed id', async () => {
        await expectRefusal(close(ORG1, 'p-' + 'f'.repeat(32)), `[PROPOSAL_NOT_FOUND] close refused: proposal p-${'f'.repeat(32)} does not exist; list proposals with ListProposals`);
        await expectRefusal(close(ORG1, 'x'), '[INVALID_ARGUMENT] close refused: proposalId must be "p-" and 32 lowercase hex characters, got "x"');
    });
});
