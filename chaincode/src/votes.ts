/**
 * Votes: one per (proposal, member organisation); the deciding vote settles the proposal.
 *
 * A member that had not voted when the proposal was decided (its validator was slower than the
 * quorum, or down, or it joined the task later) may still vote while the proposal is the task's
 * champion: the late vote decides nothing, but its score becomes the member's champion score, the
 * base of its veto on the next proposals. Without it, a member outvoted by speed could never veto
 * a successor that regresses on its holdout.
 */
import type { Context } from 'fabric-contract-api';
import { championKey, crown, loadChampion, proposalKey, settleProposal } from './champions';
import { refuse } from './refusals';
import { Input } from './input';
import { parseJsonArgument } from './json';
import { callerMsp, emit, key, readRecord, reply, txTime, writeRecord } from './ledger';
import { decide, summariseVote } from './policy';
import { decidedEvent, loadProposal, PROPOSAL_ID_PATTERN, PROPOSAL_ID_RULE } from './proposals';
import { DECISIONS, KEYS, SCHEMA_VERSION, type Champion, type Proposal, type Tally, type Vote } from './records';
import { loadTask, requireMember } from './tasks';

export const MAX_VOTE_METRICS = 32;
export const MAX_REASON = 256;
export const MAX_EVALUATOR_VERSION = 64;
export const MAX_HOLDOUT_ROWS = 1e12;
const PRINTABLE = /^[\u0020-\u007e]+$/;
const PRINTABLE_RULE = 'must be printable ASCII';
const REFUSAL = 'vote refused';

export function voteKey(ctx: Context, proposalId: string, voter: string): string {
    return key(ctx, KEYS.vote, [proposalId, voter]);
}

interface VoteInput {
    proposalId: string;
    decision: Vote['decision'];
    metrics: Record<string, number>;
    holdoutRows: number;
    evaluatorVersion: string;
    reason: string;
}

function parseVote(voteJson: string): VoteInput {
    const input = new Input(REFUSAL, '', parseJsonArgument(REFUSAL, voteJson), [
        'proposalId',
        'decision',
        'metrics',
        'holdoutRows',
        'evaluatorVersion',
        'reason',
    ]);
    const proposalId = input.string('proposalId', 34, PROPOSAL_ID_PATTERN, PROPOSAL_ID_RULE);
    const decision = input.oneOf('decision', DECISIONS);
    const metrics = input.metrics('metrics', MAX_VOTE_METRICS);
    const holdoutRows = input.integer('holdoutRows', decision === 'abstain' ? 0 : 1, MAX_HOLDOUT_ROWS);
    const evaluatorVersion = input.string('evaluatorVersion', MAX_EVALUATOR_VERSION, PRINTABLE, PRINTABLE_RULE);
    const reason = input.text('reason', MAX_REASON);
    if (decision === 'abstain' && reason === '') {
        input.refuse('reason', 'must say why the member abstains');
    }
    return { proposalId, decision, metrics, holdoutRows, evaluatorVersion, reason };
}

export async function castVote(ctx: Context, voteJson: string): Promise<string> {
    const ballot = parseVote(voteJson);
    const proposal = await loadProposal(ctx, ballot.proposalId, REFUSAL);
    const task = await loadTask(ctx, proposal.taskId, REFUSAL);
    const voter = callerMsp(ctx);
    requireMember(task, voter, REFUSAL);
    const id = proposal.id;
    const champion = await loadChampion(ctx, task.id);
    const late = proposal.status !== 'PENDING';
    if (late && !(proposal.status === 'ACCEPTED' && champion?.proposalId === id)) {
        const superseded = proposal.status === 'ACCEPTED' ? `; it is no longer task ${task.id}'s champion, so a late vote would score nothing` : '';
        refuse(
            'NOT_PENDING',
            REFUSAL,
            `proposal ${id} is ${proposal.status}, not PENDING (decided at ${String(proposal.decidedAt)}: ${proposal.statusReason})${superseded}`,
        );
    }
    // The electorate decides; any current member may score the champion (a member that joined
    // since needs a champion score as much as one that was slow).
    if (!late && !proposal.electorate.includes(voter)) {
        refuse(
            'NOT_IN_ELECTORATE',
            REFUSAL,
            `${voter} joined task ${task.id} after proposal ${id} was submitted; ` +
                `only its electorate votes on it (${proposal.electorate.join(', ')})`,
        );
    }
    const time = txTime(ctx);
    if (!late && time.ms >= Date.parse(proposal.deadline)) {
        refuse('VOTING_ENDED', REFUSAL, `voting on proposal ${id} ended at ${proposal.deadline}; close it with CloseExpired`);
    }
    const earlier = await readRecord<Vote>(ctx, 'vote', voteKey(ctx, id, voter));
    if (earlier !== undefined) {
        refuse(
            'ALREADY_VOTED',
            REFUSAL,
            `${voter} already voted on proposal ${id} (${earlier.decision} at ${earlier.castAt}, transaction ${earlier.txId})`,
        );
    }
    const score = ballot.metrics[proposal.metric] ?? null;
    if (score === null && ballot.decision !== 'abstain') {
        refuse(
            'INVALID_ARGUMENT',
            REFUSAL,
            `metrics.${proposal.metric} is missing; an ${ballot.decision} vote carries the score on task ${task.id}'s metric ${proposal.metric}`,
        );
    }

    const vote: Vote = {
        docType: 'vote',
        schemaVersion: SCHEMA_VERSION,
        proposalId: id,
        taskId: task.id,
        voter,
        decision: ballot.decision,
        metrics: ballot.metrics,
        score,
        holdoutRows: ballot.holdoutRows,
        evaluatorVersion: ballot.evaluatorVersion,
        reason: ballot.reason,
        castAt: time.iso,
        txId: ctx.stub.getTxID(),
    };
    await writeRecord(ctx, voteKey(ctx, id, voter), vote);
    if (late && champion !== undefined) {
        return scoreChampion(ctx, vote, proposal, champion);
    }

    const summary = summariseVote(proposal.higherIsBetter, vote.decision, score, champion?.scores[voter] ?? null);
    const tally: Tally = {
        approve: proposal.tally.approve + (vote.decision === 'approve' ? 1 : 0),
        reject: proposal.tally.reject + (vote.decision === 'reject' ? 1 : 0),
        abstain: proposal.tally.abstain + (vote.decision === 'abstain' ? 1 : 0),
        votes: { ...proposal.tally.votes, [voter]: summary },
    };
    const outcome = decide({
        policy: proposal.policy,
        metric: proposal.metric,
        higherIsBetter: proposal.higherIsBetter,
        electorateSize: proposal.electorate.length,
        tally,
    });
    const counted: Proposal = { ...proposal, tally, statusReason: outcome.reason };
    if (outcome.status === 'PENDING') {
        await writeRecord(ctx, proposalKey(ctx, id), counted);
        emit(ctx, 'VoteCast', {
            taskId: task.id,
            proposalId: id,
            voter,
            decision: vote.decision,
            score,
            tally: { approve: tally.approve, reject: tally.reject, abstain: tally.abstain },
        });
        return reply({ vote, proposal: counted });
    }
    const settled = await settleProposal(ctx, counted, outcome.status, outcome.reason, time);
    let championId = champion?.proposalId ?? null;
    if (settled.status === 'ACCEPTED') {
        championId = (await crown(ctx, settled, time)).proposalId;
    }
    emit(ctx, 'ProposalDecided', decidedEvent(settled, championId, voter));
    return reply({ vote, proposal: settled });
}

/** A late vote on the champion: it decides nothing; its score becomes the voter's champion score. */
async function scoreChampion(ctx: Context, vote: Vote, proposal: Proposal, champion: Champion): Promise<string> {
    let scored = champion;
    if (vote.score !== null) {
        scored = { ...champion, scores: { ...champion.scores, [vote.voter]: vote.score } };
        await writeRecord(ctx, championKey(ctx, champion.taskId), scored);
    }
    emit(ctx, 'ChampionScored', {
        taskId: champion.taskId,
        proposalId: proposal.id,
        voter: vote.voter,
        decision: vote.decision,
        score: vote.score,
    });
    return reply({ vote, proposal, champion: scored });
}
