/** Read-only queries: evaluate transactions, never submitted for ordering. */
import type { Context } from 'fabric-contract-api';
import { CHANGE_ID_PATTERN, CHANGE_ID_RULE, changeKey, loadChange } from './governance';
import { championKey, loadChampion, proposalKey, withCurrentScores } from './champions';
import { withLiveTally } from './decisions';
import { Input, ID_PATTERN, ID_RULE, MSP_PATTERN, MSP_RULE, checkArgument } from './input';
import { parseJsonArgument } from './json';
import {
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    decodeRecord,
    entries,
    keyHistory,
    pageOfKeys,
    printable,
    reply,
    requireRecord,
} from './ledger';
import { loadProposal, PROPOSAL_ID_PATTERN, PROPOSAL_ID_RULE } from './proposals';
import { KEYS, PROPOSAL_STATUSES, type Change, type LedgerRecord, type Proposal, type Task, type Vote } from './records';
import { refuse } from './refusals';
import { loadTask, taskKey } from './tasks';

const REFUSAL = 'query refused';
const MAX_BOOKMARK = 2048;
export const HISTORY_TYPES = ['task', 'proposal', 'champion', 'change'] as const;

interface PageRequest {
    input: Input;
    pageSize: number;
    bookmark: string;
}

/** Parses a list query: "" or a JSON object with pageSize, bookmark and the given filters. */
function pageRequest(queryJson: string, filters: readonly string[]): PageRequest {
    const value = queryJson.trim() === '' ? {} : parseJsonArgument(REFUSAL, queryJson);
    const input = new Input(REFUSAL, '', value, [...filters, 'pageSize', 'bookmark']);
    const pageSize = input.has('pageSize') ? input.integer('pageSize', 1, MAX_PAGE_SIZE) : DEFAULT_PAGE_SIZE;
    const bookmark = input.opaque('bookmark', MAX_BOOKMARK);
    return { input, pageSize, bookmark };
}

/** One page of records found through keys whose last attribute is the record id. */
async function pageOf<T extends LedgerRecord>(
    ctx: Context,
    request: PageRequest,
    objectType: string,
    attributes: string[],
    load: (id: string) => Promise<T>,
): Promise<string> {
    const page = await pageOfKeys(ctx, objectType, attributes, request.pageSize, request.bookmark);
    const records: T[] = [];
    for (const kv of page.records) {
        const { attributes } = ctx.stub.splitCompositeKey(kv.key);
        const id = attributes[attributes.length - 1] ?? '';
        records.push(await load(id));
    }
    return reply({ records, bookmark: page.bookmark, fetched: page.fetched });
}

export async function getTask(ctx: Context, taskId: string): Promise<string> {
    return reply(await loadTask(ctx, taskId, REFUSAL));
}

export async function listTasks(ctx: Context, queryJson: string): Promise<string> {
    const request = pageRequest(queryJson, []);
    const page = await pageOfKeys(ctx, KEYS.task, [], request.pageSize, request.bookmark);
    const records = page.records.map((kv) => decodeRecord<Task>('task', kv.key, kv.value));
    return reply({ records, bookmark: page.bookmark, fetched: page.fetched });
}

export async function getProposal(ctx: Context, proposalId: string): Promise<string> {
    return reply(await withLiveTally(ctx, await loadProposal(ctx, proposalId, REFUSAL)));
}

export async function listProposals(ctx: Context, queryJson: string): Promise<string> {
    const request = pageRequest(queryJson, ['taskId', 'status', 'proposer']);
    const { input } = request;
    const taskId = input.optionalString('taskId', 64, ID_PATTERN, ID_RULE);
    const status = input.has('status') ? input.oneOf('status', PROPOSAL_STATUSES) : undefined;
    const proposer = input.optionalString('proposer', 128, MSP_PATTERN, MSP_RULE);
    const load = async (id: string): Promise<Proposal> =>
        withLiveTally(ctx, await requireRecord<Proposal>(ctx, 'proposal', proposalKey(ctx, id)));
    if (proposer !== undefined && (taskId === undefined || status === undefined)) {
        input.refuse('proposer', 'filters only together with taskId and status');
    }
    if (status !== undefined) {
        const attributes = [status, taskId, proposer].filter((part): part is string => part !== undefined);
        return pageOf(ctx, request, KEYS.proposalByStatus, attributes, load);
    }
    if (taskId !== undefined) {
        return pageOf(ctx, request, KEYS.proposalByTask, [taskId], load);
    }
    const page = await pageOfKeys(ctx, KEYS.proposal, [], request.pageSize, request.bookmark);
    const records: Proposal[] = [];
    for (const kv of page.records) {
        records.push(await withLiveTally(ctx, decodeRecord<Proposal>('proposal', kv.key, kv.value)));
    }
    return reply({ records, bookmark: page.bookmark, fetched: page.fetched });
}

export async function getVotes(ctx: Context, proposalId: string): Promise<string> {
    const proposal = await loadProposal(ctx, proposalId, REFUSAL);
    const found = await entries(ctx, KEYS.vote, [proposal.id]);
    return reply(found.map((entry) => decodeRecord<Vote>('vote', entry.attributes.join('/'), entry.value)));
}

export async function getChampion(ctx: Context, taskId: string): Promise<string> {
    const task = await loadTask(ctx, taskId, REFUSAL);
    const champion = await loadChampion(ctx, task.id);
    if (champion === undefined) {
        refuse('NO_CHAMPION', REFUSAL, `task ${taskId} has no champion yet; none of its proposals has been accepted`);
    }
    return reply(await withCurrentScores(ctx, champion));
}

export async function getChange(ctx: Context, changeId: string): Promise<string> {
    return reply(await loadChange(ctx, changeId, REFUSAL));
}

export async function listChanges(ctx: Context, queryJson: string): Promise<string> {
    const request = pageRequest(queryJson, ['taskId']);
    const taskId = request.input.string('taskId', 64, ID_PATTERN, ID_RULE);
    const load = (id: string): Promise<Change> => requireRecord<Change>(ctx, 'change', changeKey(ctx, id));
    return pageOf(ctx, request, KEYS.changeByTask, [taskId], load);
}

/** The audit trail of one record: every committed version, newest first. */
export async function getHistory(ctx: Context, docType: string, id: string): Promise<string> {
    let stateKey: string;
    switch (docType) {
        case 'task':
        case 'champion':
            checkArgument(REFUSAL, 'taskId', id, ID_PATTERN, ID_RULE);
            stateKey = docType === 'task' ? taskKey(ctx, id) : championKey(ctx, id);
            break;
        case 'proposal':
            checkArgument(REFUSAL, 'proposalId', id, PROPOSAL_ID_PATTERN, PROPOSAL_ID_RULE);
            stateKey = proposalKey(ctx, id);
            break;
        case 'change':
            stateKey = changeKey(ctx, checkArgument(REFUSAL, 'changeId', id, CHANGE_ID_PATTERN, CHANGE_ID_RULE));
            break;
        default:
            refuse('INVALID_ARGUMENT', REFUSAL, `history is kept for ${HISTORY_TYPES.join(', ')}, not ${JSON.stringify(docType)}`);
    }
    return reply({ key: printable(stateKey), entries: await keyHistory(ctx, stateKey) });
}
