import { expect } from 'chai';
import { decide, parsePolicy, policyMisfit, summariseVote, type Outcome } from '../src/policy';
import type { Policy, Tally, VoteSummary } from '../src/records';

const POLICY: Policy = {
    quorum: 2,
    approvalThreshold: 0.6,
    minScore: 0.7,
    maxRegression: 0.05,
    votingPeriodSeconds: 3600,
    maxModelBytes: 1000,
    maxOpenProposalsPerOrg: 1,
};

function approve(score: number, regression: number | null = null): VoteSummary {
    return { decision: 'approve', score, regression };
}
function reject(score: number, regression: number | null = null): VoteSummary {
    return { decision: 'reject', score, regression };
}
function abstain(score: number | null = null, regression: number | null = null): VoteSummary {
    return { decision: 'abstain', score, regression };
}

function tally(votes: Record<string, VoteSummary>): Tally {
    const count = (decision: string): number => Object.values(votes).filter((vote) => vote.decision === decision).length;
    return { approve: count('approve'), reject: count('reject'), abstain: count('abstain'), votes };
}

interface Case {
    name: string;
    votes: Record<string, VoteSummary>;
    electorate?: number;
    policy?: Partial<Policy>;
    higherIsBetter?: boolean;
    expected: Outcome;
}

const CASES: Case[] = [
    {
        name: 'one approval below the quorum waits',
        votes: { A: approve(0.8) },
        expected: { status: 'PENDING', reason: '1 of 3 members voted (quorum 2); waiting for more votes' },
    },
    {
        name: 'quorum and share reached accepts without waiting for the last member',
        votes: { A: approve(0.8), B: approve(0.75) },
        expected: {
            status: 'ACCEPTED',
            reason: '2 of 2 approve or reject votes approve (threshold 0.6), 2 of 3 members voted (quorum 2)',
        },
    },
    {
        name: 'an abstention counts towards the quorum but not the share',
        votes: { A: approve(0.8), B: abstain() },
        expected: {
            status: 'ACCEPTED',
            reason: '1 of 1 approve or reject votes approve (threshold 0.6), 2 of 3 members voted (quorum 2)',
        },
    },
    {
        name: 'a split vote waits while the last member can still tip it',
        votes: { A: approve(0.8), B: reject(0.7) },
        expected: { status: 'PENDING', reason: '2 of 3 members voted (quorum 2); waiting for more votes' },
    },
    {
        name: 'a share of exactly the threshold accepts (3 of 5 at 0.6)',
        electorate: 5,
        votes: { A: approve(0.8), B: approve(0.8), C: approve(0.8), D: reject(0.6), E: reject(0.6) },
        expected: {
            status: 'ACCEPTED',
            reason: '3 of 5 approve or reject votes approve (threshold 0.6), 5 of 5 members voted (quorum 2)',
        },
    },
    {
        name: 'rejects as soon as the threshold is out of reach',
        votes: { A: reject(0.7), B: reject(0.7) },
        expected: { status: 'REJECTED', reason: 'at most 1 of 3 votes can approve, below the threshold 0.6' },
    },
    {
        name: 'rejects when everyone abstained',
        votes: { A: abstain(), B: abstain(), C: abstain() },
        expected: { status: 'REJECTED', reason: 'all 3 members abstained; nothing can approve the proposal' },
    },
    {
        name: 'a regression beyond maxRegression vetoes an approval',
        votes: { A: approve(0.8), B: approve(0.72, 0.08) },
        expected: {
            status: 'REJECTED',
            reason: "veto: B's roc_auc is 0.08 worse than its champion score, over the task's maxRegression 0.05",
        },
    },
    {
        name: 'a rejecting vote can veto too',
        votes: { B: reject(0.72, 0.06) },
        expected: {
            status: 'REJECTED',
            reason: "veto: B's roc_auc is 0.06 worse than its champion score, over the task's maxRegression 0.05",
        },
    },
    {
        name: 'a regression of exactly maxRegression (0.80 - 0.75) is no veto',
        votes: { A: approve(0.75, 0.8 - 0.75) },
        expected: { status: 'PENDING', reason: '1 of 3 members voted (quorum 2); waiting for more votes' },
    },
    {
        name: 'an abstention cannot veto',
        votes: { A: approve(0.8), B: abstain(0.5, 0.3) },
        expected: {
            status: 'ACCEPTED',
            reason: '1 of 1 approve or reject votes approve (threshold 0.6), 2 of 3 members voted (quorum 2)',
        },
    },
    {
        name: 'no veto without maxRegression',
        policy: { maxRegression: null },
        votes: { A: approve(0.8, 0.5) },
        expected: { status: 'PENDING', reason: '1 of 3 members voted (quorum 2); waiting for more votes' },
    },
    {
        name: 'an approval below minScore rejects',
        votes: { A: approve(0.69) },
        expected: { status: 'REJECTED', reason: "A approved with roc_auc 0.69, worse than the task's minScore 0.7" },
    },
    {
        name: 'a rejection below minScore does not',
        votes: { A: reject(0.5), B: approve(0.8) },
        expected: { status: 'PENDING', reason: '2 of 3 members voted (quorum 2); waiting for more votes' },
    },
    {
        name: 'no bound without minScore',
        policy: { minScore: null },
        votes: { A: approve(0.1), B: approve(0.1) },
        expected: {
            status: 'ACCEPTED',
            reason: '2 of 2 approve or reject votes approve (threshold 0.6), 2 of 3 members voted (quorum 2)',
        },
    },
    {
        name: 'lower is better: a score above minScore is worse',
        higherIsBetter: false,
        policy: { minScore: 0.4 },
        votes: { A: approve(0.45) },
        expected: { status: 'REJECTED', reason: "A approved with roc_auc 0.45, worse than the task's minScore 0.4" },
    },
    {
        name: 'lower is better: a score below minScore is fine',
        higherIsBetter: false,
        policy: { minScore: 0.4, quorum: 1 },
        votes: { A: approve(0.35) },
        expected: {
            status: 'ACCEPTED',
            reason: '1 of 1 approve or reject votes approve (threshold 0.6), 1 of 3 members voted (quorum 1)',
        },
    },
];

describe('decide', () => {
    for (const c of CASES) {
        it(c.name, () => {
            const outcome = decide({
                policy: { ...POLICY, ...c.policy },
                metric: 'roc_auc',
                higherIsBetter: c.higherIsBetter ?? true,
                electorateSize: c.electorate ?? 3,
                tally: tally(c.votes),
            });
            expect(outcome).to.deep.equal(c.expected);
        });
    }
});

describe('summariseVote', () => {
    const cases: [string, boolean, number | null, number | null, number | null][] = [
        ['higher is better: champion minus score', true, 0.7, 0.75, 0.75 - 0.7],
        ['lower is better: score minus champion', false, 0.5, 0.4, 0.5 - 0.4],
        ['an improvement is a negative regression', true, 0.8, 0.75, 0.75 - 0.8],
        ['no champion score, no regression', true, 0.8, null, null],
        ['no score, no regression', true, null, 0.8, null],
    ];
    for (const [name, higherIsBetter, score, championScore, regression] of cases) {
        it(name, () => {
            expect(summariseVote(higherIsBetter, 'approve', score, championScore)).to.deep.equal({
                decision: 'approve',
                score,
                regression,
            });
        });
    }
});

describe('parsePolicy', () => {
    it('reads a full policy and defaults minScore and maxRegression to null', () => {
        const { minScore: _min, maxRegression: _max, ...rest } = POLICY;
        expect(parsePolicy('task refused', 'policy', rest, 3)).to.deep.equal({ ...POLICY, minScore: null, maxRegression: null });
    });

    const refusals: [string, Partial<Record<keyof Policy, unknown>>, string][] = [
        ['a quorum above the member count', { quorum: 4 }, 'task refused: policy.quorum must be an integer from 1 to 3, got 4'],
        ['a fractional quorum', { quorum: 1.5 }, 'task refused: policy.quorum must be an integer from 1 to 3, got 1.5'],
        ['a zero threshold', { approvalThreshold: 0 }, 'task refused: policy.approvalThreshold must be a share greater than 0 and at most 1, got 0'],
        ['a threshold above 1', { approvalThreshold: 1.5 }, 'task refused: policy.approvalThreshold must be a share greater than 0 and at most 1, got 1.5'],
        ['a negative maxRegression', { maxRegression: -0.1 }, 'task refused: policy.maxRegression must be zero or more (or null for no veto), got -0.1'],
        ['a textual minScore', { minScore: 'high' }, 'task refused: policy.minScore must be a finite number, got "high"'],
        ['a zero voting period', { votingPeriodSeconds: 0 }, 'task refused: policy.votingPeriodSeconds must be an integer from 1 to 31536000, got 0'],
        ['a missing size limit', { maxModelBytes: undefined }, 'task refused: policy.maxModelBytes must be an integer from 1 to 1099511627776, got nothing'],
        ['too many open proposals', { maxOpenProposalsPerOrg: 101 }, 'task refused: policy.maxOpenProposalsPerOrg must be an integer from 1 to 100, got 101'],
    ];
    for (const [name, change, message] of refusals) {
        it(`refuses ${name}`, () => {
            expect(() => parsePolicy('task refused', 'policy', { ...POLICY, ...change }, 3))
                .to.throw()
                .with.property('message', message);
        });
    }

    it('refuses an unknown field', () => {
        expect(() => parsePolicy('task refused', 'policy', { ...POLICY, vetoes: 1 }, 3))
            .to.throw()
            .with.property(
                'message',
                'task refused: unknown field policy.vetoes (allowed: quorum, approvalThreshold, minScore, maxRegression, votingPeriodSeconds, maxModelBytes, maxOpenProposalsPerOrg)',
            );
    });
});

describe('policyMisfit', () => {
    it('accepts a quorum within the member count', () => {
        expect(policyMisfit(POLICY, 2)).to.equal(null);
    });

    it('explains a quorum above the member count', () => {
        expect(policyMisfit(POLICY, 1)).to.equal(
            'the quorum 2 would exceed the 1 members; lower the quorum first with an updatePolicy change',
        );
    });
});
