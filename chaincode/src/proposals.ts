/** Proposals: a member registers a trained model for a task; the members then vote on it (votes.ts) and Decide settles it (decisions.ts). */
import { createHash } from 'crypto';
import type { Context } from 'fabric-contract-api';
import { loadChampion, proposalKey } from './champions';
import { Input, SHA256_PATTERN, SHA256_RULE, ID_PATTERN, ID_RULE, checkArgument } from './input';
import { parseJsonArgument } from './json';
import { callerMsp, deleteIndex, emit, entries, readRecord, reply, txTime, writeIndex, writeRecord } from './ledger';
import { KEYS, SCHEMA_VERSION, unavailableCount, type Proposal } from './records';
import { refuse } from './refusals';
import { loadTask, requireMember } from './tasks';

export const PROPOSAL_ID_PATTERN = /^p-[0-9a-f]{32}$/;
export const PROPOSAL_ID_RULE = 'must be "p-" and 32 lowercase hex characters';
const URI_PATTERN = /^[A-Za-z][A-Za-z0-9+.-]*:[\u0021-\u007e]+$/;
const URI_RULE = 'must be a URI with a scheme (s3://…, file:///…) and no spaces or control characters';
const MAX_URI = 1024;
const MAX_PROPOSER_METRICS = 32;
const REFUSAL = 'proposal refused';

/**
 * The proposal id: "p-" and the first 32 hex characters of SHA-256(taskId, a zero byte, modelSha256).
 * Deterministic, so the same model cannot be proposed twice for a task and any party can compute it.
 */
export function proposalIdFor(taskId: string, modelSha256: string): string {
    return `p-${createHash('sha256').update(`${taskId}\u0000${modelSha256}`, 'utf8').digest('hex').slice(0, 32)}`;
}

export async function loadProposal(ctx: Context, proposalId: string, refusal: string): Promise<Proposal> {
    checkArgument(refusal, 'proposalId', proposalId, PROPOSAL_ID_PATTERN, PROPOSAL_ID_RULE);
    const proposal = await readRecord<Proposal>(ctx, 'proposal', proposalKey(ctx, proposalId));
    if (proposal === undefined) {
        refuse('PROPOSAL_NOT_FOUND', refusal, `proposal ${proposalId} does not exist; list proposals with ListProposals`);
    }
    return proposal;
}

export function shortHash(sha256: string): string {
    return `${sha256.slice(0, 12)}…`;
}

export async function submitProposal(ctx: Context, proposalJson: string): Promise<string> {
    const input = new Input(REFUSAL, '', parseJsonArgument(REFUSAL, proposalJson), [
        'taskId',
        'modelSha256',
        'uri',
        'sizeBytes',
        'format',
        'metrics',
        'parent',
        'round',
    ]);
    const taskId = input.string('taskId', 64, ID_PATTERN, ID_RULE);
    const modelSha256 = input.string('modelSha256', 64, SHA256_PATTERN, SHA256_RULE);
    const uri = input.string('uri', MAX_URI, URI_PATTERN, URI_RULE);
    const sizeBytes = input.integer('sizeBytes', 1, Number.MAX_SAFE_INTEGER);
    const format = input.has('format') ? input.oneOf('format', ['onnx'] as const) : 'onnx';
    const metrics = input.metrics('metrics', MAX_PROPOSER_METRICS);
    const parent = input.optionalString('parent', 34, PROPOSAL_ID_PATTERN, PROPOSAL_ID_RULE) ?? null;
    const round = input.optionalString('round', 128, ID_PATTERN, ID_RULE) ?? null;

    const task = await loadTask(ctx, taskId, REFUSAL);
    const proposer = callerMsp(ctx);
    requireMember(task, proposer, REFUSAL);
    const model = shortHash(modelSha256);
    if (sizeBytes > task.policy.maxModelBytes) {
        refuse(
            'MODEL_TOO_LARGE',
            REFUSAL,
            `model ${model} is ${sizeBytes} bytes, over task ${taskId}'s limit of ${task.policy.maxModelBytes} bytes`,
        );
    }
    const id = proposalIdFor(taskId, modelSha256);
    const earlier = await readRecord<Proposal>(ctx, 'proposal', proposalKey(ctx, id));
    if (earlier !== undefined && earlier.status !== 'EXPIRED') {
        refuse(
            'ALREADY_PROPOSED',
            REFUSAL,
            `model ${model} was already proposed for task ${taskId} as ${id} (${earlier.status}); ` +
                'a model is proposed once per task, and again only after its proposal expired',
        );
    }
    const champion = await loadChampion(ctx, taskId);
    const championId = champion?.proposalId ?? null;
    if (parent !== null && parent !== championId) {
        refuse(
            'PARENT_NOT_CHAMPION',
            REFUSAL,
            `parent ${parent} is not the champion of task ${taskId} (the champion is ${championId ?? 'none yet'}); ` +
                'start from the current champion or leave parent out',
        );
    }
    const open = await entries(ctx, KEYS.proposalByStatus, ['PENDING', taskId, proposer]);
    if (open.length >= task.policy.maxOpenProposalsPerOrg) {
        const ids = open.map((entry) => entry.attributes[3]).join(', ');
        refuse(
            'TOO_MANY_OPEN_PROPOSALS',
            REFUSAL,
            `${proposer} already has ${open.length} open proposals on task ${taskId} (limit ${task.policy.maxOpenProposalsPerOrg}): ` +
                `${ids}; wait for their decision or close expired ones with CloseExpired`,
        );
    }

    const time = txTime(ctx);
    const fresh: Proposal = {
        docType: 'proposal',
        schemaVersion: SCHEMA_VERSION,
        id,
        taskId,
        modelSha256,
        uri,
        sizeBytes,
        format,
        proposer,
        metrics,
        parent: championId,
        round,
        electorate: task.members,
        policy: task.policy,
        metric: task.metric,
        higherIsBetter: task.higherIsBetter,
        status: 'PENDING',
        statusReason: `0 of ${task.members.length} members voted (quorum ${task.policy.quorum}); waiting for votes`,
        tally: { approve: 0, reject: 0, abstain: 0, unavailable: 0, votes: {} },
        createdAt: time.iso,
        deadline: new Date(time.ms + task.policy.votingPeriodSeconds * 1000).toISOString(),
        decidedAt: null,
        txId: ctx.stub.getTxID(),
    };
    const proposal = earlier === undefined ? fresh : reopened(earlier, fresh);
    if (earlier !== undefined) {
        await deleteIndex(ctx, KEYS.proposalByStatus, [earlier.status, taskId, earlier.proposer, id]);
    }
    await writeRecord(ctx, proposalKey(ctx, id), proposal);
    await writeIndex(ctx, KEYS.proposalByTask, [taskId, id]);
    await writeIndex(ctx, KEYS.proposalByStatus, ['PENDING', taskId, proposer, id]);
    emit(ctx, 'ProposalSubmitted', {
        taskId,
        proposalId: id,
        modelSha256,
        uri,
        sizeBytes,
        format,
        proposer,
        parent: championId,
        round,
        deadline: proposal.deadline,
        electorate: proposal.electorate,
    });
    return reply(proposal);
}

/**
 * An EXPIRED proposal proposed again (its model's bytes were unavailable to the validators, or
 * they were down): PENDING again under the current electorate, policy and champion, with a fresh
 * deadline. The votes already cast stay in its tally and on the ledger: they scored the same bytes
 * (same hash), and their voters cannot vote on it again. An `unavailable` report is no vote: its
 * member votes again, replacing it, once it gets the bytes.
 */
function reopened(earlier: Proposal, fresh: Proposal): Proposal {
    const { approve, reject, abstain } = earlier.tally;
    const cast = approve + reject + abstain;
    return {
        ...fresh,
        tally: earlier.tally,
        statusReason:
            `reopened after it expired at ${String(earlier.decidedAt)}; ${cast} of ${fresh.electorate.length} members voted ` +
            `(quorum ${fresh.policy.quorum}); waiting for votes`,
    };
}

/** The payload of ProposalDecided (decisions.ts; governance's revocation). */
export function decidedEvent(proposal: Proposal, champion: string | null, decidedBy: string): Record<string, unknown> {
    return {
        taskId: proposal.taskId,
        proposalId: proposal.id,
        modelSha256: proposal.modelSha256,
        uri: proposal.uri,
        status: proposal.status,
        reason: proposal.statusReason,
        decidedAt: proposal.decidedAt,
        decidedBy,
        champion,
        tally: {
            approve: proposal.tally.approve,
            reject: proposal.tally.reject,
            abstain: proposal.tally.abstain,
            unavailable: unavailableCount(proposal.tally),
        },
    };
}
