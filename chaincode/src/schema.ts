/**
 * The task's data schema, its canonical encoding and its SHA-256 (docs/schema-hash.md).
 * The Python package computes the same bytes; testdata/schema-vectors.json keeps the two in step.
 */
import { createHash } from 'crypto';
import { canonicalJson } from './json';
import { Input, show } from './input';

export const FEATURE_TYPES = ['float', 'int', 'category'] as const;
export const TARGET_TYPES = ['float', 'category'] as const;
export type FeatureType = (typeof FEATURE_TYPES)[number];
export type TargetType = (typeof TARGET_TYPES)[number];

export interface Feature {
    name: string;
    type: FeatureType;
    nullable: boolean;
    categories?: string[];
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
const MAX_FEATURES = 4096;
const MAX_LABELS = 4096;
const MAX_LABEL_LENGTH = 256;

/** Parses and normalises a schema (defaults written out, unknown fields refused). */
export function parseSchema(refusal: string, path: string, value: unknown): DataSchema {
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
    const input = new Input(refusal, path, value, ['name', 'type', 'nullable', 'categories']);
    const name = input.string('name', 128, NAME_PATTERN, NAME_RULE);
    const type = input.oneOf('type', FEATURE_TYPES);
    const nullable = input.has('nullable') ? input.boolean('nullable') : false;
    if (type !== 'category') {
        if (input.raw('categories') !== undefined) {
            input.refuse('categories', `is only allowed on category features, and "${name}" is ${type}`);
        }
        return { name, type, nullable };
    }
    return { name, type, nullable, categories: labels(input, 'categories', 1) };
}

function parseTarget(refusal: string, path: string, value: unknown): Target {
    const input = new Input(refusal, path, value, ['name', 'type', 'classes']);
    const name = input.string('name', 128, NAME_PATTERN, NAME_RULE);
    const type = input.oneOf('type', TARGET_TYPES);
    if (type === 'float') {
        if (input.raw('classes') !== undefined) {
            input.refuse('classes', 'is only allowed on a category target');
        }
        return { name, type };
    }
    return { name, type, classes: labels(input, 'classes', 2) };
}

function labels(input: Input, key: string, minItems: number): string[] {
    const value = input.raw(key);
    if (!Array.isArray(value) || value.length < minItems || value.length > MAX_LABELS) {
        input.refuse(key, `must be a list of ${minItems} to ${MAX_LABELS} unique strings`);
    }
    const seen = new Set<string>();
    value.forEach((item: unknown, index: number) => {
        if (typeof item !== 'string' || item.length > MAX_LABEL_LENGTH) {
            input.fail(`${input.name(key)}[${index}] must be a string of at most ${MAX_LABEL_LENGTH} characters, got ${show(item)}`);
        }
        if (seen.has(item)) {
            input.fail(`${input.name(key)}[${index}] repeats ${show(item)}; entries must be unique`);
        }
        seen.add(item);
    });
    return value as string[];
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
