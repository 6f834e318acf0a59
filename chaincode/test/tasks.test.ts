import { expect } from 'chai';
import { schemaSha256, parseSchema } from '../src/schema';
import { T0 } from './fake-ledger';
import { ORG1, ORG4, POLICY, SCHEMA, TASK, World, expectRefusal, expectRefusalStart, json, taskInput } from './fixtures';
import type { Context } from 'fabric-contract-api';

describe('CreateTask', () => {
    let world: World;
    beforeEach(() => {
        world = new World();
    });

    function create(msp: string, input: unknown): Promise<string> {
        return world.ledger.invoke(msp, (ctx: Context) => world.registry.CreateTask(ctx, typeof input === 'string' ? input : json(input)));
    }

    it('stores the task with its schema hash, sorted members and policy, and returns it', async () => {
        const task = await world.createTask(ORG1);
        const expectedHash = schemaSha256(parseSchema('t', 's', SCHEMA));
        expect(task).to.deep.include({
            docType: 'task',
            schemaVersion: 3,
            id: TASK,
            metric: 'roc_auc',
            higherIsBetter: true,
            members: ['Org1MSP', 'Org2MSP', 'Org3MSP'],
            policy: POLICY,
            createdBy: ORG1,
            createdAt: new Date(T0).toISOString(),
            schemaSha256: expectedHash,
        });
        expect(world.ledger.read('task', [TASK])).to.deep.equal(task);
        expect(world.ledger.lastEvent()).to.deep.equal({
            name: 'TaskCreated',
            payload: { taskId: TASK, schemaSha256: expectedHash, metric: 'roc_auc', members: ['Org1MSP', 'Org2MSP', 'Org3MSP'], createdBy: ORG1 },
        });
    });

    it('derives higherIsBetter from the metric and accepts a matching flag', async () => {
        const task = await world.createTask(ORG1, { metric: 'log_loss', higherIsBetter: false });
        expect(task.higherIsBetter).to.equal(false);
    });

    it('writes the returned JSON canonically (sorted keys)', async () => {
        const text = await create(ORG1, taskInput());
        expect(text.startsWith('{"createdAt":')).to.equal(true);
    });

    const refusals: [string, string, unknown, string][] = [
        ['a caller outside the members', ORG4, taskInput(), '[NOT_A_MEMBER] task refused: Org4MSP is not among the members of task credit-risk; a task is created by one of its members'],
        ['an argument that is not an object', ORG1, '[1]', '[INVALID_ARGUMENT] task refused: the argument must be a JSON object, got an array'],
        ['an unknown field', ORG1, taskInput({ owner: ORG1 }), '[INVALID_ARGUMENT] task refused: unknown field owner (allowed: id, description, schema, metric, higherIsBetter, members, policy)'],
        ['a bad id', ORG1, taskInput({ id: 'credit risk' }), '[INVALID_ARGUMENT] task refused: id must be 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit, got "credit risk"'],
        ['an unknown metric', ORG1, taskInput({ metric: 'auc' }), '[INVALID_ARGUMENT] task refused: metric must be one of roc_auc, accuracy, f1, log_loss, rmse, mae, r2, got "auc"'],
        ['a contradicting higherIsBetter', ORG1, taskInput({ metric: 'rmse', higherIsBetter: true }), '[INVALID_ARGUMENT] task refused: higherIsBetter contradicts the metric rmse, for which higher is worse, got true'],
        ['no members', ORG1, taskInput({ members: [] }), '[INVALID_ARGUMENT] task refused: members must be a list of 1 to 64 strings, got an array'],
        ['a repeated member', ORG1, taskInput({ members: [ORG1, ORG1] }), '[INVALID_ARGUMENT] task refused: members[1] repeats "Org1MSP"; entries must be unique'],
        ['a malformed member', ORG1, taskInput({ members: [ORG1, 'Org 2'] }), '[INVALID_ARGUMENT] task refused: members[1] must be an MSP ID: 1 to 128 letters, digits, ".", "_" or "-", got "Org 2"'],
        ['a quorum above the members', ORG1, taskInput({ members: [ORG1], policy: POLICY }), '[INVALID_ARGUMENT] task refused: policy.quorum must be an integer from 1 to 1, got 2'],
        ['a description over its limit', ORG1, taskInput({ description: 'x'.repeat(1025) }), '[INVALID_ARGUMENT] task refused: description is 1025 characters, over the limit of 1024'],
        ['a description with control characters', ORG1, taskInput({ description: 'a\nb' }), '[INVALID_ARGUMENT] task refused: description must not contain control characters, got "a\\nb"'],
        ['a description that is not text', ORG1, taskInput({ description: 5 }), '[INVALID_ARGUMENT] task refused: description must be a string, got 5'],
        ['an invalid schema', ORG1, taskInput({ schema: { features: [], target: { name: 'y', type: 'float' } } }), '[INVALID_ARGUMENT] task refused: schema.features must be a list of 1 to 4096 features, got an array'],
    ];
    for (const [name, msp, input, message] of refusals) {
        it(`refuses ${name}`, async () => {
            await expectRefusal(create(msp, input), message);
            expect(world.ledger.state.size).to.equal(0);
        });
    }

    it('refuses an argument that is not JSON', async () => {
        await expectRefusalStart(create(ORG1, 'nope'), '[INVALID_ARGUMENT] task refused: the argument is not valid JSON (');
    });

    it('refuses an id that exists already', async () => {
        await world.createTask(ORG1);
        await expectRefusal(
            create(ORG1, taskInput()),
            `[TASK_EXISTS] task refused: task credit-risk already exists (created by Org1MSP at ${new Date(T0).toISOString()}); choose another id`,
        );
    });
});
