/**
 * The task's data schema, its canonical encoding and its SHA-256 (docs/schema-hash.md).
 * The Python package computes the same bytes and refuses the same schemas with the same messages
 * (src/fedledger/schema/types.py); testdata/schema-vectors.json keeps the two in step.
 */
import { createHash } from 'crypto';
import { canonicalJson } from './json';
import { Input, isPlainObject, show } from './input';
import { refuse } from './refusals';

export const FEATURE_TYPES = ['float', 'int', 'bool', 'category'] as const;
export const TARGET_TYPES = ['float', 'category'] as const;
export type FeatureType = (typeof FEATURE_TYPES)[number];
export type TargetType = (typeof TARGET_TYPES)[number];
/** Value formats a category feature may declare; the members' data must use its spelling. */
export const FEATURE_FORMATS = ['iso3166-alpha2'] as const;
export type FeatureFormat = (typeof FEATURE_FORMATS)[number];
const ALPHA2_PATTERN = /^[A-Z]{2}$/;

export interface Feature {
    name: string;
    type: FeatureType;
    nullable: boolean;
    categories?: string[];
    /** Absent unless declared, so schemas without it keep their canonical bytes and hash. */
    format?: FeatureFormat;
}

export interface Target {
    name: string;
    type: TargetType;
    classes?: string[];
}

export interface DataSchema {
    features: Feature[];
    target: Target;
}

const NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/;
const NAME_RULE = 'must be usable as an ONNX input name: a letter or "_", then up to 127 letters, digits, "_", "." or "-"';
export const MAX_NAME_LENGTH = 128;
export const MAX_FEATURES = 4096;
export const MAX_LABELS = 4096;
export const MAX_LABEL_LENGTH = 256;

const TEXT_FEATURE = 'use category and list the values in categories';
/** What to write instead of a feature type that is not one (looked up in lower case). */
const FEATURE_TYPE_HINTS: Readonly<Record<string, string>> = {
    float: 'use float',
    int: 'use int',
    bool: 'use bool',
    category: 'use category',
    double: 'use float',
    number: 'use float',
    numeric: 'use float',
    integer: 'use int',
    boolean: 'use bool',
    string: TEXT_FEATURE,
    str: TEXT_FEATURE,
    text: TEXT_FEATURE,
    categorical: 'use category',
};

const YES_NO_TARGET = 'a yes/no target is a category target with two classes, e.g. classes: ["false", "true"]';
const INT_TARGET = 'use float for a numeric target, or category with the labels quoted as classes, e.g. classes: ["0", "1"]';
const TEXT_TARGET = 'use category and list the labels in classes';
/** What to write instead of a target type that is not one; bool is a feature type only. */
const TARGET_TYPE_HINTS: Readonly<Record<string, string>> = {
    float: 'use float',
    category: 'use category',
    double: 'use float',
    number: 'use float',
    numeric: 'use float',
    categorical: 'use category',
    bool: YES_NO_TARGET,
    boolean: YES_NO_TARGET,
    int: INT_TARGET,
    integer: INT_TARGET,
    string: TEXT_TARGET,
    str: TEXT_TARGET,
    text: TEXT_TARGET,
};

/** Parses and normalises a schema (defaults written out, unknown fields refused). */
export function parseSchema(refusal: string, path: string, value: unknown): DataSchema {
    if (!isPlainObject(value)) {
        refuse('INVALID_ARGUMENT', refusal, `${path} must be an object with features and target, got ${show(value)}`);
    }
    const input: Input = new Input(refusal, path, value, ['features', 'target']);
    const rawFeatures = input.raw('features');
    if (!Array.isArray(rawFeatures) || rawFeatures.length === 0 || rawFeatures.length > MAX_FEATURES) {
        input.refuse('features', `must be a list of 1 to ${MAX_FEATURES} features`);
    }
    const features = rawFeatures.map((item: unknown, index: number) =>
        parseFeature(refusal, `${input.name('features')}[${index}]`, item),
    );
    const seen = new Set<string>();
    features.forEach((feature, index) => {
        if (seen.has(feature.name)) {
            input.fail(`${input.name('features')}[${index}].name repeats "${feature.name}"; feature names must be unique`);
        }
        seen.add(feature.name);
    });
    const target = parseTarget(refusal, input.name('target'), input.raw('target'));
    if (seen.has(target.name)) {
        input.fail(`${input.name('target')}.name "${target.name}" is also a feature; the target must not be an input`);
    }
    return { features, target };
}

function parseFeature(refusal: string, path: string, value: unknown): Feature {
    if (!isPlainObject(value)) {
        refuse('INVALID_ARGUMENT', refusal, `${path} must be an object with name and type, got ${show(value)}`);
    }
    const input = new Input(refusal, path, value, ['name', 'type', 'nullable', 'categories', 'format']);
    const name = input.string('name', MAX_NAME_LENGTH, NAME_PATTERN, NAME_RULE);
    const type = oneType(input, FEATURE_TYPES, `must be one of ${FEATURE_TYPES.join(', ')}`, FEATURE_TYPE_HINTS);
    const nullable = input.has('nullable') ? input.boolean('nullable') : false;
    if (type !== 'category') {
        if (input.raw('categories') !== undefined) {
            input.fail(
                `${input.name('categories')} is only allowed on category features, and "${name}" is ${type}; ` +
                    'remove it or declare the feature as type: category',
            );
        }
        if (input.raw('format') !== undefined) {
            input.fail(
                `${input.name('format')} is only allowed on category features, and "${name}" is ${type}; ` +
                    'remove it or declare the feature as type: category',
            );
        }
        return { name, type, nullable };
    }
    const categories = labels(input, 'categories', 1);
    if (input.raw('format') === undefined) {
        return { name, type, nullable, categories };
    }
    const format = oneFormat(input);
    categories.forEach((category, index) => {
        if (!ALPHA2_PATTERN.test(category)) {
            input.fail(
                `${input.name('categories')}[${index}] must be an ISO 3166 alpha-2 code (two capital letters, e.g. "BR") ` +
                    `as the feature's format is ${format}, got ${show(category)}`,
            );
        }
    });
    return { name, type, nullable, categories, format };
}

function oneFormat(input: Input): FeatureFormat {
    const value = input.raw('format');
    const found = FEATURE_FORMATS.find((choice) => choice === value);
    if (found === undefined) {
        return input.fail(`${input.name('format')} must be one of ${FEATURE_FORMATS.join(', ')} (or left out), got ${show(value)}`);
    }
    return found;
}

function parseTarget(refusal: string, path: string, value: unknown): Target {
    if (value === undefined) {
        refuse('INVALID_ARGUMENT', refusal, `${path} is required: an object with name and type (and classes for a category target)`);
    }
    if (!isPlainObject(value)) {
        refuse('INVALID_ARGUMENT', refusal, `${path} must be an object with name and type, got ${show(value)}`);
    }
    const input = new Input(refusal, path, value, ['name', 'type', 'classes']);
    const name = input.string('name', MAX_NAME_LENGTH, NAME_PATTERN, NAME_RULE);
    const type = oneType(input, TARGET_TYPES, 'must be float (regression) or category (classification, with classes)', TARGET_TYPE_HINTS);
    if (type === 'float') {
        if (input.raw('classes') !== undefined) {
            input.fail(`${input.name('classes')} is only allowed on a category target; remove it or declare the target as type: category`);
        }
        return { name, type };
    }
    return { name, type, classes: labels(input, 'classes', 2) };
}

/** The `type` field, one of `choices`; a refusal says what to write instead when it can tell. */
function oneType<T extends string>(input: Input, choices: readonly T[], rule: string, hints: Readonly<Record<string, string>>): T {
    const value = input.raw('type');
    const found = choices.find((choice) => choice === value);
    if (found !== undefined) {
        return found;
    }
    const hint = typeof value === 'string' && Object.prototype.hasOwnProperty.call(hints, value.toLowerCase()) ? hints[value.toLowerCase()] : undefined;
    return input.fail(`${input.name('type')} ${rule}, got ${show(value)}${hint === undefined ? '' : `; ${hint}`}`);
}

const LABEL_WORDS: Readonly<Record<'categories' | 'classes', readonly [string, string, string, string]>> = {
    // key: [one, many, what the entries are, how to list them when missing]
    categories: ['category', 'categories', 'categories are strings', 'required for a category feature: list its values (strings, in encoding order)'],
    classes: ['class', 'classes', 'class labels are strings', 'required for a category target: list the class labels (strings, the positive class last)'],
};

function labels(input: Input, key: 'categories' | 'classes', minItems: number): string[] {
    const [one, many, nature, required] = LABEL_WORDS[key];
    const where = input.name(key);
    const value = input.raw(key);
    if (value === undefined) {
        input.fail(`${where} is ${required}`);
    }
    if (!Array.isArray(value)) {
        input.refuse(key, 'must be a list of strings');
    }
    if (value.length < minItems) {
        input.fail(`${where} must list at least ${minItems} ${minItems === 1 ? one : many}, got ${value.length}`);
    }
    if (value.length > MAX_LABELS) {
        input.fail(`${where} has ${value.length} entries, over the limit of ${MAX_LABELS}`);
    }
    const seen = new Set<string>();
    value.forEach((item: unknown, index: number) => {
        if (typeof item !== 'string') {
            const suggestion = quotedList(value);
            const fix = suggestion === null ? '' : `, so quote them: ${key}: ${suggestion}`;
            input.fail(`${where}[${index}] must be a string, got ${show(item)}; ${nature}${fix}`);
        }
        if (item.length > MAX_LABEL_LENGTH) {
            input.fail(`${where}[${index}] is ${item.length} characters, over the limit of ${MAX_LABEL_LENGTH}`);
        }
        if (seen.has(item)) {
            input.fail(`${where}[${index}] repeats ${show(item)}; entries must be unique`);
        }
        seen.add(item);
    });
    return value as string[];
}

/** `["0", "1"]` for [0, 1]: the list with each scalar written as a string; null when it cannot be. */
function quotedList(values: unknown[], limit = 5): string | null {
    const items: string[] = [];
    for (const value of values) {
        if (typeof value === 'string') {
            items.push(value);
        } else if (typeof value === 'number' || typeof value === 'boolean') {
            items.push(String(value));
        } else {
            return null;
        }
    }
    const shown = items.slice(0, limit).map((item) => JSON.stringify(item));
    if (items.length > limit) {
        shown.push('...');
    }
    return `[${shown.join(', ')}]`;
}

export function canonicalSchema(schema: DataSchema): string {
    return canonicalJson({
        features: schema.features.map((feature) => ({ ...feature })),
        target: { ...schema.target },
    });
}

export function schemaSha256(schema: DataSchema): string {
    return createHash('sha256').update(canonicalSchema(schema), 'utf8').digest('hex');
}
