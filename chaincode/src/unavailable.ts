/**
 * `unavailable` reports: a member's record that it could not get the proposed model's bytes (the
 * object missing, its bytes not hashing to the proposal's SHA-256, or unreadable). The store's
 * fault, never the model's, so the report counts for nothing (policy.ts), may be replaced by the
 * member's real vote (votes.ts), and, when the votes decide nothing by the deadline, names the
 * members and faults in the expiry reason (decisions.ts) so that the proposer knows to put the
 * model in the store again and propose it again. Pure functions; testdata/policy-vectors.json
 * holds their cases.
 */
import { UNAVAILABLE_FAULTS, type UnavailableFault } from './records';

export const UNAVAILABLE_RULE = `must start with the fault, one of ${UNAVAILABLE_FAULTS.join(', ')}, alone or followed by ": " and details`;

/** The fault an `unavailable` report's reason starts with ("hash_mismatch: …"), or null when it names none. */
export function unavailableFault(reason: string): UnavailableFault | null {
    const word = reason.split(':', 1)[0] ?? '';
    const fault = UNAVAILABLE_FAULTS.find((known) => known === word);
    if (fault === undefined || (reason.length > word.length && !reason.startsWith(`${word}: `))) {
        return null;
    }
    return fault;
}

export interface UnavailableReport {
    voter: string;
    fault: UnavailableFault;
}

/**
 * The reason an expired proposal gets when members reported its bytes unavailable: the members in
 * MSP-id order and their faults in UNAVAILABLE_FAULTS order, e.g. "model bytes unavailable to
 * Org1MSP, Org2MSP (hash_mismatch); re-upload the model and propose it again".
 */
export function unavailableReason(reports: UnavailableReport[]): string {
    const voters = reports.map((report) => report.voter).sort();
    const faults = UNAVAILABLE_FAULTS.filter((fault) => reports.some((report) => report.fault === fault));
    return `model bytes unavailable to ${voters.join(', ')} (${faults.join(', ')}); re-upload the model and propose it again`;
}
