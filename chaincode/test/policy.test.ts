import { expect } from 'chai';
import { readFileSync } from 'fs';
import { join } from 'path';
import { decide, describeRange, parsePolicy, policyMisfit, REGRESSION_TOLERANCE, summariseVote, tallyBallots, type Outcome } from '../src/policy';
import { HIGHER_IS_BETTER, UNAVAILABLE_FAULTS, type Decision, type Metric, type Policy, type Tally, type UnavailableFault } from '../src/records';
import { unavailableFault, unavailableReason } from '../src/unavailable';

/** testdata/policy-vectors.json, shared with the validator's tests (tests/unit/test_policy_vectors.py). */
interface VectorVote {
    decision: Decision;
    score: number | null;
    championScore: number | null;
}
interface Ballot {
    name: string;
    metric: Metric;
    policy: Partial<Policy>;
    score: number;
    championScore: number | null;
    expected: { decision: Decision; broken: ('minScore' | 'maxRegression')[] };
}
interface TallyCase {
    name: string;
    policy: Partial<Policy>;
    electorate: number;
    metric: Metric;
    votes: Record<string, VectorVote>;
    expected: Outcome;
}
interface BoundCase {
    name: string;
    metric: Metric;
    policy: Partial<Policy>;
    error: string | null;
}
interface UnavailableVectors {
    faults: string[];
    reasons: { reason: string; fault: string | null }[];
    expiries: { name: string; reports: Record<string, UnavailableFault>; reason: string }[];
}
const vectors = JSON.parse(readFileSync(join(__dirname, '..', '..', 'testdata', 'policy-vectors.json'), 'utf8')) as {
    regressionTolerance: number;
    policy: Policy;
    ballots: Ballot[];
    tallies: TallyCase[];
    bounds: BoundCase[];
    unavailable: UnavailableVectors;
};
const POLICY = vectors.policy;

function tally(metric: Metric, votes: Record<string, VectorVote>): Tally {
    const ballots = Object.entries(votes).map(([voter, vote]) => ({ voter, ...vote }));
    return tallyBallots(HIGHER_IS_BETTER[metric], ballots);
}

function decideCase(metric: Metric, policy: Partial<Policy>, electorateSize: number, votes: Record<string, VectorVote>): Outcome {
    return decide({
        policy: { ...POLICY, ...policy },
        metric,
        higherIsBetter: HIGHER_IS_BETTER[metric],
        electorateSize,
        tally: tally(metric, votes),
    });
}

/** The chaincode's reason for a lone approving vote, by the first rule it breaks (the veto first). */
function reasonFor(broken: string[]): RegExp {
    if (broken.includes('maxRegression')) {
        return /^veto: V's \w+ is [0-9.e-]+ worse than its champion score, over the task's maxRegression /;
    }
    if (broken.includes('minScore')) {
        return /^V approved with \w+ [0-9.e-]+, worse than the task's minScore /;
    }
    return /^1 of 1 approve or reject votes approve /;
}

describe('policy vectors (testdata/policy-vectors.json)', () => {
    it('use the chaincode regression tolerance', () => {
        expect(vectors.regressionTolerance).to.equal(REGRESSION_TOLERANCE);
    });

    for (const c of vectors.tallies) {
        it(`decides: ${c.name}`, () => {
            expect(decideCase(c.metric, c.policy, c.electorate, c.votes)).to.deep.equal(c.expected);
        });
    }

    // One approving vote from a one-member electorate: accepted unless the score breaks a rule,
    // and then rejected by the first rule it breaks (the veto before the minimum).
    for (const b of vectors.ballots) {
        it(`judges a ballot as the validator does: ${b.name}`, () => {
            const outcome = decideCase(b.metric, { ...b.policy, quorum: 1 }, 1, {
                V: { decision: 'approve', score: b.score, championScore: b.championScore },
            });
            expect(outcome.status).to.equal(b.expected.broken.length > 0 ? 'REJECTED' : 'ACCEPTED');
            expect(outcome.reason).to.match(reasonFor(b.expected.broken));
        });
    }
});

describe('unavailable reports (testdata/policy-vectors.json unavailable)', () => {
    it('know the shared faults in their order', () => {
        expect([...UNAVAILABLE_FAULTS]).to.deep.equal(vectors.unavailable.faults);
    });

    for (const c of vectors.unavailable.reasons) {
        it(`read the fault of ${JSON.stringify(c.reason)} as ${String(c.fault)}`, () => {
            expect(unavailableFault(c.reason)).to.equal(c.fault);
        });
    }

    for (const c of vectors.unavailable.expiries) {
        it(`give the expiry reason: ${c.name}`, () => {
            const reports = Object.entries(c.reports).map(([voter, fault]) => ({ voter, fault }));
            expect(unavailableReason(reports)).to.equal(c.reason);
        });
    }

    it('are counted apart from the votes', () => {
        const counted = tally('roc_auc', {
            A: { decision: 'unavailable', score: null, championScore: 0.9 },
            B: { decision: 'approve', score: 0.8, championScore: null },
        });
        expect(counted).to.deep.equal({
            approve: 1,
            reject: 0,
            abstain: 0,
            unavailable: 1,
            votes: { B: { decision: 'approve', score: 0.8, regression: null } },
        });
    });
});

describe('policy bounds within the metric range (testdata/policy-vectors.json bounds)', () => {
    for (const c of vectors.bounds) {
        it(c.error === null ? `accepts ${c.name}` : `refuses ${c.name}`, () => {
            const parse = (): Policy => parsePolicy('task refused', 'policy', { ...POLICY, ...c.policy }, 3, c.metric);
            if (c.error === null) {
                expect(parse()).to.deep.equal({ ...POLICY, ...c.policy });
            } else {
                expect(parse).to.throw().with.property('message', `[INVALID_ARGUMENT] task refused: ${c.error}`);
            }
        });
    }

    it('describes each kind of range', () => {
        expect(describeRange({ min: 0, max: 1 })).to.equal('from 0 to 1');
        expect(describeRange({ min: 0, max: null })).to.equal('0 or more');
        expect(describeRange({ min: null, max: 1 })).to.equal('at most 1');
        expect(describeRange({ min: null, max: null })).to.equal('any number');
    });
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
        expect(parsePolicy('task refused', 'policy', rest, 3, 'roc_auc')).to.deep.equal({ ...POLICY, minScore: null, maxRegression: null });
    });

    const refusals: [string, Partial<Record<keyof Policy, unknown>>, string][] = [
        ['a quorum above the member count', { quorum: 4 }, '[INVALID_ARGUMENT] task refused: policy.quorum must be an integer from 1 to 3, got 4'],
        ['a fractional quorum', { quorum: 1.5 }, '[INVALID_ARGUMENT] task refused: policy.quorum must be an integer from 1 to 3, got 1.5'],
        ['a zero threshold', { approvalThreshold: 0 }, '[INVALID_ARGUMENT] task refused: policy.approvalThreshold must be a share greater than 0 and at most 1, got 0'],
        ['a threshold above 1', { approvalThreshold: 1.5 }, '[INVALID_ARGUMENT] task refused: policy.approvalThreshold must be a share greater than 0 and at most 1, got 1.5'],
        ['a negative maxRegression', { maxRegression: -0.1 }, '[INVALID_ARGUMENT] task refused: policy.maxRegression must be zero or more (or null for no veto), got -0.1'],
        ['a textual minScore', { minScore: 'high' }, '[INVALID_ARGUMENT] task refused: policy.minScore must be a finite number, got "high"'],
        ['a zero voting period', { votingPeriodSeconds: 0 }, '[INVALID_ARGUMENT] task refused: policy.votingPeriodSeconds must be an integer from 1 to 31536000, got 0'],
        ['a missing size limit', { maxModelBytes: undefined }, '[INVALID_ARGUMENT] task refused: policy.maxModelBytes must be an integer from 1 to 1099511627776, got nothing'],
        ['too many open proposals', { maxOpenProposalsPerOrg: 101 }, '[INVALID_ARGUMENT] task refused: policy.maxOpenProposalsPerOrg must be an integer from 1 to 100, got 101'],
    ];
    for (const [name, change, message] of refusals) {
        it(`refuses ${name}`, () => {
            expect(() => parsePolicy('task refused', 'policy', { ...POLICY, ...change }, 3, 'roc_auc'))
                .to.throw()
                .with.property('message', message);
        });
    }

    it('refuses an unknown field', () => {
        expect(() => parsePolicy('task refused', 'policy', { ...POLICY, vetoes: 1 }, 3, 'roc_auc'))
            .to.throw()
            .with.property(
                'message',
                '[INVALID_ARGUMENT] task refused: unknown field policy.vetoes (allowed: quorum, approvalThreshold, minScore, maxRegression, votingPeriodSeconds, maxModelBytes, maxOpenProposalsPerOrg)',
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
