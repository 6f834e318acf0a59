/** Tasks: the model lines, their schema, metric, members and policy. */
import type { Context } from 'fabric-contract-api';
import { Input, ID_PATTERN, ID_RULE, MSP_PATTERN, MSP_RULE, checkArgument } from './input';
import { parseJsonArgument } from './json';
import { callerMsp, emit, key, readRecord, reply, txTime, writeRecord } from './ledger';
import { parsePolicy } from './policy';
import { HIGHER_IS_BETTER, KEYS, METRICS, SCHEMA_VERSION, type Task } from './records';
import { refuse } from './refusals';
import { parseSchema, schemaSha256 } from './schema';

export const MAX_MEMBERS = 64;
export const MAX_DESCRIPTION = 1024;
const REFUSAL = 'task refused';

export function taskKey(ctx: Context, taskId: string): string {
    return key(ctx, KEYS.task, [taskId]);
}

/** Reads a task or fails with `<refusal>: task <id> does not exist`. */
export async function loadTask(ctx: Context, taskId: string, refusal: string): Promise<Task> {
    checkArgument(refusal, 'taskId', taskId, ID_PATTERN, ID_RULE);
    const task = await readRecord<Task>(ctx, 'task', taskKey(ctx, taskId));
    if (task === undefined) {
        refuse('TASK_NOT_FOUND', refusal, `task ${taskId} does not exist; list tasks with ListTasks`);
    }
    return task;
}

/** Fails unless the caller's organisation is a member of the task. */
export function requireMember(task: Task, msp: string, refusal: string): void {
    if (!task.members.includes(msp)) {
        refuse('NOT_A_MEMBER', refusal, `${msp} is not a member of task ${task.id} (members: ${task.members.join(', ')})`);
    }
}

export function parseMembers(input: Input, field: string): string[] {
    return [...input.stringList(field, 1, MAX_MEMBERS, MSP_PATTERN, MSP_RULE)].sort();
}

export async function createTask(ctx: Context, taskJson: string): Promise<string> {
    const input = new Input(REFUSAL, '', parseJsonArgument(REFUSAL, taskJson), [
        'id',
        'description',
        'schema',
        'metric',
        'higherIsBetter',
        'members',
        'policy',
    ]);
    const id = input.string('id', 64, ID_PATTERN, ID_RULE);
    const description = input.text('description', MAX_DESCRIPTION);
    const schema = parseSchema(REFUSAL, 'schema', input.raw('schema'));
    const metric = input.oneOf('metric', METRICS);
    const higherIsBetter = HIGHER_IS_BETTER[metric];
    if (input.has('higherIsBetter') && input.boolean('higherIsBetter') !== higherIsBetter) {
        input.refuse('higherIsBetter', `contradicts the metric ${metric}, for which higher is ${higherIsBetter ? 'better' : 'worse'}`);
    }
    const members = parseMembers(input, 'members');
    const policy = parsePolicy(REFUSAL, 'policy', input.raw('policy'), members.length, metric);

    const caller = callerMsp(ctx);
    if (!members.includes(caller)) {
        refuse('NOT_A_MEMBER', REFUSAL, `${caller} is not among the members of task ${id}; a task is created by one of its members`);
    }
    const existing = await readRecord<Task>(ctx, 'task', taskKey(ctx, id));
    if (existing !== undefined) {
        refuse('TASK_EXISTS', REFUSAL, `task ${id} already exists (created by ${existing.createdBy} at ${existing.createdAt}); choose another id`);
    }
    const time = txTime(ctx);
    const task: Task = {
        docType: 'task',
        schemaVersion: SCHEMA_VERSION,
        id,
        description,
        schema,
        schemaSha256: schemaSha256(schema),
        metric,
        higherIsBetter,
        members,
        policy,
        createdBy: caller,
        createdAt: time.iso,
        updatedAt: time.iso,
        txId: ctx.stub.getTxID(),
    };
    await writeRecord(ctx, taskKey(ctx, id), task);
    emit(ctx, 'TaskCreated', {
        taskId: id,
        schemaSha256: task.schemaSha256,
        metric,
        members,
        createdBy: caller,
    });
    return reply(task);
}
