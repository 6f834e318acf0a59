/**
 * The ledger records and their keys. Every record carries docType and schemaVersion so that a later
 * chaincode version can read what an earlier one wrote (see readRecord in ledger.ts).
 */
import type { DataSchema } from './schema';

/**
 * 2: votes are counted by Decide, not by the vote; a PENDING proposal's stored tally is its tally at
 * submission (GetProposal counts the votes), and a champion's stored scores are those at its
 * crowning (GetChampion adds the late votes). Version 1 records read the same way.
 * 3: a vote may be an `unavailable` report (the voter could not get the model's bytes), which
 * counts for nothing, and a tally counts those reports in `unavailable`. A tally of an earlier
 * version has no `unavailable` and reads as none (unavailableCount).
 */
export const SCHEMA_VERSION = 3;

export const METRICS = ['roc_auc', 'accuracy', 'f1', 'log_loss', 'rmse', 'mae', 'r2'] as const;
export type Metric = (typeof METRICS)[number];
export const HIGHER_IS_BETTER: Readonly<Record<Metric, boolean>> = {
    roc_auc: true,
    accuracy: true,
    f1: true,
    r2: true,
    log_loss: false,
    rmse: false,
    mae: false,
};

/** The values a metric can take; null: unbounded on that side (testdata/metrics.json). */
export interface MetricRange {
    min: number | null;
    max: number | null;
}
export const METRIC_RANGES: Readonly<Record<Metric, MetricRange>> = {
    roc_auc: { min: 0, max: 1 },
    accuracy: { min: 0, max: 1 },
    f1: { min: 0, max: 1 },
    log_loss: { min: 0, max: null },
    rmse: { min: 0, max: null },
    mae: { min: 0, max: null },
    r2: { min: null, max: 1 },
};

export interface Policy {
    /** Minimum number of member votes (approve, reject or abstain) before a decision. */
    quorum: number;
    /** Share of approving votes among approve + reject votes needed to accept, in (0, 1]. */
    approvalThreshold: number;
    /** Worst acceptable score on the task metric for an approving vote; null for no bound. */
    minScore: number | null;
    /** Largest allowed regression of one member's score against its champion score; null for no veto. */
    maxRegression: number | null;
    votingPeriodSeconds: number;
    maxModelBytes: number;
    maxOpenProposalsPerOrg: number;
}

export interface Task {
    docType: 'task';
    schemaVersion: number;
    id: string;
    description: string;
    schema: DataSchema;
    schemaSha256: string;
    metric: Metric;
    higherIsBetter: boolean;
    members: string[];
    policy: Policy;
    createdBy: string;
    createdAt: string;
    updatedAt: string;
    txId: string;
}

export const PROPOSAL_STATUSES = ['PENDING', 'ACCEPTED', 'REJECTED', 'EXPIRED', 'REVOKED'] as const;
export type ProposalStatus = (typeof PROPOSAL_STATUSES)[number];
export const DECISIONS = ['approve', 'reject', 'abstain', 'unavailable'] as const;
export type Decision = (typeof DECISIONS)[number];
/** The decisions the policy counts; an `unavailable` report counts for nothing (policy.ts). */
export type CountedDecision = Exclude<Decision, 'unavailable'>;
/**
 * Why a voter could not get the proposed model's bytes, the first word of an `unavailable`
 * report's reason: the store's fault, never the model's (testdata/policy-vectors.json).
 */
export const UNAVAILABLE_FAULTS = ['hash_mismatch', 'object_missing', 'unreadable'] as const;
export type UnavailableFault = (typeof UNAVAILABLE_FAULTS)[number];

/** What the policy needs to know about one vote. */
export interface VoteSummary {
    decision: CountedDecision;
    /** The vote's score on the task metric; null for an abstention without it. */
    score: number | null;
    /** How far the score fell behind the voter's champion score; null when the voter has none. */
    regression: number | null;
}

export interface Tally {
    approve: number;
    reject: number;
    abstain: number;
    /** Members whose latest record is an `unavailable` report; counted nowhere else. Absent before schema 3. */
    unavailable?: number;
    /** The counted votes (approve, reject, abstain) by voter. */
    votes: Record<string, VoteSummary>;
}

/** The `unavailable` reports in a tally, none for a tally written before schema 3. */
export function unavailableCount(tally: Tally): number {
    return tally.unavailable ?? 0;
}

export interface Proposal {
    docType: 'proposal';
    schemaVersion: number;
    id: string;
    taskId: string;
    modelSha256: string;
    uri: string;
    sizeBytes: number;
    format: 'onnx';
    proposer: string;
    metrics: Record<string, number>;
    parent: string | null;
    round: string | null;
    /** Members and policy at submission: the proposal is decided under the rules it was made under. */
    electorate: string[];
    policy: Policy;
    metric: Metric;
    higherIsBetter: boolean;
    status: ProposalStatus;
    statusReason: string;
    /** The counted votes; while PENDING, the stored record keeps the empty tally of its submission (GetProposal counts). */
    tally: Tally;
    createdAt: string;
    deadline: string;
    decidedAt: string | null;
    txId: string;
}

export interface Vote {
    docType: 'vote';
    schemaVersion: number;
    proposalId: string;
    taskId: string;
    voter: string;
    decision: Decision;
    metrics: Record<string, number>;
    score: number | null;
    holdoutRows: number;
    evaluatorVersion: string;
    reason: string;
    castAt: string;
    txId: string;
}

export interface Champion {
    docType: 'champion';
    schemaVersion: number;
    taskId: string;
    proposalId: string;
    modelSha256: string;
    uri: string;
    sizeBytes: number;
    format: 'onnx';
    /**
     * Each member's score on its own holdout, from its vote on this model: the base of the veto.
     * Stored as known at the crowning; late votes add theirs in their own vote records.
     */
    scores: Record<string, number>;
    /** Earlier champions' proposal ids, oldest first: RevokeChampion returns to the last one. */
    lineage: string[];
    since: string;
    txId: string;
}

export const CHANGE_TYPES = ['updatePolicy', 'addMember', 'removeMember', 'revokeChampion'] as const;
export type ChangeType = (typeof CHANGE_TYPES)[number];
export const CHANGE_STATUSES = ['PENDING', 'APPLIED', 'REJECTED', 'EXPIRED'] as const;
export type ChangeStatus = (typeof CHANGE_STATUSES)[number];

export interface Change {
    docType: 'change';
    schemaVersion: number;
    id: string;
    taskId: string;
    type: ChangeType;
    policy: Policy | null;
    member: string | null;
    reason: string;
    proposer: string;
    approvals: string[];
    rejections: string[];
    status: ChangeStatus;
    statusReason: string;
    createdAt: string;
    deadline: string;
    decidedAt: string | null;
    txId: string;
}

export interface Heartbeat {
    docType: 'heartbeat';
    schemaVersion: number;
    name: string;
    count: number;
    updatedAt: string;
}

/**
 * What one organisation's validator serves, announced by the validator itself on start: one
 * record per organisation (its own key, so announcements of different organisations never
 * collide), replaced by each announcement.
 */
export interface ValidatorAnnouncement {
    docType: 'validator';
    schemaVersion: number;
    organization: string;
    /** Each task served, with when this organisation's validator began serving it without a break. */
    tasks: Record<string, string>;
    evaluatorVersion: string;
    announcedAt: string;
    txId: string;
}

export type LedgerRecord = Task | Proposal | Vote | Champion | Change | Heartbeat | ValidatorAnnouncement;
export type DocType = LedgerRecord['docType'];

/** Composite key object types. Index keys end in "~" plus what they are sorted by. */
export const KEYS = {
    task: 'task',
    proposal: 'proposal',
    proposalByTask: 'proposal~task',
    proposalByStatus: 'proposal~status',
    vote: 'vote',
    champion: 'champion',
    change: 'change',
    changeByTask: 'change~task',
    heartbeat: 'heartbeat',
    validator: 'validator',
} as const;
