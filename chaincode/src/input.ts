/**
 * Parsing of untrusted transaction input into typed values. Every check fails with
 * `<refusal>: <field path> <rule>, got <value>` so that a caller sees what failed and why.
 */
import { refuse } from './refusals';

export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const ID_RULE = 'must be 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit';
export const MSP_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
export const MSP_RULE = 'must be an MSP ID: 1 to 128 letters, digits, ".", "_" or "-"';
export const SHA256_PATTERN = /^[0-9a-f]{64}$/;
export const SHA256_RULE = 'must be a SHA-256 digest: 64 lowercase hex characters';

/** A short, printable rendering of a refused value for error messages. */
export function show(value: unknown): string {
    let text: string;
    if (value === undefined) {
        text = 'nothing';
    } else if (typeof value === 'string') {
        text = JSON.stringify(value);
    } else if (typeof value === 'number' || typeof value === 'boolean' || value === null) {
        text = String(value);
    } else if (Array.isArray(value)) {
        text = 'an array';
    } else {
        text = 'an object';
    }
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
    return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads the fields of one JSON object of the input; `path` is its place in the input ("" at the top). */
export class Input {
    private readonly fields: Record<string, unknown>;

    constructor(
        private readonly refusal: string,
        private readonly path: string,
        value: unknown,
        allowed: readonly string[],
    ) {
        if (!isPlainObject(value)) {
            this.fail(`${path === '' ? 'the argument' : path} must be a JSON object, got ${show(value)}`);
        }
        const unknown = Object.keys(value).filter((key) => !allowed.includes(key)).sort();
        if (unknown.length > 0) {
            this.fail(`unknown field ${this.name(unknown[0] ?? '')} (allowed: ${allowed.join(', ')})`);
        }
        this.fields = value;
    }

    fail(rule: string): never {
        refuse('INVALID_ARGUMENT', this.refusal, rule);
    }

    name(key: string): string {
        return this.path === '' ? key : `${this.path}.${key}`;
    }

    has(key: string): boolean {
        return this.fields[key] !== undefined && this.fields[key] !== null;
    }

    raw(key: string): unknown {
        return this.fields[key];
    }

    refuse(key: string, rule: string): never {
        this.fail(`${this.name(key)} ${rule}, got ${show(this.fields[key])}`);
    }

    child(key: string, allowed: readonly string[]): Input {
        return new Input(this.refusal, this.name(key), this.fields[key], allowed);
    }

    string(key: string, maxLength: number, pattern?: RegExp, rule?: string): string {
        const value = this.fields[key];
        if (typeof value !== 'string' || value.length === 0) {
            this.refuse(key, 'must be a non-empty string');
        }
        if (value.length > maxLength) {
            this.fail(`${this.name(key)} is ${value.length} characters, over the limit of ${maxLength}`);
        }
        if (pattern !== undefined && !pattern.test(value)) {
            this.refuse(key, rule ?? `must match ${String(pattern)}`);
        }
        return value;
    }

    optionalString(key: string, maxLength: number, pattern?: RegExp, rule?: string): string | undefined {
        return this.has(key) ? this.string(key, maxLength, pattern, rule) : undefined;
    }

    /** A free text field: may be empty, limited in length, no control characters. */
    text(key: string, maxLength: number): string {
        const value = this.fields[key] ?? '';
        if (typeof value !== 'string') {
            this.refuse(key, 'must be a string');
        }
        if (value.length > maxLength) {
            this.fail(`${this.name(key)} is ${value.length} characters, over the limit of ${maxLength}`);
        }
        // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused here
        if (/[\u0000-\u001f\u007f]/.test(value)) {
            this.refuse(key, 'must not contain control characters');
        }
        return value;
    }

    /** An opaque string handed back by the ledger (a bookmark): any characters, limited in length. */
    opaque(key: string, maxLength: number): string {
        const value = this.fields[key] ?? '';
        if (typeof value !== 'string' || value.length > maxLength) {
            this.refuse(key, `must be a string of at most ${maxLength} characters, as returned by the previous page`);
        }
        return value;
    }

    integer(key: string, min: number, max: number): number {
        const value = this.fields[key];
        if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
            this.refuse(key, `must be an integer from ${min} to ${max}`);
        }
        return value;
    }

    number(key: string): number {
        const value = this.fields[key];
        if (typeof value !== 'number' || !Number.isFinite(value)) {
            this.refuse(key, 'must be a finite number');
        }
        return value;
    }

    optionalNumber(key: string): number | null {
        return this.has(key) ? this.number(key) : null;
    }

    boolean(key: string): boolean {
        const value = this.fields[key];
        if (typeof value !== 'boolean') {
            this.refuse(key, 'must be true or false');
        }
        return value;
    }

    oneOf<T extends string>(key: string, choices: readonly T[]): T {
        const value = this.fields[key];
        const found = choices.find((choice) => choice === value);
        if (found === undefined) {
            this.refuse(key, `must be one of ${choices.join(', ')}`);
        }
        return found;
    }

    /** A list of unique strings, each matching `pattern`. */
    stringList(key: string, minItems: number, maxItems: number, pattern: RegExp, rule: string): string[] {
        const value = this.fields[key];
        if (!Array.isArray(value) || value.length < minItems || value.length > maxItems) {
            this.refuse(key, `must be a list of ${minItems} to ${maxItems} strings`);
        }
        const seen = new Set<string>();
        value.forEach((item: unknown, index: number) => {
            const itemName = `${this.name(key)}[${index}]`;
            if (typeof item !== 'string' || !pattern.test(item)) {
                this.fail(`${itemName} ${rule}, got ${show(item)}`);
            }
            if (seen.has(item)) {
                this.fail(`${itemName} repeats ${show(item)}; entries must be unique`);
            }
            seen.add(item);
        });
        return value as string[];
    }

    /** A map of metric name to finite number. */
    metrics(key: string, maxEntries: number): Record<string, number> {
        const value = this.fields[key] ?? {};
        if (!isPlainObject(value)) {
            this.refuse(key, 'must be an object of metric name to number');
        }
        const names = Object.keys(value).sort();
        if (names.length > maxEntries) {
            this.fail(`${this.name(key)} has ${names.length} entries, over the limit of ${maxEntries}`);
        }
        const result: Record<string, number> = {};
        for (const metric of names) {
            const score = value[metric];
            if (!METRIC_NAME_PATTERN.test(metric)) {
                this.fail(`${this.name(key)} has the metric name ${show(metric)}; names ${METRIC_NAME_RULE}`);
            }
            if (typeof score !== 'number' || !Number.isFinite(score)) {
                this.fail(`${this.name(key)}.${metric} must be a finite number, got ${show(score)}`);
            }
            result[metric] = score;
        }
        return result;
    }
}

export const METRIC_NAME_PATTERN = /^[a-z][a-z0-9_]{0,31}$/;
export const METRIC_NAME_RULE = 'are 1 to 32 lowercase letters, digits or "_", starting with a letter';

/** Validates a single string argument (an id passed on its own, not inside JSON). */
export function checkArgument(refusal: string, what: string, value: string, pattern: RegExp, rule: string): string {
    if (!pattern.test(value)) {
        refuse('INVALID_ARGUMENT', refusal, `${what} ${rule}, got ${show(value)}`);
    }
    return value;
}
