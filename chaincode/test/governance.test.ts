import { expect } from 'chai';
import type { Context } from 'fabric-contract-api';
import { T0 } from './fake-ledger';
import { HOUR, ORG1, ORG2, ORG3, ORG4, POLICY, TASK, World, expectRefusal, json } from './fixtures';

describe('governance: ProposeChange, VoteChange, CloseExpired (changes)', () => {
    let world: World;
    beforeEach(async () => {
        world = new World();
        await world.createTask(ORG1);
    });

    function propose(msp: string, input: unknown): Promise<string> {
        return world.ledger.invoke(msp, (ctx: Context) => world.registry.ProposeChange(ctx, typeof input === 'string' ? input : json(input)));
    }
    async function proposed(msp: string, input: Record<string, unknown>): Promise<Record<string, unknown>> {
        return JSON.parse(await propose(msp, { taskId: TASK, ...input })) as Record<string, unknown>;
    }
    function vote(msp: string, changeId: string, decision: string): Promise<string> {
        return world.ledger.invoke(msp, (ctx: Context) => world.registry.VoteChange(ctx, changeId, decision));
    }
    function task(): Record<string, unknown> {
        return world.ledger.read('task', [TASK]) as Record<string, unknown>;
    }

    it('applies a policy update once every member approved it', async () => {
        const policy = { ...POLICY, quorum: 3 };
        const change = await proposed(ORG1, { type: 'updatePolicy', policy, reason: 'all must vote' });
        expect(change).to.deep.include({
            docType: 'change',
            taskId: TASK,
            type: 'updatePolicy',
            policy,
            member: null,
            proposer: ORG1,
            approvals: [ORG1],
            rejections: [],
            status: 'PENDING',
            statusReason: 'waiting for approval by Org2MSP, Org3MSP',
            deadline: new Date(T0 + HOUR).toISOString(),
        });
        const id = change.id as string;
        expect(id).to.match(/^c-[0-9a-f]{32}$/);
        expect(world.ledger.lastEvent()).to.deep.equal({
            name: 'ChangeProposed',
            payload: {
                taskId: TASK,
                changeId: id,
                type: 'updatePolicy',
                member: null,
                proposer: ORG1,
                required: [ORG1, ORG2, ORG3],
                deadline: new Date(T0 + HOUR).toISOString(),
            },
        });
        await vote(ORG3, id, 'approve');
        expect(world.ledger.lastEvent()).to.deep.equal({
            name: 'ChangeVoted',
            payload: { taskId: TASK, changeId: id, voter: ORG3, decision: 'approve', approvals: 2, required: 3 },
        });
        expect((task().policy as { quorum: number }).quorum).to.equal(2);
        const applied = JSON.parse(await vote(ORG2, id, 'approve')) as Record<string, unknown>;
        expect(applied).to.deep.include({ status: 'APPLIED', statusReason: 'approved by every member', approvals: [ORG1, ORG2, ORG3] });
        expect(task().policy).to.deep.equal(policy);
        expect(world.ledger.lastEvent()).to.deep.equal({
            name: 'ChangeDecided',
            payload: { taskId: TASK, changeId: id, type: 'updatePolicy', member: null, status: 'APPLIED', reason: 'approved by every member', decidedBy: ORG2 },
        });
    });

    it('keeps pending proposals under the policy they were submitted with', async () => {
        const proposal = (await world.propose(ORG1, 1)).id as string;
        const change = (await proposed(ORG1, { type: 'updatePolicy', policy: { ...POLICY, quorum: 3 } })).id as string;
        await vote(ORG2, change, 'approve');
        await vote(ORG3, change, 'approve');
        await world.vote(ORG1, proposal, 'approve', 0.75);
        await world.vote(ORG2, proposal, 'approve', 0.75);
        expect((await world.decide(ORG3, proposal)).status).to.equal('ACCEPTED');
    });

    it('adds a member, who then votes on new proposals', async () => {
        const id = (await proposed(ORG2, { type: 'addMember', member: ORG4 })).id as string;
        await vote(ORG1, id, 'approve');
        await vote(ORG3, id, 'approve');
        expect(task().members).to.deep.equal([ORG1, ORG2, ORG3, ORG4]);
        const proposal = await world.propose(ORG4, 1);
        expect(proposal.electorate).to.deep.equal([ORG1, ORG2, ORG3, ORG4]);
    });

    it('removes a member without its approval', async () => {
        const id = (await proposed(ORG1, { type: 'removeMember', member: ORG3, reason: 'left the consortium' })).id as string;
        expect(world.ledger.lastEvent()?.payload).to.deep.include({ required: [ORG1, ORG2] });
        await expectRefusal(vote(ORG3, id, 'reject'), `[NOT_IN_ELECTORATE] change refused: Org3MSP is the member change ${id} removes and has no vote on it`);
        await vote(ORG2, id, 'approve');
        expect(task().members).to.deep.equal([ORG1, ORG2]);
    });

    it('applies at once when the proposer is the only member needed', async () => {
        await world.createTask(ORG1, { id: 'solo', members: [ORG1], policy: { ...POLICY, quorum: 1 } });
        const change = await proposed(ORG1, { taskId: 'solo', type: 'updatePolicy', policy: { ...POLICY, quorum: 1, minScore: 0.9 } });
        expect(change.status).to.equal('APPLIED');
        expect(world.ledger.lastEvent()?.name).to.equal('ChangeDecided');
    });

    it('revokes the champion back to the previous one, then to none', async () => {
        const first = await world.accept(1);
        const second = await world.accept(2);
        const id = (await proposed(ORG1, { type: 'revokeChampion', reason: 'label leak found' })).id as string;
        await vote(ORG2, id, 'approve');
        world.ledger.now = T0 + 5000;
        await vote(ORG3, id, 'approve');
        expect(world.ledger.lastEvent()?.payload).to.deep.include({ status: 'APPLIED', champion: first });
        expect(world.ledger.read('champion', [TASK])).to.deep.include({
            proposalId: first,
            lineage: [],
            scores: { [ORG1]: 0.75, [ORG2]: 0.74 },
            since: new Date(T0 + 5000).toISOString(),
        });
        expect(world.ledger.read('proposal', [second])).to.deep.include({
            status: 'REVOKED',
            statusReason: `revoked by change ${id}: label leak found`,
        });
        const again = (await proposed(ORG2, { type: 'revokeChampion' })).id as string;
        await vote(ORG1, again, 'approve');
        await vote(ORG3, again, 'approve');
        expect(world.ledger.lastEvent()?.payload).to.deep.include({ status: 'APPLIED', champion: null });
        expect(world.ledger.read('champion', [TASK])).to.equal(undefined);
        expect(world.ledger.read('proposal', [first])).to.deep.include({ status: 'REVOKED', statusReason: `revoked by change ${again}` });
    });

    it('restores the previous champion with the scores of its late votes', async () => {
        const first = await world.accept(1);
        await world.vote(ORG3, first, 'approve', 0.72);
        await world.accept(2);
        const id = (await proposed(ORG1, { type: 'revokeChampion' })).id as string;
        await vote(ORG2, id, 'approve');
        await vote(ORG3, id, 'approve');
        expect(world.ledger.read('champion', [TASK])).to.deep.include({
            proposalId: first,
            scores: { [ORG1]: 0.75, [ORG2]: 0.74, [ORG3]: 0.72 },
        });
    });

    it('rejects a change on the first rejection', async () => {
        const id = (await proposed(ORG1, { type: 'addMember', member: ORG4 })).id as string;
        const rejected = JSON.parse(await vote(ORG2, id, 'reject')) as Record<string, unknown>;
        expect(rejected).to.deep.include({
            status: 'REJECTED',
            rejections: [ORG2],
            statusReason: "rejected by Org2MSP; a change needs every member's approval",
        });
        expect(world.ledger.lastEvent()?.payload).to.deep.include({ status: 'REJECTED', decidedBy: ORG2 });
        await expectRefusal(
            vote(ORG3, id, 'approve'),
            `[NOT_PENDING] change refused: change ${id} is REJECTED, not PENDING (rejected by Org2MSP; a change needs every member's approval)`,
        );
    });

    it('rejects a change that no longer fits when the last approval arrives', async () => {
        const add = (await proposed(ORG1, { type: 'addMember', member: ORG4 })).id as string;
        const again = (await proposed(ORG2, { type: 'addMember', member: ORG4 })).id as string;
        for (const msp of [ORG2, ORG3]) {
            await vote(msp, add, 'approve');
        }
        await vote(ORG1, again, 'approve');
        await vote(ORG3, again, 'approve');
        // Org4MSP is a member now, so its approval is needed too; it completes a change that no longer fits.
        const last = JSON.parse(await vote(ORG4, again, 'approve')) as Record<string, unknown>;
        expect(last).to.deep.include({ status: 'REJECTED', statusReason: 'no longer applicable: Org4MSP is already a member of task credit-risk' });
    });

    it('expires a change that did not gather every approval in time', async () => {
        const id = (await proposed(ORG1, { type: 'addMember', member: ORG4 })).id as string;
        await expectRefusal(
            world.ledger.invoke(ORG2, (ctx: Context) => world.registry.CloseExpired(ctx, id)),
            `[VOTING_NOT_ENDED] close refused: voting on change ${id} runs until ${new Date(T0 + HOUR).toISOString()}; close it after that`,
        );
        world.ledger.now = T0 + HOUR;
        await expectRefusal(
            vote(ORG2, id, 'approve'),
            `[VOTING_ENDED] change refused: voting on change ${id} ended at ${new Date(T0 + HOUR).toISOString()}; close it with CloseExpired`,
        );
        await expectRefusal(
            world.ledger.invoke(ORG4, (ctx: Context) => world.registry.CloseExpired(ctx, id)),
            '[NOT_A_MEMBER] close refused: Org4MSP is not a member of task credit-risk (members: Org1MSP, Org2MSP, Org3MSP)',
        );
        const expired = JSON.parse(await world.ledger.invoke(ORG2, (ctx: Context) => world.registry.CloseExpired(ctx, id))) as Record<string, unknown>;
        expect(expired).to.deep.include({
            status: 'EXPIRED',
            statusReason: `the voting period ended at ${new Date(T0 + HOUR).toISOString()} without every member's approval`,
        });
        expect(world.ledger.lastEvent()?.payload).to.deep.include({ status: 'EXPIRED', decidedBy: ORG2 });
        await expectRefusal(
            world.ledger.invoke(ORG2, (ctx: Context) => world.registry.CloseExpired(ctx, id)),
            `[NOT_PENDING] close refused: change ${id} is EXPIRED, not PENDING; only open changes expire`,
        );
    });

    it('refuses a second vote by one member', async () => {
        const id = (await proposed(ORG1, { type: 'addMember', member: ORG4 })).id as string;
        await expectRefusal(vote(ORG1, id, 'approve'), `[ALREADY_VOTED] change refused: Org1MSP already approved change ${id}`);
    });

    it('refuses votes from non-members and unknown decisions', async () => {
        const id = (await proposed(ORG1, { type: 'addMember', member: ORG4 })).id as string;
        await expectRefusal(vote(ORG4, id, 'approve'), '[NOT_A_MEMBER] change refused: Org4MSP is not a member of task credit-risk (members: Org1MSP, Org2MSP, Org3MSP)');
        await expectRefusal(vote(ORG2, id, 'yes'), '[INVALID_ARGUMENT] change refused: decision must be approve or reject, got "yes"');
        await expectRefusal(vote(ORG2, `c-${'0'.repeat(32)}`, 'approve'), `[CHANGE_NOT_FOUND] change refused: change c-${'0'.repeat(32)} does not exist; list changes with ListChanges`);
        await expectRefusal(vote(ORG2, 'c-1', 'approve'), '[INVALID_ARGUMENT] change refused: changeId must be "c-" and 32 lowercase hex characters, got "c-1"');
    });

    const refusals: [string, string, Record<string, unknown>, string][] = [
        ['a non-member', ORG4, { type: 'addMember', member: ORG4 }, '[NOT_A_MEMBER] change refused: Org4MSP is not a member of task credit-risk (members: Org1MSP, Org2MSP, Org3MSP)'],
        ['an unknown type', ORG1, { type: 'dissolve' }, '[INVALID_ARGUMENT] change refused: type must be one of updatePolicy, addMember, removeMember, revokeChampion, got "dissolve"'],
        ['a policy that does not fit', ORG1, { type: 'updatePolicy', policy: { ...POLICY, quorum: 4 } }, '[INVALID_ARGUMENT] change refused: policy.quorum must be an integer from 1 to 3, got 4'],
        [
            "a minScore outside the task metric's range",
            ORG1,
            { type: 'updatePolicy', policy: { ...POLICY, minScore: -1 } },
            '[INVALID_ARGUMENT] change refused: policy.minScore must be from 0 to 1 for roc_auc, got -1',
        ],
        ['a policy on a member change', ORG1, { type: 'addMember', member: ORG4, policy: POLICY }, '[INVALID_ARGUMENT] change refused: policy is only allowed on an updatePolicy change, got an object'],
        ['a member on a policy change', ORG1, { type: 'revokeChampion', member: ORG4 }, '[INVALID_ARGUMENT] change refused: member is only allowed on an addMember or removeMember change, got "Org4MSP"'],
        ['adding a member twice', ORG1, { type: 'addMember', member: ORG2 }, '[ALREADY_MEMBER] change refused: Org2MSP is already a member of task credit-risk'],
        ['removing a stranger', ORG1, { type: 'removeMember', member: ORG4 }, '[NOT_A_MEMBER] change refused: Org4MSP is not a member of task credit-risk'],
        ['removing oneself', ORG1, { type: 'removeMember', member: ORG1 }, '[SELF_REMOVAL] change refused: Org1MSP cannot propose its own removal; ask another member'],
        ['revoking without a champion', ORG1, { type: 'revokeChampion' }, '[NO_CHAMPION] change refused: task credit-risk has no champion to revoke'],
        ['an unknown task', ORG1, { taskId: 'fraud', type: 'revokeChampion' }, '[TASK_NOT_FOUND] change refused: task fraud does not exist; list tasks with ListTasks'],
    ];
    for (const [name, msp, input, message] of refusals) {
        it(`refuses ${name}`, async () => {
            await expectRefusal(propose(msp, { taskId: TASK, ...input }), message);
        });
    }

    it('refuses removing a member when the quorum would exceed the members left', async () => {
        const raise = (await proposed(ORG1, { type: 'updatePolicy', policy: { ...POLICY, quorum: 3 } })).id as string;
        await vote(ORG2, raise, 'approve');
        await vote(ORG3, raise, 'approve');
        await expectRefusal(
            propose(ORG1, { taskId: TASK, type: 'removeMember', member: ORG3 }),
            '[POLICY_MISFIT] change refused: the quorum 3 would exceed the 2 members; lower the quorum first with an updatePolicy change',
        );
    });

    it('lets either member of a two-member task remove the other alone (the removed member has no say)', async () => {
        await world.createTask(ORG1, { id: 'pair', members: [ORG1, ORG2], policy: { ...POLICY, quorum: 1 } });
        const change = await proposed(ORG2, { taskId: 'pair', type: 'removeMember', member: ORG1 });
        expect(change).to.deep.include({ status: 'APPLIED', approvals: [ORG2] });
        expect((world.ledger.read('task', ['pair']) as { members: string[] }).members).to.deep.equal([ORG2]);
    });
});
