/**
 * Every error the chaincode throws is a Refusal with a stable code, so that a client branches on
 * the code and never on the English text. The message is `[CODE] <what> refused: <why>`: the code
 * first, in brackets, where a client finds it however the peer wraps the message ("chaincode
 * response 500, [CODE] …"), while a person still reads one sentence. testdata/refusal-codes.json
 * lists the codes with their meaning; both suites check that list against their own.
 */

export const REFUSAL_CODES = [
    'INVALID_ARGUMENT',
    'TASK_NOT_FOUND',
    'PROPOSAL_NOT_FOUND',
    'CHANGE_NOT_FOUND',
    'TASK_EXISTS',
    'NOT_A_MEMBER',
    'ALREADY_MEMBER',
    'SELF_REMOVAL',
    'NOT_IN_ELECTORATE',
    'POLICY_MISFIT',
    'MODEL_TOO_LARGE',
    'ALREADY_PROPOSED',
    'PARENT_NOT_CHAMPION',
    'TOO_MANY_OPEN_PROPOSALS',
    'NOT_PENDING',
    'VOTING_ENDED',
    'VOTING_NOT_ENDED',
    'ALREADY_VOTED',
    'UNDECIDED',
    'NO_CHAMPION',
    'LEDGER_ERROR',
    'INTERNAL',
] as const;
export type RefusalCode = (typeof REFUSAL_CODES)[number];

export class Refusal extends Error {
    constructor(
        readonly code: RefusalCode,
        text: string,
    ) {
        super(`[${code}] ${text}`);
        this.name = 'Refusal';
    }

    /**
     * The message alone: fabric-shim 2.2 (Fabric 2.2's runtime, AWS Managed Blockchain) answers a
     * failed transaction with the error's string form, where 2.5 uses its message; both then read
     * `[CODE] …`.
     */
    override toString(): string {
        return this.message;
    }
}

/** Throws `[code] <refusal>: <rule>`, e.g. `[ALREADY_VOTED] vote refused: Org2MSP already voted …`. */
export function refuse(code: RefusalCode, refusal: string, rule: string): never {
    throw new Refusal(code, `${refusal}: ${rule}`);
}
