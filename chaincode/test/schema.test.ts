import { readFileSync } from 'fs';
import { join } from 'path';
import { expect } from 'chai';
import { canonicalSchema, parseSchema, schemaSha256 } from '../src/schema';

interface Vector {
    name: string;
    schema: unknown;
    canonical?: string;
    sha256?: string;
}

const vectors = JSON.parse(readFileSync(join(__dirname, '..', '..', 'testdata', 'schema-vectors.json'), 'utf8')) as {
    valid: Vector[];
    invalid: Vector[];
};

/** Why each shared invalid vector is refused, word for word. */
const INVALID_REASONS: Record<string, string> = {
    'no features': 'task refused: schema.features must be a list of 1 to 4096 features, got an array',
    'duplicate feature name': 'task refused: schema.features[1].name repeats "x"; feature names must be unique',
    'unknown feature type': 'task refused: schema.features[0].type must be one of float, int, category, got "string"',
    'category feature without categories':
        'task refused: schema.features[0].categories must be a list of 1 to 4096 unique strings, got an array',
    'duplicate category': 'task refused: schema.features[0].categories[1] repeats "a"; entries must be unique',
    'target is also a feature': 'task refused: schema.target.name "y" is also a feature; the target must not be an input',
    'classification target with one class': 'task refused: schema.target.classes must be a list of 2 to 4096 unique strings, got an array',
    'feature name not usable as an ONNX input name':
        'task refused: schema.features[0].name must be usable as an ONNX input name: a letter or "_", then up to 127 letters, digits, "_", "." or "-", got "bad name"',
    'int target (use float for regression or category for classes)': 'task refused: schema.target.type must be one of float, category, got "int"',
    'categories on a float feature': 'task refused: schema.features[0].categories is only allowed on category features, and "x" is float, got an array',
};

function parse(schema: unknown): ReturnType<typeof parseSchema> {
    return parseSchema('task refused', 'schema', schema);
}

describe('task schema hash (testdata/schema-vectors.json)', () => {
    it('has vectors to check', () => {
        expect(vectors.valid.length).to.be.greaterThan(0);
        expect(vectors.invalid.length).to.equal(Object.keys(INVALID_REASONS).length);
    });

    for (const vector of vectors.valid) {
        it(`encodes and hashes "${vector.name}" as given`, () => {
            const schema = parse(vector.schema);
            expect(canonicalSchema(schema)).to.equal(vector.canonical);
            expect(schemaSha256(schema)).to.equal(vector.sha256);
        });
    }

    for (const vector of vectors.invalid) {
        it(`refuses "${vector.name}"`, () => {
            expect(() => parse(vector.schema))
                .to.throw()
                .with.property('message', INVALID_REASONS[vector.name] ?? `no expected reason for ${vector.name}`);
        });
    }
});

describe('parseSchema refusals beyond the shared vectors', () => {
    const target = { name: 'y', type: 'float' };
    const cases: [string, unknown, string][] = [
        ['a schema that is not an object', [], 'task refused: schema must be a JSON object, got an array'],
        ['an unknown top-level field', { features: [], target, extra: 1 }, 'task refused: unknown field schema.extra (allowed: features, target)'],
        [
            'an unknown feature field',
            { features: [{ name: 'x', type: 'float', unit: 'm' }], target },
            'task refused: unknown field schema.features[0].unit (allowed: name, type, nullable, categories)',
        ],
        [
            'a nullable that is not a boolean',
            { features: [{ name: 'x', type: 'float', nullable: 'yes' }], target },
            'task refused: schema.features[0].nullable must be true or false, got "yes"',
        ],
        [
            'classes on a float target',
            { features: [{ name: 'x', type: 'float' }], target: { name: 'y', type: 'float', classes: ['a', 'b'] } },
            'task refused: schema.target.classes is only allowed on a category target, got an array',
        ],
        [
            'a category that is not a string',
            { features: [{ name: 'x', type: 'category', categories: [1] }], target },
            'task refused: schema.features[0].categories[0] must be a string of at most 256 characters, got 1',
        ],
        [
            'a missing target name',
            { features: [{ name: 'x', type: 'float' }], target: { type: 'float' } },
            'task refused: schema.target.name must be a non-empty string, got nothing',
        ],
    ];
    for (const [what, schema, message] of cases) {
        it(`refuses ${what}`, () => {
            expect(() => parse(schema)).to.throw().with.property('message', message);
        });
    }

    it('writes nullable out for every feature', () => {
        const schema = parse({ features: [{ name: 'x', type: 'int', nullable: true }], target });
        expect(schema.features).to.deep.equal([{ name: 'x', type: 'int', nullable: true }]);
    });
});
