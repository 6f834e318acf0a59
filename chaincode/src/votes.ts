/**
 * Votes: one per (proposal, member organisation), each under its own key.
 *
 * A vote writes only `vote/<proposal>/<voter>` and reads only records that no other member's vote
 * writes (the task, the proposal, the champion and its own vote key), so the votes of every member
 * on one proposal commit in the same block without an MVCC conflict. Counting them is the job of
 * the Decide transaction (decisions.ts), which any member submits once the votes decide.
 *
 * A vote is never replaced, with one exception: an `unavailable` report (the voter could not get
 * the model's bytes; it counts for nothing, see unavailable.ts) is replaced by the voter's next
 * record on the proposal, its real vote once the bytes are right. Fabric's history of the vote key
 * keeps the report. A report is for an open proposal: on a decided one it is refused.
 *
 * A vote after the decision is recorded too and decides nothing: a member of the proposal's
 * electorate records its evaluation whenever its validator finishes it (the audit trail then holds
 * every member's score of every proposal), and any current member may score the task's champion
 * (a member that joined since needs a champion score as much as one that was slow): its score is
 * then the base of its veto on the next proposals (see championScores in champions.ts).
 */
import type { Context } from 'fabric-contract-api';
import { loadChampion } from './champions';
import { refuse } from './refusals';
import { Input } from './input';
import { parseJsonArgument } from './json';
import { callerMsp, decodeRecord, emit, entries, key, readRecord, reply, txTime, writeRecord } from './ledger';
import { loadProposal, PROPOSAL_ID_PATTERN, PROPOSAL_ID_RULE } from './proposals';
import { DECISIONS, KEYS, SCHEMA_VERSION, type Proposal, type Task, type Vote } from './records';
import { loadTask, requireMember } from './tasks';
import { UNAVAILABLE_RULE, unavailableFault } from './unavailable';

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
    const scored = decision === 'approve' || decision === 'reject';
    const metrics = input.metrics('metrics', MAX_VOTE_METRICS);
    const holdoutRows = input.integer('holdoutRows', scored ? 1 : 0, MAX_HOLDOUT_ROWS);
    const evaluatorVersion = input.string('evaluatorVersion', MAX_EVALUATOR_VERSION, PRINTABLE, PRINTABLE_RULE);
    const reason = input.text('reason', MAX_REASON);
    if (decision === 'abstain' && reason === '') {
        input.refuse('reason', 'must say why the member abstains');
    }
    if (decision === 'unavailable') {
        if (Object.keys(metrics).length > 0) {
            input.refuse('metrics', 'must be empty in an unavailable report: the model was not evaluated');
        }
        if (unavailableFault(reason) === null) {
            input.refuse('reason', `${UNAVAILABLE_RULE} in an unavailable report`);
        }
    }
    return { proposalId, decision, metrics, holdoutRows, evaluatorVersion, reason };
}

/** Every vote recorded on a proposal, in the order of their voters' MSP ids. */
export async function recordedVotes(ctx: Context, proposalId: string): Promise<Vote[]> {
    const found = await entries(ctx, KEYS.vote, [proposalId]);
    return found.map((entry) => decodeRecord<Vote>('vote', key(ctx, KEYS.vote, entry.attributes), entry.value));
}

export async function castVote(ctx: Context, voteJson: string): Promise<string> {
    const ballot = parseVote(voteJson);
    const proposal = await loadProposal(ctx, ballot.proposalId, REFUSAL);
    const task = await loadTask(ctx, proposal.taskId, REFUSAL);
    const voter = callerMsp(ctx);
    requireMember(task, voter, REFUSAL);
    const late = proposal.status !== 'PENDING';
    const time = txTime(ctx);
    if (late) {
        if (ballot.decision === 'unavailable') {
            refuse(
                'NOT_PENDING',
                REFUSAL,
                `proposal ${proposal.id} is ${proposal.status}, not PENDING; an unavailable report is for an open proposal ` +
                    '(propose an expired model again to reopen it)',
            );
        }
        await requireLateVoter(ctx, task, proposal, voter);
    } else {
        requireOpen(proposal, voter, time.ms);
    }
    const id = proposal.id;
    const earlier = await readRecord<Vote>(ctx, 'vote', voteKey(ctx, id, voter));
    if (earlier !== undefined && earlier.decision !== 'unavailable') {
        refuse(
            'ALREADY_VOTED',
            REFUSAL,
            `${voter} already voted on proposal ${id} (${earlier.decision} at ${earlier.castAt}, transaction ${earlier.txId})`,
        );
    }
    const score = ballot.metrics[proposal.metric] ?? null;
    if (score === null && (ballot.decision === 'approve' || ballot.decision === 'reject')) {
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
    const announced = { taskId: task.id, proposalId: id, voter, decision: vote.decision, score };
    const onChampion = late && (await loadChampion(ctx, task.id))?.proposalId === id;
    emit(ctx, onChampion ? 'ChampionScored' : 'VoteCast', onChampion ? announced : { ...announced, late });
    return reply({ vote, proposal, late });
}

/** Fails unless the voter may still vote on the open proposal: in its electorate, before the deadline. */
function requireOpen(proposal: Proposal, voter: string, now: number): void {
    if (!proposal.electorate.includes(voter)) {
        refuse(
            'NOT_IN_ELECTORATE',
            REFUSAL,
            `${voter} joined task ${proposal.taskId} after proposal ${proposal.id} was submitted; ` +
                `only its electorate votes on it (${proposal.electorate.join(', ')})`,
        );
    }
    if (now >= Date.parse(proposal.deadline)) {
        refuse(
            'VOTING_ENDED',
            REFUSAL,
            `voting on proposal ${proposal.id} ended at ${proposal.deadline}; settle it with Decide`,
        );
    }
}

/**
 * Fails unless the voter may record a vote on the decided proposal: a member of its electorate,
 * or any current member when the proposal is the task's champion.
 */
async function requireLateVoter(ctx: Context, task: Task, proposal: Proposal, voter: string): Promise<void> {
    if (proposal.electorate.includes(voter)) {
        return;
    }
    const champion = await loadChampion(ctx, task.id);
    if (champion?.proposalId === proposal.id) {
        return;
    }
    refuse(
        'NOT_IN_ELECTORATE',
        REFUSAL,
        `${voter} joined task ${task.id} after proposal ${proposal.id} was submitted and the proposal is ` +
            `${proposal.status}, not the champion; only its electorate (${proposal.electorate.join(', ')}) records votes on it`,
    );
}
