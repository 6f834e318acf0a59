/**
 * Decide: the transaction that counts a proposal's votes and settles it.
 *
 * Votes are written each under its own key (votes.ts) and counted here, in one deterministic
 * transaction that reads them with a range over their keys, applies the policy (policy.ts) and,
 * when the votes decide, settles the proposal and the champion. Any member may submit it; the
 * validators do as soon as the votes they have seen decide, and at the deadline. It is idempotent
 * in effect: once a proposal is settled, a second Decide is refused (NOT_PENDING), and two racing
 * in one block conflict on the proposal record, so Fabric invalidates the later one. Before the
 * deadline, votes that decide nothing make Decide a refusal (UNDECIDED) that writes nothing; from
 * the deadline on, they make the proposal EXPIRED, with a reason naming the members that reported
 * the model's bytes unavailable when any did (unavailable.ts), so the proposer knows to repair the
 * stored object and propose the model again (which reopens it).
 *
 * A veto is measured against each voter's score of the champion at the time of the decision: the
 * model that is accepted replaces that champion.
 */
import type { Context } from 'fabric-contract-api';
import { championScores, crown, loadChampion, settleProposal } from './champions';
import { callerMsp, emit, reply, txTime } from './ledger';
import { decide, tallyBallots, type Outcome } from './policy';
import { decidedEvent, loadProposal } from './proposals';
import type { Champion, Proposal, ProposalStatus, Tally, Vote } from './records';
import { refuse } from './refusals';
import { loadTask, requireMember } from './tasks';
import { unavailableFault, unavailableReason, type UnavailableReport } from './unavailable';
import { recordedVotes } from './votes';

/**
 * The proposal's votes counted under its policy, with the regressions against `champion`. The
 * electorate's `unavailable` reports are counted apart and nowhere else: they count for nothing.
 */
export async function countVotes(ctx: Context, proposal: Proposal, champion: Champion | undefined): Promise<Tally> {
    return tallyOf(ctx, proposal, await electorateVotes(ctx, proposal), champion);
}

/** The records of the proposal's electorate (later members' late votes on a champion are not counted). */
async function electorateVotes(ctx: Context, proposal: Proposal): Promise<Vote[]> {
    return (await recordedVotes(ctx, proposal.id)).filter((vote) => proposal.electorate.includes(vote.voter));
}

async function tallyOf(ctx: Context, proposal: Proposal, votes: Vote[], champion: Champion | undefined): Promise<Tally> {
    const counted = votes.filter((vote) => vote.decision !== 'unavailable').map((vote) => vote.voter);
    const base = champion === undefined ? {} : await championScores(ctx, champion, counted);
    const ballots = votes.map((vote) => ({
        voter: vote.voter,
        decision: vote.decision,
        score: vote.score,
        championScore: base[vote.voter] ?? null,
    }));
    return tallyBallots(proposal.higherIsBetter, ballots);
}

function outcomeOf(proposal: Proposal, tally: Tally): Outcome {
    return decide({
        policy: proposal.policy,
        metric: proposal.metric,
        higherIsBetter: proposal.higherIsBetter,
        electorateSize: proposal.electorate.length,
        tally,
    });
}

/**
 * A PENDING proposal as the votes recorded so far count it (its stored tally is its tally at
 * submission: votes do not write the proposal). Other proposals are returned as they are.
 */
export async function withLiveTally(ctx: Context, proposal: Proposal): Promise<Proposal> {
    if (proposal.status !== 'PENDING') {
        return proposal;
    }
    const tally = await countVotes(ctx, proposal, await loadChampion(ctx, proposal.taskId));
    const outcome = outcomeOf(proposal, tally);
    const statusReason =
        outcome.status === 'PENDING'
            ? outcome.reason
            : `the votes decide ${outcome.status} (${outcome.reason}); waiting for a Decide transaction`;
    return { ...proposal, tally, statusReason };
}

/** Decide(proposalId): settles the proposal as its votes decide, or as EXPIRED from its deadline. */
export async function decideProposal(ctx: Context, proposalId: string): Promise<string> {
    const refusal = 'decision refused';
    const proposal = await loadOpen(ctx, proposalId, refusal);
    return settle(ctx, proposal, refusal);
}

/**
 * CloseExpired(proposalId): from the deadline on, settles the proposal as Decide does (as its
 * votes decide, or EXPIRED); before it, refuses. Kept for clients written before Decide.
 */
export async function closeExpiredProposal(ctx: Context, proposalId: string): Promise<string> {
    const refusal = 'close refused';
    const proposal = await loadOpen(ctx, proposalId, refusal);
    if (txTime(ctx).ms < Date.parse(proposal.deadline)) {
        refuse('VOTING_NOT_ENDED', refusal, `voting on proposal ${proposalId} runs until ${proposal.deadline}; close it after that`);
    }
    return settle(ctx, proposal, refusal);
}

/** The proposal, if the caller is a member of its task and it is still PENDING. */
async function loadOpen(ctx: Context, proposalId: string, refusal: string): Promise<Proposal> {
    const proposal = await loadProposal(ctx, proposalId, refusal);
    requireMember(await loadTask(ctx, proposal.taskId, refusal), callerMsp(ctx), refusal);
    if (proposal.status !== 'PENDING') {
        refuse(
            'NOT_PENDING',
            refusal,
            `proposal ${proposalId} is ${proposal.status}, not PENDING (decided at ${String(proposal.decidedAt)}: ${proposal.statusReason})`,
        );
    }
    return proposal;
}

/** Settles the proposal as its votes decide; when they decide nothing, refuses before the deadline and expires it from then on. */
async function settle(ctx: Context, proposal: Proposal, refusal: string): Promise<string> {
    const time = txTime(ctx);
    const champion = await loadChampion(ctx, proposal.taskId);
    const votes = await electorateVotes(ctx, proposal);
    const tally = await tallyOf(ctx, proposal, votes, champion);
    const outcome = outcomeOf(proposal, tally);
    let status: ProposalStatus = outcome.status;
    let reason = outcome.reason;
    if (status === 'PENDING') {
        if (time.ms < Date.parse(proposal.deadline)) {
            refuse(
                'UNDECIDED',
                refusal,
                `the votes on proposal ${proposal.id} decide nothing yet: ${reason}; voting runs until ${proposal.deadline}`,
            );
        }
        status = 'EXPIRED';
        reason = expiryReason(proposal, tally, votes);
    }
    const settled = await settleProposal(ctx, { ...proposal, tally }, status, reason, time);
    let championId = champion?.proposalId ?? null;
    if (settled.status === 'ACCEPTED') {
        championId = (await crown(ctx, settled, time)).proposalId;
    }
    emit(ctx, 'ProposalDecided', decidedEvent(settled, championId, callerMsp(ctx)));
    return reply(settled);
}

/**
 * Why the proposal expired: the members that reported its bytes unavailable, when any did (the
 * proposer then knows to put the model in the store again and propose it again), else the count.
 */
function expiryReason(proposal: Proposal, tally: Tally, votes: Vote[]): string {
    const reports: UnavailableReport[] = [];
    for (const vote of votes) {
        const fault = vote.decision === 'unavailable' ? unavailableFault(vote.reason) : null;
        if (fault !== null) {
            reports.push({ voter: vote.voter, fault });
        }
    }
    if (reports.length > 0) {
        return unavailableReason(reports);
    }
    const { approve, reject, abstain } = tally;
    return (
        `the voting period ended at ${proposal.deadline} with ${approve + reject + abstain} of ${proposal.electorate.length} ` +
        `members voted (quorum ${proposal.policy.quorum}), ${approve} approving`
    );
}
