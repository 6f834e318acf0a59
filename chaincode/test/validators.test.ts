import { expect } from 'chai';
import type { Context } from 'fabric-contract-api';
import { HOUR, ORG1, ORG2, ORG3, ORG4, POLICY, TASK, World, expectRefusal, json, parse } from './fixtures';
import { T0 } from './fake-ledger';
import { SCHEMA_VERSION } from '../src/records';
import { MAX_ANNOUNCED_TASKS } from '../src/validators';

const VERSION = 'fedledger/0.1.0 onnxruntime/1.32.0';
const OTHER = 'other-task';

describe('AnnounceValidator and ListValidators', () => {
    let world: World;
    beforeEach(async () => {
        world = new World();
        await world.createTask(ORG1);
        await world.createTask(ORG1, { id: OTHER, members: [ORG1, ORG4], policy: { ...POLICY, quorum: 1 } });
    });

    function announce(msp: string, input: unknown): Promise<string> {
        return world.ledger.invoke(msp, (ctx: Context) => world.registry.AnnounceValidator(ctx, typeof input === 'string' ? input : json(input)));
    }

    function list(taskId: string): Promise<unknown> {
        return world.evaluate((registry, ctx) => registry.ListValidators(ctx, taskId));
    }

    it("records the signer's organisation, its tasks with when it began serving them, and emits an event", async () => {
        const announcement = parse(await announce(ORG2, { taskIds: [TASK], evaluatorVersion: VERSION }));
        const at = new Date(T0).toISOString();
        expect(announcement).to.deep.include({
            docType: 'validator',
            schemaVersion: SCHEMA_VERSION,
            organization: ORG2,
            tasks: { [TASK]: at },
            evaluatorVersion: VERSION,
            announcedAt: at,
        });
        expect(world.ledger.read('validator', [ORG2])).to.deep.equal(announcement);
        expect(world.ledger.lastEvent()).to.deep.equal({
            name: 'ValidatorAnnounced',
            payload: { organization: ORG2, taskIds: [TASK], evaluatorVersion: VERSION },
        });
    });

    it('keeps the serving-since time of a task announced again, and drops a task no longer announced', async () => {
        await announce(ORG1, { taskIds: [TASK], evaluatorVersion: VERSION });
        world.ledger.now = T0 + 5 * HOUR;
        const again = parse(await announce(ORG1, { taskIds: [OTHER, TASK], evaluatorVersion: 'v2' }));
        expect(again.tasks).to.deep.equal({ [OTHER]: new Date(T0 + 5 * HOUR).toISOString(), [TASK]: new Date(T0).toISOString() });
        expect(again.announcedAt).to.equal(new Date(T0 + 5 * HOUR).toISOString());
        world.ledger.now = T0 + 6 * HOUR;
        const fewer = parse(await announce(ORG1, { taskIds: [OTHER], evaluatorVersion: 'v2' }));
        expect(fewer.tasks).to.deep.equal({ [OTHER]: new Date(T0 + 5 * HOUR).toISOString() });
        expect(await list(TASK)).to.deep.equal([]);
    });

    it('lists, by organisation, the validators whose last announcement names the task', async () => {
        await announce(ORG3, { taskIds: [TASK], evaluatorVersion: 'v3' });
        world.ledger.now = T0 + HOUR;
        await announce(ORG1, { taskIds: [TASK, OTHER], evaluatorVersion: VERSION });
        await announce(ORG4, { taskIds: [OTHER], evaluatorVersion: VERSION });
        const served = (await list(TASK)) as Record<string, unknown>[];
        expect(served.map((v) => [v.organization, v.taskId, v.since, v.evaluatorVersion])).to.deep.equal([
            [ORG1, TASK, new Date(T0 + HOUR).toISOString(), VERSION],
            [ORG3, TASK, new Date(T0).toISOString(), 'v3'],
        ]);
        expect(served[0]).to.have.keys(['organization', 'taskId', 'since', 'evaluatorVersion', 'announcedAt', 'txId']);
        expect(((await list(OTHER)) as Record<string, unknown>[]).map((v) => v.organization)).to.deep.equal([ORG1, ORG4]);
    });

    it('accepts an announcement of no task (a validator that serves none any more)', async () => {
        await announce(ORG1, { taskIds: [TASK], evaluatorVersion: VERSION });
        expect(parse(await announce(ORG1, { taskIds: [], evaluatorVersion: VERSION })).tasks).to.deep.equal({});
        expect(await list(TASK)).to.deep.equal([]);
    });

    const refusals: [string, string, unknown, string][] = [
        ['a task the organisation is not a member of', ORG4, { taskIds: [TASK], evaluatorVersion: VERSION }, '[NOT_A_MEMBER] announcement refused: Org4MSP is not a member of task credit-risk (members: Org1MSP, Org2MSP, Org3MSP)'],
        ['an unknown task', ORG1, { taskIds: ['nope'], evaluatorVersion: VERSION }, '[TASK_NOT_FOUND] announcement refused: task nope does not exist; list tasks with ListTasks'],
        ['a repeated task', ORG1, { taskIds: [TASK, TASK], evaluatorVersion: VERSION }, '[INVALID_ARGUMENT] announcement refused: taskIds[1] repeats "credit-risk"; entries must be unique'],
        ['a malformed task id', ORG1, { taskIds: ['a b'], evaluatorVersion: VERSION }, '[INVALID_ARGUMENT] announcement refused: taskIds[0] must be 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit, got "a b"'],
        [
            'too many tasks',
            ORG1,
            { taskIds: Array.from({ length: MAX_ANNOUNCED_TASKS + 1 }, (_, i) => `t${i}`), evaluatorVersion: VERSION },
            '[INVALID_ARGUMENT] announcement refused: taskIds must be a list of 0 to 256 strings, got an array',
        ],
        ['an evaluator version over 64 characters', ORG1, { taskIds: [TASK], evaluatorVersion: 'v'.repeat(65) }, '[INVALID_ARGUMENT] announcement refused: evaluatorVersion is 65 characters, over the limit of 64'],
        ['an organisation given as an argument', ORG1, { taskIds: [TASK], evaluatorVersion: VERSION, organization: ORG2 }, '[INVALID_ARGUMENT] announcement refused: unknown field organization (allowed: taskIds, evaluatorVersion)'],
        ['an argument that is not JSON', ORG1, 'tasks', `[INVALID_ARGUMENT] announcement refused: the argument is not valid JSON (Unexpected token 'a', "tasks" is not valid JSON)`],
    ];
    for (const [name, msp, input, message] of refusals) {
        it(`refuses ${name}, writing nothing`, async () => {
            await expectRefusal(announce(msp, input), message);
            expect(world.ledger.read('validator', [msp])).to.equal(undefined);
        });
    }

    it('refuses to list the validators of an unknown task', async () => {
        await expectRefusal(list('nope'), '[TASK_NOT_FOUND] query refused: task nope does not exist; list tasks with ListTasks');
    });
});
