/**
 * Governance: changes to a task (policy, members, champion) take effect only when every current
 * member approves them. A member proposes a change (its own approval included); each other member
 * approves or rejects it in its own transaction; the approval that completes the set applies the
 * change in that transaction, and one rejection rejects it. A member being removed has no say in
 * its own removal. A change not completed within the task's voting period can be closed as EXPIRED.
 */
import { createHash } from 'crypto';
import type { Context } from 'fabric-contract-api';
import { dethrone, loadChampion } from './champions';
import { Input, ID_PATTERN, ID_RULE, MSP_PATTERN, MSP_RULE, checkArgument } from './input';
import { parseJsonArgument } from './json';
import { callerMsp, emit, key, readRecord, reply, txTime, writeIndex, writeRecord, type TxTime } from './ledger';
import { parsePolicy, policyMisfit } from './policy';
import { CHANGE_TYPES, KEYS, SCHEMA_VERSION, type Change, type Task } from './records';
import { refuse, type RefusalCode } from './refusals';
import { loadTask, requireMember, taskKey } from './tasks';

export const CHANGE_ID_PATTERN = /^c-[0-9a-f]{32}$/;
export const CHANGE_ID_RULE = 'must be "c-" and 32 lowercase hex characters';
const MAX_REASON = 256;
const REFUSAL = 'change refused';

export function changeKey(ctx: Context, changeId: string): string {
    return key(ctx, KEYS.change, [changeId]);
}

/** "c-" and the first 32 hex characters of SHA-256(taskId, a zero byte, the transaction id). */
export function changeIdFor(taskId: string, txId: string): string {
    return `c-${createHash('sha256').update(`${taskId}\u0000${txId}`, 'utf8').digest('hex').slice(0, 32)}`;
}

export async function loadChange(ctx: Context, changeId: string, refusal: string): Promise<Change> {
    checkArgument(refusal, 'changeId', changeId, CHANGE_ID_PATTERN, CHANGE_ID_RULE);
    const change = await readRecord<Change>(ctx, 'change', changeKey(ctx, changeId));
    if (change === undefined) {
        refuse('CHANGE_NOT_FOUND', refusal, `change ${changeId} does not exist; list changes with ListChanges`);
    }
    return change;
}

/** The members whose approval the change needs: every current member except the one it removes. */
export function requiredApprovals(task: Task, change: Change): string[] {
    return task.members.filter((member) => !(change.type === 'removeMember' && member === change.member));
}

interface Misfit {
    code: RefusalCode;
    text: string;
}

function policyProblem(text: string | null): Misfit | null {
    return text === null ? null : { code: 'POLICY_MISFIT', text };
}

/** Why the change cannot be applied to the task as it is now, or null when it can. */
async function misfit(ctx: Context, task: Task, change: Change): Promise<Misfit | null> {
    switch (change.type) {
        case 'updatePolicy':
            return policyProblem(policyMisfit(change.policy ?? task.policy, task.members.length));
        case 'addMember':
            return task.members.includes(change.member ?? '')
                ? { code: 'ALREADY_MEMBER', text: `${String(change.member)} is already a member of task ${task.id}` }
                : null;
        case 'removeMember':
            if (!task.members.includes(change.member ?? '')) {
                return { code: 'NOT_A_MEMBER', text: `${String(change.member)} is not a member of task ${task.id}` };
            }
            return policyProblem(policyMisfit(task.policy, task.members.length - 1));
        case 'revokeChampion':
            return (await loadChampion(ctx, task.id)) === undefined
                ? { code: 'NO_CHAMPION', text: `task ${task.id} has no champion to revoke` }
                : null;
    }
}

interface Applied {
    change: Change;
    champion?: string | null;
}

/** Applies the change if every required member approved; marks it REJECTED if it no longer fits. */
async function settle(ctx: Context, task: Task, change: Change, time: TxTime): Promise<Applied> {
    const missing = requiredApprovals(task, change).filter((member) => !change.approvals.includes(member));
    if (missing.length > 0) {
        return {
            change: { ...change, statusReason: `waiting for approval by ${missing.join(', ')}` },
        };
    }
    const problem = await misfit(ctx, task, change);
    if (problem !== null) {
        return {
            change: { ...change, status: 'REJECTED', statusReason: `no longer applicable: ${problem.text}`, decidedAt: time.iso },
        };
    }
    const done: Change = { ...change, status: 'APPLIED', statusReason: 'approved by every member', decidedAt: time.iso };
    const updated: Task = { ...task, updatedAt: time.iso, txId: ctx.stub.getTxID() };
    let champion: string | null | undefined;
    switch (change.type) {
        case 'updatePolicy':
            updated.policy = change.policy ?? task.policy;
            break;
        case 'addMember':
            updated.members = [...task.members, change.member ?? ''].sort();
            break;
        case 'removeMember':
            updated.members = task.members.filter((member) => member !== change.member);
            break;
        case 'revokeChampion': {
            const current = await loadChampion(ctx, task.id);
            if (current !== undefined) {
                const reason = `revoked by change ${change.id}${change.reason === '' ? '' : `: ${change.reason}`}`;
                champion = (await dethrone(ctx, current, reason, time))?.proposalId ?? null;
            }
            return { change: done, champion };
        }
    }
    await writeRecord(ctx, taskKey(ctx, task.id), updated);
    return { change: done, champion };
}

interface PendingEvent {
    name: 'ChangeProposed' | 'ChangeVoted';
    payload: Record<string, unknown>;
}

/** Writes the change and emits ChangeDecided once it is settled, else the given event. */
async function finish(ctx: Context, result: Applied, actor: string, pending: PendingEvent | null): Promise<string> {
    const { change } = result;
    await writeRecord(ctx, changeKey(ctx, change.id), change);
    if (change.status === 'PENDING' && pending !== null) {
        emit(ctx, pending.name, pending.payload);
    } else {
        emit(ctx, 'ChangeDecided', {
            taskId: change.taskId,
            changeId: change.id,
            type: change.type,
            member: change.member,
            status: change.status,
            reason: change.statusReason,
            decidedBy: actor,
            champion: result.champion,
        });
    }
    return reply(change);
}

export async function proposeChange(ctx: Context, changeJson: string): Promise<string> {
    const input = new Input(REFUSAL, '', parseJsonArgument(REFUSAL, changeJson), ['taskId', 'type', 'policy', 'member', 'reason']);
    const taskId = input.string('taskId', 64, ID_PATTERN, ID_RULE);
    const type = input.oneOf('type', CHANGE_TYPES);
    const reason = input.text('reason', MAX_REASON);
    const task = await loadTask(ctx, taskId, REFUSAL);
    const proposer = callerMsp(ctx);
    requireMember(task, proposer, REFUSAL);
    let policy = null;
    let member = null;
    if (type === 'updatePolicy') {
        policy = parsePolicy(REFUSAL, 'policy', input.raw('policy'), task.members.length, task.metric);
    } else if (input.raw('policy') !== undefined) {
        input.refuse('policy', 'is only allowed on an updatePolicy change');
    }
    if (type === 'addMember' || type === 'removeMember') {
        member = input.string('member', 128, MSP_PATTERN, MSP_RULE);
    } else if (input.raw('member') !== undefined) {
        input.refuse('member', 'is only allowed on an addMember or removeMember change');
    }
    if (type === 'removeMember' && member === proposer) {
        refuse('SELF_REMOVAL', REFUSAL, `${proposer} cannot propose its own removal; ask another member`);
    }
    const time = txTime(ctx);
    const txId = ctx.stub.getTxID();
    const change: Change = {
        docType: 'change',
        schemaVersion: SCHEMA_VERSION,
        id: changeIdFor(taskId, txId),
        taskId,
        type,
        policy,
        member,
        reason,
        proposer,
        approvals: [proposer],
        rejections: [],
        status: 'PENDING',
        statusReason: '',
        createdAt: time.iso,
        deadline: new Date(time.ms + task.policy.votingPeriodSeconds * 1000).toISOString(),
        decidedAt: null,
        txId,
    };
    const problem = await misfit(ctx, task, change);
    if (problem !== null) {
        refuse(problem.code, REFUSAL, problem.text);
    }
    await writeIndex(ctx, KEYS.changeByTask, [taskId, change.id]);
    const result = await settle(ctx, task, change, time);
    return finish(ctx, result, proposer, {
        name: 'ChangeProposed',
        payload: {
            taskId,
            changeId: change.id,
            type,
            member,
            proposer,
            required: requiredApprovals(task, change),
            deadline: change.deadline,
        },
    });
}

export async function voteChange(ctx: Context, changeId: string, decision: string): Promise<string> {
    const change = await loadChange(ctx, changeId, REFUSAL);
    const task = await loadTask(ctx, change.taskId, REFUSAL);
    const voter = callerMsp(ctx);
    requireMember(task, voter, REFUSAL);
    if (decision !== 'approve' && decision !== 'reject') {
        refuse('INVALID_ARGUMENT', REFUSAL, `decision must be approve or reject, got ${JSON.stringify(decision)}`);
    }
    if (change.status !== 'PENDING') {
        refuse('NOT_PENDING', REFUSAL, `change ${changeId} is ${change.status}, not PENDING (${change.statusReason})`);
    }
    const time = txTime(ctx);
    if (time.ms >= Date.parse(change.deadline)) {
        refuse('VOTING_ENDED', REFUSAL, `voting on change ${changeId} ended at ${change.deadline}; close it with CloseExpired`);
    }
    if (change.type === 'removeMember' && change.member === voter) {
        refuse('NOT_IN_ELECTORATE', REFUSAL, `${voter} is the member change ${changeId} removes and has no vote on it`);
    }
    // A rejection settles the change at once, so a member that voted before can only have approved.
    if (change.approvals.includes(voter)) {
        refuse('ALREADY_VOTED', REFUSAL, `${voter} already approved change ${changeId}`);
    }
    let result: Applied;
    if (decision === 'reject') {
        result = {
            change: {
                ...change,
                rejections: [...change.rejections, voter].sort(),
                status: 'REJECTED',
                statusReason: `rejected by ${voter}; a change needs every member's approval`,
                decidedAt: time.iso,
            },
        };
    } else {
        result = await settle(ctx, task, { ...change, approvals: [...change.approvals, voter].sort() }, time);
    }
    const required = requiredApprovals(task, change);
    return finish(ctx, result, voter, {
        name: 'ChangeVoted',
        payload: {
            taskId: change.taskId,
            changeId,
            voter,
            decision,
            approvals: result.change.approvals.filter((member) => required.includes(member)).length,
            required: required.length,
        },
    });
}

export async function closeExpiredChange(ctx: Context, changeId: string): Promise<string> {
    const refusal = 'close refused';
    const change = await loadChange(ctx, changeId, refusal);
    const task = await loadTask(ctx, change.taskId, refusal);
    const caller = callerMsp(ctx);
    requireMember(task, caller, refusal);
    if (change.status !== 'PENDING') {
        refuse('NOT_PENDING', refusal, `change ${changeId} is ${change.status}, not PENDING; only open changes expire`);
    }
    const time = txTime(ctx);
    if (time.ms < Date.parse(change.deadline)) {
        refuse('VOTING_NOT_ENDED', refusal, `voting on change ${changeId} runs until ${change.deadline}; close it after that`);
    }
    const expired: Change = {
        ...change,
        status: 'EXPIRED',
        statusReason: `the voting period ended at ${change.deadline} without every member's approval`,
        decidedAt: time.iso,
    };
    return finish(ctx, { change: expired }, caller, null);
}
