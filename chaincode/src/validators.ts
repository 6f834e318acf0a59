/**
 * Validator announcements: which tasks each organisation's validator serves. A validator
 * announces on start (so also after a change of its configuration) and again at an interval, so
 * that a proposer can tell a member whose validator serves the task from one whose validator
 * is missing or has not been heard of for long (docs/validator.md#announcements).
 */
import type { Context } from 'fabric-contract-api';
import { Input, ID_PATTERN, ID_RULE } from './input';
import { parseJsonArgument } from './json';
import { callerMsp, decodeRecord, emit, entries, key, readRecord, reply, txTime, writeRecord } from './ledger';
import { KEYS, SCHEMA_VERSION, type ValidatorAnnouncement } from './records';
import { loadTask, requireMember } from './tasks';

export const MAX_ANNOUNCED_TASKS = 256;
export const MAX_EVALUATOR_VERSION = 64;
const REFUSAL = 'announcement refused';
const QUERY_REFUSAL = 'query refused';

/** One organisation's validator serving one task, as ListValidators returns it. */
export interface ServingValidator {
    organization: string;
    taskId: string;
    since: string;
    evaluatorVersion: string;
    announcedAt: string;
    txId: string;
}

function announcementKey(ctx: Context, organization: string): string {
    return key(ctx, KEYS.validator, [organization]);
}

/**
 * Records that the caller's validator serves `taskIds` (each a task it is a member of) with
 * `evaluatorVersion`, replacing its previous announcement; a task it already served keeps its
 * `since`. The organisation is the signer's, never an argument.
 */
export async function announceValidator(ctx: Context, announcementJson: string): Promise<string> {
    const input = new Input(REFUSAL, '', parseJsonArgument(REFUSAL, announcementJson), ['taskIds', 'evaluatorVersion']);
    const taskIds = [...input.stringList('taskIds', 0, MAX_ANNOUNCED_TASKS, ID_PATTERN, ID_RULE)].sort();
    const evaluatorVersion = input.text('evaluatorVersion', MAX_EVALUATOR_VERSION);
    const organization = callerMsp(ctx);
    for (const taskId of taskIds) {
        requireMember(await loadTask(ctx, taskId, REFUSAL), organization, REFUSAL);
    }
    const stateKey = announcementKey(ctx, organization);
    const previous = await readRecord<ValidatorAnnouncement>(ctx, 'validator', stateKey);
    const now = txTime(ctx).iso;
    const tasks: Record<string, string> = {};
    for (const taskId of taskIds) {
        tasks[taskId] = previous?.tasks[taskId] ?? now;
    }
    const announcement: ValidatorAnnouncement = {
        docType: 'validator',
        schemaVersion: SCHEMA_VERSION,
        organization,
        tasks,
        evaluatorVersion,
        announcedAt: now,
        txId: ctx.stub.getTxID(),
    };
    await writeRecord(ctx, stateKey, announcement);
    emit(ctx, 'ValidatorAnnounced', { organization, taskIds, evaluatorVersion });
    return reply(announcement);
}

/** Every organisation's validator that last announced serving `taskId`, by organisation. */
export async function listValidators(ctx: Context, taskId: string): Promise<string> {
    await loadTask(ctx, taskId, QUERY_REFUSAL);
    const serving: ServingValidator[] = [];
    // A range read returns keys in order, so the announcements come by organisation.
    for (const entry of await entries(ctx, KEYS.validator, [])) {
        const stateKey = key(ctx, KEYS.validator, entry.attributes);
        const announcement = decodeRecord<ValidatorAnnouncement>('validator', stateKey, entry.value);
        const since = announcement.tasks[taskId];
        if (since !== undefined) {
            serving.push({
                organization: announcement.organization,
                taskId,
                since,
                evaluatorVersion: announcement.evaluatorVersion,
                announcedAt: announcement.announcedAt,
                txId: announcement.txId,
            });
        }
    }
    return reply(serving);
}
