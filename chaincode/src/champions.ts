/** The champion: the accepted model of a task, the members' scores on it, and the line of earlier ones. */
import type { Context } from 'fabric-contract-api';
import { decodeRecord, deleteIndex, entries, key, readRecord, requireRecord, writeIndex, writeRecord, type TxTime } from './ledger';
import { KEYS, SCHEMA_VERSION, type Champion, type Proposal, type ProposalStatus, type Vote } from './records';

export function championKey(ctx: Context, taskId: string): string {
    return key(ctx, KEYS.champion, [taskId]);
}

export async function loadChampion(ctx: Context, taskId: string): Promise<Champion | undefined> {
    return readRecord<Champion>(ctx, 'champion', championKey(ctx, taskId));
}

export function proposalKey(ctx: Context, proposalId: string): string {
    return key(ctx, KEYS.proposal, [proposalId]);
}

/** Moves a proposal to a final status: the record, its status index entry and its decision time. */
export async function settleProposal(
    ctx: Context,
    proposal: Proposal,
    status: ProposalStatus,
    reason: string,
    time: TxTime,
): Promise<Proposal> {
    await deleteIndex(ctx, KEYS.proposalByStatus, [proposal.status, proposal.taskId, proposal.proposer, proposal.id]);
    await writeIndex(ctx, KEYS.proposalByStatus, [status, proposal.taskId, proposal.proposer, proposal.id]);
    const settled: Proposal = { ...proposal, status, statusReason: reason, decidedAt: time.iso };
    await writeRecord(ctx, proposalKey(ctx, proposal.id), settled);
    return settled;
}

/** The scores of the votes that decided a proposal (the deciding one is not yet readable as a record). */
function tallyScores(proposal: Proposal): Record<string, number> {
    const scores: Record<string, number> = {};
    for (const [voter, vote] of Object.entries(proposal.tally.votes)) {
        if (vote.score !== null) {
            scores[voter] = vote.score;
        }
    }
    return scores;
}

/** The scores of every vote recorded on a proposal, late votes on it as champion included. */
async function recordedScores(ctx: Context, proposal: Proposal): Promise<Record<string, number>> {
    const scores: Record<string, number> = {};
    for (const entry of await entries(ctx, KEYS.vote, [proposal.id])) {
        const vote = decodeRecord<Vote>('vote', key(ctx, KEYS.vote, entry.attributes), entry.value);
        if (vote.score !== null) {
            scores[vote.voter] = vote.score;
        }
    }
    return scores;
}

/**
 * The voters' scores of the champion: each from the voter's own vote on it, cast in time or late
 * (a late vote writes only its vote key, never the champion record). Reads only those voters' keys,
 * so that deciding one proposal never conflicts with another member's late vote on the champion.
 */
export async function championScores(ctx: Context, champion: Champion, voters: string[]): Promise<Record<string, number>> {
    const scores: Record<string, number> = {};
    for (const voter of voters) {
        const vote = await readRecord<Vote>(ctx, 'vote', key(ctx, KEYS.vote, [champion.proposalId, voter]));
        const score = vote?.score ?? champion.scores[voter] ?? null;
        if (score !== null) {
            scores[voter] = score;
        }
    }
    return scores;
}

/** The champion with every member's current score of it (the stored record keeps those known at its crowning). */
export async function withCurrentScores(ctx: Context, champion: Champion): Promise<Champion> {
    const proposal = await requireRecord<Proposal>(ctx, 'proposal', proposalKey(ctx, champion.proposalId));
    return { ...champion, scores: { ...champion.scores, ...(await recordedScores(ctx, proposal)) } };
}

function championFrom(
    ctx: Context,
    proposal: Proposal,
    scores: Record<string, number>,
    lineage: string[],
    time: TxTime,
): Champion {
    return {
        docType: 'champion',
        schemaVersion: SCHEMA_VERSION,
        taskId: proposal.taskId,
        proposalId: proposal.id,
        modelSha256: proposal.modelSha256,
        uri: proposal.uri,
        sizeBytes: proposal.sizeBytes,
        format: proposal.format,
        scores,
        lineage,
        since: time.iso,
        txId: ctx.stub.getTxID(),
    };
}

/** Makes an accepted proposal the task's champion; the previous one joins the lineage. */
export async function crown(ctx: Context, accepted: Proposal, time: TxTime): Promise<Champion> {
    const previous = await loadChampion(ctx, accepted.taskId);
    const lineage = previous === undefined ? [] : [...previous.lineage, previous.proposalId];
    const champion = championFrom(ctx, accepted, tallyScores(accepted), lineage, time);
    await writeRecord(ctx, championKey(ctx, accepted.taskId), champion);
    return champion;
}

/**
 * Revokes the current champion: its proposal becomes REVOKED and the task returns to the previous
 * champion, or to none. Returns the new champion.
 */
export async function dethrone(
    ctx: Context,
    current: Champion,
    reason: string,
    time: TxTime,
): Promise<Champion | undefined> {
    const revoked = await requireRecord<Proposal>(ctx, 'proposal', proposalKey(ctx, current.proposalId));
    await settleProposal(ctx, revoked, 'REVOKED', reason, time);
    const previousId = current.lineage[current.lineage.length - 1];
    if (previousId === undefined) {
        await ctx.stub.deleteState(championKey(ctx, current.taskId));
        return undefined;
    }
    const previous = await requireRecord<Proposal>(ctx, 'proposal', proposalKey(ctx, previousId));
    const scores = await recordedScores(ctx, previous);
    const champion = championFrom(ctx, previous, scores, current.lineage.slice(0, -1), time);
    await writeRecord(ctx, championKey(ctx, current.taskId), champion);
    return champion;
}
