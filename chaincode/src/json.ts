/**
 * The one JSON writer of the chaincode. Every record, event payload and return value goes through
 * canonicalJson so that every endorsing peer produces the same bytes for the same transaction.
 *
 * Rules: object keys sorted by UTF-16 code unit (all keys written by this chaincode are ASCII, where
 * that equals Python's sort_keys), no whitespace, strings and numbers written as JSON.stringify
 * writes them (non-ASCII characters as UTF-8, not \u escapes), properties whose value is undefined
 * left out, non-finite numbers refused.
 */

import { refuse } from './refusals';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export function canonicalJson(value: unknown): string {
    if (value === null) {
        return 'null';
    }
    switch (typeof value) {
        case 'string':
        case 'boolean':
            return JSON.stringify(value);
        case 'number':
            if (!Number.isFinite(value)) {
                refuse('INTERNAL', 'canonical JSON refused', `${String(value)} is not a finite number`);
            }
            return JSON.stringify(value);
        case 'object':
            break;
        default:
            refuse('INTERNAL', 'canonical JSON refused', `a ${typeof value} is not a JSON value`);
    }
    if (Array.isArray(value)) {
        return `[${value.map((item: unknown) => canonicalJson(item)).join(',')}]`;
    }
    const record = value as Record<string, unknown>;
    const parts: string[] = [];
    for (const key of Object.keys(record).sort()) {
        const item = record[key];
        if (item !== undefined) {
            parts.push(`${JSON.stringify(key)}:${canonicalJson(item)}`);
        }
    }
    return `{${parts.join(',')}}`;
}

export function toBytes(value: unknown): Uint8Array {
    return Buffer.from(canonicalJson(value), 'utf8');
}

/** Parses a transaction argument that must hold JSON; `refusal` starts the error ("vote refused"). */
export function parseJsonArgument(refusal: string, text: string): unknown {
    try {
        return JSON.parse(text) as unknown;
    } catch (err) {
        refuse('INVALID_ARGUMENT', refusal, `the argument is not valid JSON (${(err as Error).message})`);
    }
}
