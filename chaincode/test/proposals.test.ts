import { expect } from 'chai';
import type { Context } from 'fabric-contract-api';
import { proposalIdFor } from '../src/proposals';
import { T0 } from './fake-ledger';
import { HOUR, ORG1, ORG2, ORG3, ORG4, TASK, World, expectRefusal, expectRefusalStart, json, modelSha, proposalInput } from './fixtures';

describe('SubmitProposal', () => {
    let world: World;
    beforeEach(async () => {
        world = new World();
        await world.createTask(ORG1);
    });

    function submit(msp: string, input: unknown): Promise<string> {
        return world.ledger.invoke(msp, (ctx: Context) =>
            world.registry.SubmitProposal(ctx, typeof input === 'string' ? input : json(input)),
        );
    }

    it('registers a PENDING proposal with a derived id, the electorate and the policy, and announces it', async () => {
        const proposal = await world.propose(ORG2, 1, { round: 'round-7' });
        const id = proposalIdFor(TASK, modelSha(1));
        expect(id).to.match(/^p-[0-9a-f]{32}$/);
        expect(proposal).to.deep.include({
            docType: 'proposal',
            schemaVersion: 3,
            id,
            taskId: TASK,
            modelSha256: modelSha(1),
            sizeBytes: 123456,
            format: 'onnx',
            proposer: ORG2,
            metrics: { roc_auc: 0.71 },
            parent: null,
            round: 'round-7',
            electorate: [ORG1, ORG2, ORG3],
            metric: 'roc_auc',
            higherIsBetter: true,
            status: 'PENDING',
            statusReason: '0 of 3 members voted (quorum 2); waiting for votes',
            tally: { approve: 0, reject: 0, abstain: 0, unavailable: 0, votes: {} },
            createdAt: new Date(T0).toISOString(),
            deadline: new Date(T0 + HOUR).toISOString(),
            decidedAt: null,
        });
        expect(world.ledger.lastEvent()).to.deep.equal({
            name: 'ProposalSubmitted',
            payload: {
                taskId: TASK,
                proposalId: id,
                modelSha256: modelSha(1),
                uri: `s3://models/${modelSha(1)}.onnx`,
                sizeBytes: 123456,
                format: 'onnx',
                proposer: ORG2,
                parent: null,
                round: 'round-7',
                deadline: new Date(T0 + HOUR).toISOString(),
                electorate: [ORG1, ORG2, ORG3],
            },
        });
    });

    it('defaults the format to onnx and the metrics to none', async () => {
        const { format: _format, metrics: _metrics, ...input } = proposalInput(1);
        const proposal = JSON.parse(await submit(ORG1, input)) as Record<string, unknown>;
        expect(proposal.format).to.equal('onnx');
        expect(proposal.metrics).to.deep.equal({});
    });

    it('records the current champion as parent and accepts it when named', async () => {
        const champion = await world.accept(1);
        const proposal = await world.propose(ORG1, 2, { parent: champion });
        expect(proposal.parent).to.equal(champion);
    });

    const input = proposalInput;
    const refusals: [string, string, unknown, string][] = [
        ['a non-member', ORG4, input(1), '[NOT_A_MEMBER] proposal refused: Org4MSP is not a member of task credit-risk (members: Org1MSP, Org2MSP, Org3MSP)'],
        ['an unknown task', ORG1, input(1, { taskId: 'fraud' }), '[TASK_NOT_FOUND] proposal refused: task fraud does not exist; list tasks with ListTasks'],
        ['an upper-case hash', ORG1, input(1, { modelSha256: modelSha(1).toUpperCase() }), `[INVALID_ARGUMENT] proposal refused: modelSha256 must be a SHA-256 digest: 64 lowercase hex characters, got "${modelSha(1).toUpperCase()}"`],
        ['a uri without a scheme', ORG1, input(1, { uri: 'models/a.onnx' }), '[INVALID_ARGUMENT] proposal refused: uri must be a URI with a scheme (s3://…, file:///…) and no spaces or control characters, got "models/a.onnx"'],
        ['a zero size', ORG1, input(1, { sizeBytes: 0 }), '[INVALID_ARGUMENT] proposal refused: sizeBytes must be an integer from 1 to 9007199254740991, got 0'],
        ['another format', ORG1, input(1, { format: 'pickle' }), '[INVALID_ARGUMENT] proposal refused: format must be one of onnx, got "pickle"'],
        ['a non-finite metric', ORG1, '{"taskId":"credit-risk","modelSha256":"' + modelSha(1) + '","uri":"s3://m","sizeBytes":1,"metrics":{"roc_auc":1e999}}', '[INVALID_ARGUMENT] proposal refused: metrics.roc_auc must be a finite number, got Infinity'],
        ['a bad metric name', ORG1, input(1, { metrics: { 'ROC AUC': 0.7 } }), '[INVALID_ARGUMENT] proposal refused: metrics has the metric name "ROC AUC"; names are 1 to 32 lowercase letters, digits or "_", starting with a letter'],
        ['metrics that are not an object', ORG1, input(1, { metrics: [0.7] }), '[INVALID_ARGUMENT] proposal refused: metrics must be an object of metric name to number, got an array'],
        ['a model over the size limit', ORG1, input(1, { sizeBytes: 64 * 1024 * 1024 + 1 }), `[MODEL_TOO_LARGE] proposal refused: model ${modelSha(1).slice(0, 12)}… is 67108865 bytes, over task credit-risk's limit of 67108864 bytes`],
        ['a parent when there is no champion', ORG1, input(1, { parent: 'p-' + '0'.repeat(32) }), '[PARENT_NOT_CHAMPION] proposal refused: parent p-00000000000000000000000000000000 is not the champion of task credit-risk (the champion is none yet); start from the current champion or leave parent out'],
        ['a malformed round', ORG1, input(1, { round: 'round 7' }), '[INVALID_ARGUMENT] proposal refused: round must be 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit, got "round 7"'],
    ];
    for (const [name, msp, proposal, message] of refusals) {
        it(`refuses ${name}`, async () => {
            await expectRefusal(submit(msp, proposal), message);
        });
    }

    it('refuses a model hash proposed before for the task', async () => {
        const first = await world.propose(ORG1, 1);
        await expectRefusal(
            submit(ORG2, proposalInput(1, { uri: 's3://elsewhere/model.onnx' })),
            `[ALREADY_PROPOSED] proposal refused: model ${modelSha(1).slice(0, 12)}… was already proposed for task credit-risk as ${String(first.id)} (PENDING); a model is proposed once per task, and again only after its proposal expired`,
        );
    });

    it('refuses a parent that is no longer the champion', async () => {
        const first = await world.accept(1);
        const second = await world.accept(2);
        await expectRefusal(
            submit(ORG1, proposalInput(3, { parent: first })),
            `[PARENT_NOT_CHAMPION] proposal refused: parent ${first} is not the champion of task credit-risk (the champion is ${second}); start from the current champion or leave parent out`,
        );
    });

    it('limits the open proposals of one organisation, not of the others', async () => {
        const a = (await world.propose(ORG1, 1)).id as string;
        const b = (await world.propose(ORG1, 2)).id as string;
        const [first, second] = [a, b].sort();
        await expectRefusal(
            submit(ORG1, proposalInput(3)),
            `[TOO_MANY_OPEN_PROPOSALS] proposal refused: Org1MSP already has 2 open proposals on task credit-risk (limit 2): ${String(first)}, ${String(second)}; wait for their decision or close expired ones with CloseExpired`,
        );
        await world.propose(ORG2, 3);
    });

    it('frees a slot when a proposal is decided', async () => {
        await world.accept(1);
        await world.propose(ORG1, 2);
        await world.propose(ORG1, 3);
        expect(world.ledger.lastEvent()?.name).to.equal('ProposalSubmitted');
    });
});

describe('SubmitProposal again after an expiry', () => {
    let world: World;
    let id: string;
    const expiredAt = new Date(T0 + HOUR).toISOString();
    beforeEach(async () => {
        world = new World();
        await world.createTask(ORG1);
        id = (await world.propose(ORG1, 1)).id as string;
        await world.vote(ORG2, id, 'approve', 0.8);
        world.ledger.now = T0 + HOUR;
        expect((await world.decide(ORG3, id)).status).to.equal('EXPIRED');
    });

    function submit(msp: string, overrides: Record<string, unknown> = {}): Promise<string> {
        return world.ledger.invoke(msp, (ctx: Context) => world.registry.SubmitProposal(ctx, json(proposalInput(1, overrides))));
    }
    async function addMember(member: string): Promise<void> {
        const change = await world.ledger.invoke(ORG1, (ctx: Context) =>
            world.registry.ProposeChange(ctx, json({ taskId: TASK, type: 'addMember', member })),
        );
        const changeId = String((JSON.parse(change) as Record<string, unknown>).id);
        for (const msp of [ORG2, ORG3]) {
            await world.ledger.invoke(msp, (ctx: Context) => world.registry.VoteChange(ctx, changeId, 'approve'));
        }
    }

    it('reopens the proposal under the same id: PENDING, a fresh deadline, the current electorate, its votes kept', async () => {
        await addMember(ORG4);
        world.ledger.now = T0 + 2 * HOUR;
        const reopened = JSON.parse(await submit(ORG2, { uri: 's3://repaired/model.onnx' })) as Record<string, unknown>;
        expect(reopened).to.deep.include({
            id,
            proposer: ORG2,
            uri: 's3://repaired/model.onnx',
            electorate: [ORG1, ORG2, ORG3, ORG4],
            status: 'PENDING',
            statusReason: `reopened after it expired at ${expiredAt}; 1 of 4 members voted (quorum 2); waiting for votes`,
            tally: { approve: 1, reject: 0, abstain: 0, unavailable: 0, votes: { [ORG2]: { decision: 'approve', score: 0.8, regression: null } } },
            createdAt: new Date(T0 + 2 * HOUR).toISOString(),
            deadline: new Date(T0 + 3 * HOUR).toISOString(),
            decidedAt: null,
        });
        expect(world.ledger.lastEvent()?.name).to.equal('ProposalSubmitted');
        const listed = async (status: string): Promise<unknown[]> =>
            ((await world.evaluate((r, ctx) => r.ListProposals(ctx, json({ taskId: TASK, status, proposer: ORG2 })))) as { records: unknown[] })
                .records;
        expect(await listed('PENDING')).to.have.length(1);
        expect(await world.evaluate((r, ctx) => r.ListProposals(ctx, json({ status: 'EXPIRED' })))).to.deep.include({ records: [] });
    });

    it('keeps the votes cast: their voters cannot vote again, the others decide', async () => {
        world.ledger.now = T0 + 2 * HOUR;
        await submit(ORG1);
        await expectRefusalStart(
            world.vote(ORG2, id, 'reject', 0.1),
            `[ALREADY_VOTED] vote refused: Org2MSP already voted on proposal ${id} (approve at ${new Date(T0).toISOString()}`,
        );
        await world.vote(ORG3, id, 'approve', 0.79);
        expect((await world.decide(ORG1, id)).status).to.equal('ACCEPTED');
    });

    it('counts the reopened proposal against the open-proposal limit', async () => {
        world.ledger.now = T0 + 2 * HOUR;
        await world.propose(ORG1, 2);
        await world.propose(ORG1, 3);
        await expectRefusalStart(submit(ORG1), '[TOO_MANY_OPEN_PROPOSALS] proposal refused: Org1MSP already has 2 open proposals on task credit-risk (limit 2)');
    });

    const decided: [string, number, (w: World, pid: string) => Promise<unknown>][] = [
        ['PENDING', 1, () => Promise.resolve()],
        ['ACCEPTED', 1, (w, pid) => w.vote(ORG3, pid, 'approve', 0.79).then(() => w.decide(ORG3, pid))],
        ['REJECTED', 2, (w, pid) => w.vote(ORG2, pid, 'reject', 0.1).then(() => w.vote(ORG1, pid, 'reject', 0.1)).then(() => w.decide(ORG1, pid))],
    ];
    for (const [status, n, settle] of decided) {
        it(`refuses a model whose proposal is ${status}`, async () => {
            world.ledger.now = T0 + 2 * HOUR;
            const pid = String((JSON.parse(await submit(ORG1, proposalInput(n))) as Record<string, unknown>).id);
            await settle(world, pid);
            await expectRefusal(
                submit(ORG2, proposalInput(n)),
                `[ALREADY_PROPOSED] proposal refused: model ${modelSha(n).slice(0, 12)}… was already proposed for task credit-risk as ${pid} (${status}); ` +
                    'a model is proposed once per task, and again only after its proposal expired',
            );
        });
    }
});
