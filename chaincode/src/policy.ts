/**
 * The acceptance policy: its parsing and the pure decision function. No ledger access here, so
 * the rules can be read and tested on their own (test/policy.test.ts is table-driven).
 *
 * Decision rules, applied after every vote, in this order:
 * 1. Veto: a vote (approve or reject) whose score on the task metric falls behind the voter's score
 *    for the current champion by more than maxRegression rejects the proposal. Voters without a
 *    champion score (no champion yet, or no vote with a score on it, in time or late) cannot veto.
 *    Differences within 1e-9 count as equal, so that 0.80 - 0.75 is not taken as more than 0.05.
 * 2. Minimum score: an approving vote whose score is worse than minScore (below it when higher is
 *    better, above it when lower is better) rejects the proposal.
 * 3. Accept when at least `quorum` members voted (abstentions count towards the quorum) and
 *    approvals / (approvals + rejections) >= approvalThreshold (abstentions do not count here).
 * 4. Reject as soon as acceptance is impossible: even if every member who has not voted approved,
 *    the approval share would stay below the threshold (this includes everyone abstaining).
 * 5. Otherwise the proposal stays PENDING until more votes arrive or CloseExpired ends it.
 *
 * An `unavailable` report (the member could not get the model's bytes: the store's fault, never the
 * model's) counts for nothing: not towards the quorum, the share or a veto; its member counts as
 * one who has not voted yet (tallyBallots leaves it out of the counted votes).
 */
import { Input } from './input';
import {
    METRIC_RANGES,
    type CountedDecision,
    type Decision,
    type Metric,
    type MetricRange,
    type Policy,
    type Tally,
    type VoteSummary,
} from './records';

export const REGRESSION_TOLERANCE = 1e-9;
export const MAX_VOTING_PERIOD_SECONDS = 365 * 24 * 3600;
export const MAX_MODEL_BYTES = 1024 ** 4;
export const MAX_OPEN_PROPOSALS = 100;

export const POLICY_FIELDS = [
    'quorum',
    'approvalThreshold',
    'minScore',
    'maxRegression',
    'votingPeriodSeconds',
    'maxModelBytes',
    'maxOpenProposalsPerOrg',
] as const;

/** The words for a range: "from 0 to 1", "0 or more", "at most 1". */
export function describeRange(range: MetricRange): string {
    if (range.min !== null && range.max !== null) {
        return `from ${range.min} to ${range.max}`;
    }
    if (range.min !== null) {
        return `${range.min} or more`;
    }
    return range.max === null ? 'any number' : `at most ${range.max}`;
}

/**
 * Why a bound does not fit the metric, or null when it does: a minScore no model can reach or
 * every model meets is a mistake (roc_auc -1.0), as is a maxRegression wider than the range.
 */
export function boundMisfit(metric: Metric, minScore: number | null, maxRegression: number | null): [keyof Policy, string] | null {
    const range = METRIC_RANGES[metric];
    if (minScore !== null && ((range.min !== null && minScore < range.min) || (range.max !== null && minScore > range.max))) {
        return ['minScore', `must be ${describeRange(range)} for ${metric}`];
    }
    if (maxRegression !== null && range.min !== null && range.max !== null && maxRegression > range.max - range.min) {
        return ['maxRegression', `must be at most ${range.max - range.min}, the width of ${metric}'s range (or null for no veto)`];
    }
    return null;
}

/** Parses a policy for a task on `metric` with `memberCount` members. */
export function parsePolicy(refusal: string, path: string, value: unknown, memberCount: number, metric: Metric): Policy {
    const input = new Input(refusal, path, value, POLICY_FIELDS);
    const quorum = input.integer('quorum', 1, memberCount);
    const approvalThreshold = input.number('approvalThreshold');
    if (approvalThreshold <= 0 || approvalThreshold > 1) {
        input.refuse('approvalThreshold', 'must be a share greater than 0 and at most 1');
    }
    const maxRegression = input.optionalNumber('maxRegression');
    if (maxRegression !== null && maxRegression < 0) {
        input.refuse('maxRegression', 'must be zero or more (or null for no veto)');
    }
    const minScore = input.optionalNumber('minScore');
    const misfit = boundMisfit(metric, minScore, maxRegression);
    if (misfit !== null) {
        input.refuse(misfit[0], misfit[1]);
    }
    return {
        quorum,
        approvalThreshold,
        minScore,
        maxRegression,
        votingPeriodSeconds: input.integer('votingPeriodSeconds', 1, MAX_VOTING_PERIOD_SECONDS),
        maxModelBytes: input.integer('maxModelBytes', 1, MAX_MODEL_BYTES),
        maxOpenProposalsPerOrg: input.integer('maxOpenProposalsPerOrg', 1, MAX_OPEN_PROPOSALS),
    };
}

/** Why a policy no longer fits a task with `memberCount` members, or null when it does. */
export function policyMisfit(policy: Policy, memberCount: number): string | null {
    if (policy.quorum > memberCount) {
        return `the quorum ${policy.quorum} would exceed the ${memberCount} members; lower the quorum first with an updatePolicy change`;
    }
    return null;
}

/** Summarises one vote for the policy: its score and its regression against the voter's champion score. */
export function summariseVote(
    higherIsBetter: boolean,
    decision: CountedDecision,
    score: number | null,
    championScore: number | null,
): VoteSummary {
    let regression: number | null = null;
    if (score !== null && championScore !== null) {
        regression = higherIsBetter ? championScore - score : score - championScore;
    }
    return { decision, score, regression };
}

/** One member's record on a proposal as the policy sees it: its decision, score and champion score. */
export interface Ballot {
    voter: string;
    decision: Decision;
    score: number | null;
    championScore: number | null;
}

/**
 * The tally of the electorate's records: approvals, rejections and abstentions counted and
 * summarised; `unavailable` reports only counted apart, since they count for nothing.
 */
export function tallyBallots(higherIsBetter: boolean, ballots: Ballot[]): Tally {
    const tally: Tally = { approve: 0, reject: 0, abstain: 0, unavailable: 0, votes: {} };
    let unavailable = 0;
    for (const ballot of ballots) {
        if (ballot.decision === 'unavailable') {
            unavailable += 1;
            continue;
        }
        tally[ballot.decision] += 1;
        tally.votes[ballot.voter] = summariseVote(higherIsBetter, ballot.decision, ballot.score, ballot.championScore);
    }
    return { ...tally, unavailable };
}

export interface DecisionInput {
    policy: Policy;
    metric: Metric;
    higherIsBetter: boolean;
    electorateSize: number;
    tally: Tally;
}

export interface Outcome {
    status: 'PENDING' | 'ACCEPTED' | 'REJECTED';
    reason: string;
}

export function decide(input: DecisionInput): Outcome {
    const { policy, metric, tally } = input;
    const voters = Object.keys(tally.votes).sort();
    for (const voter of voters) {
        const vote = tally.votes[voter];
        if (vote === undefined || vote.decision === 'abstain') {
            continue;
        }
        if (
            policy.maxRegression !== null &&
            vote.regression !== null &&
            vote.regression - policy.maxRegression > REGRESSION_TOLERANCE
        ) {
            return {
                status: 'REJECTED',
                reason: `veto: ${voter}'s ${metric} is ${vote.regression} worse than its champion score, over the task's maxRegression ${policy.maxRegression}`,
            };
        }
        if (
            vote.decision === 'approve' &&
            policy.minScore !== null &&
            vote.score !== null &&
            isWorse(input.higherIsBetter, vote.score, policy.minScore)
        ) {
            return {
                status: 'REJECTED',
                reason: `${voter} approved with ${metric} ${vote.score}, worse than the task's minScore ${policy.minScore}`,
            };
        }
    }
    const { approve, reject, abstain } = tally;
    const cast = approve + reject + abstain;
    const remaining = input.electorateSize - cast;
    if (cast >= policy.quorum && approve + reject > 0 && approve / (approve + reject) >= policy.approvalThreshold) {
        return {
            status: 'ACCEPTED',
            reason:
                `${approve} of ${approve + reject} approve or reject votes approve (threshold ${policy.approvalThreshold}), ` +
                `${cast} of ${input.electorateSize} members voted (quorum ${policy.quorum})`,
        };
    }
    const bestApprove = approve + remaining;
    if (bestApprove + reject === 0) {
        return { status: 'REJECTED', reason: `all ${cast} members abstained; nothing can approve the proposal` };
    }
    if (bestApprove / (bestApprove + reject) < policy.approvalThreshold) {
        return {
            status: 'REJECTED',
            reason: `at most ${bestApprove} of ${bestApprove + reject} votes can approve, below the threshold ${policy.approvalThreshold}`,
        };
    }
    return {
        status: 'PENDING',
        reason: `${cast} of ${input.electorateSize} members voted (quorum ${policy.quorum}); waiting for more votes`,
    };
}

function isWorse(higherIsBetter: boolean, score: number, bound: number): boolean {
    return higherIsBetter ? score < bound : score > bound;
}
