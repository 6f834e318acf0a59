import { readFileSync } from 'fs';
import { join } from 'path';
import { expect } from 'chai';
import { parsePolicy, MAX_MODEL_BYTES, MAX_OPEN_PROPOSALS, MAX_VOTING_PERIOD_SECONDS } from '../src/policy';
import { HIGHER_IS_BETTER, METRIC_RANGES, METRICS, type MetricRange } from '../src/records';
import { canonicalSchema, parseSchema, schemaSha256, MAX_FEATURES, MAX_LABELS, MAX_LABEL_LENGTH, MAX_NAME_LENGTH } from '../src/schema';
import { MAX_DESCRIPTION, MAX_MEMBERS } from '../src/tasks';
import { ORG1, World, expectRefusal, json } from './fixtures';

interface Vector {
    name: string;
    schema: unknown;
    canonical?: string;
    sha256?: string;
    /** Why an invalid schema is refused, word for word (the Python package gives the same words). */
    error?: string;
}

const vectors = JSON.parse(readFileSync(join(__dirname, '..', '..', 'testdata', 'schema-vectors.json'), 'utf8')) as {
    valid: Vector[];
    invalid: Vector[];
};

function parse(schema: unknown): ReturnType<typeof parseSchema> {
    return parseSchema('task refused', 'schema', schema);
}

describe('task schema hash (testdata/schema-vectors.json)', () => {
    it('has vectors to check', () => {
        expect(vectors.valid.length).to.be.greaterThan(0);
        expect(vectors.invalid.length).to.be.greaterThan(0);
        expect(vectors.valid.some((vector) => JSON.stringify(vector.schema).includes('"type":"bool"'))).to.equal(true);
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
                .with.property('message', `[INVALID_ARGUMENT] task refused: ${vector.error ?? `no expected reason for ${vector.name}`}`);
        });
    }
});

describe('parseSchema refusals beyond the shared vectors', () => {
    const target = { name: 'y', type: 'float' };
    const x = { name: 'x', type: 'float' };
    const cases: [string, unknown, string][] = [
        ['a schema that is not an object', [], '[INVALID_ARGUMENT] task refused: schema must be an object with features and target, got an array'],
        ['an unknown top-level field', { features: [], target, extra: 1 }, '[INVALID_ARGUMENT] task refused: unknown field schema.extra (allowed: features, target)'],
        ['features that are not a list', { features: 'x', target }, '[INVALID_ARGUMENT] task refused: schema.features must be a list of 1 to 4096 features, got "x"'],
        [
            'more features than the limit',
            { features: Array.from({ length: 4097 }, (_, i) => ({ name: `x${i}`, type: 'float' })), target },
            '[INVALID_ARGUMENT] task refused: schema.features must be a list of 1 to 4096 features, got an array',
        ],
        [
            'a feature type in capitals',
            { features: [{ name: 'x', type: 'Float' }], target },
            '[INVALID_ARGUMENT] task refused: schema.features[0].type must be one of float, int, bool, category, got "Float"; use float',
        ],
        [
            'a feature type without a hint',
            { features: [{ name: 'x', type: 'date' }], target },
            '[INVALID_ARGUMENT] task refused: schema.features[0].type must be one of float, int, bool, category, got "date"',
        ],
        ['a missing feature type', { features: [{ name: 'x' }], target }, '[INVALID_ARGUMENT] task refused: schema.features[0].type must be one of float, int, bool, category, got nothing'],
        [
            'a target type without a hint',
            { features: [x], target: { name: 'y', type: 7 } },
            '[INVALID_ARGUMENT] task refused: schema.target.type must be float (regression) or category (classification, with classes), got 7',
        ],
        ['a target that is not an object', { features: [x], target: 'y' }, '[INVALID_ARGUMENT] task refused: schema.target must be an object with name and type, got "y"'],
        [
            'categories that are not a list',
            { features: [{ name: 'x', type: 'category', categories: 'a, b' }], target },
            '[INVALID_ARGUMENT] task refused: schema.features[0].categories must be a list of strings, got "a, b"',
        ],
        [
            'categories as null',
            { features: [{ name: 'x', type: 'category', categories: null }], target },
            '[INVALID_ARGUMENT] task refused: schema.features[0].categories must be a list of strings, got null',
        ],
        [
            'more categories than the limit',
            { features: [{ name: 'x', type: 'category', categories: Array.from({ length: 4097 }, (_, i) => `c${i}`) }], target },
            '[INVALID_ARGUMENT] task refused: schema.features[0].categories has 4097 entries, over the limit of 4096',
        ],
        [
            'a category over the length limit',
            { features: [{ name: 'x', type: 'category', categories: ['a', 'b'.repeat(257)] }], target },
            '[INVALID_ARGUMENT] task refused: schema.features[0].categories[1] is 257 characters, over the limit of 256',
        ],
        [
            'a category that cannot be written as a string',
            { features: [{ name: 'x', type: 'category', categories: ['a', { b: 1 }] }], target },
            '[INVALID_ARGUMENT] task refused: schema.features[0].categories[1] must be a string, got an object; categories are strings',
        ],
        [
            'many class labels written as numbers',
            { features: [x], target: { name: 'y', type: 'category', classes: [0, 1, 2, 3, 4, 5, true] } },
            '[INVALID_ARGUMENT] task refused: schema.target.classes[0] must be a string, got 0; class labels are strings, so quote them: classes: ["0", "1", "2", "3", "4", ...]',
        ],
        [
            'a yes/no class list read as booleans',
            { features: [x], target: { name: 'y', type: 'category', classes: [false, true] } },
            '[INVALID_ARGUMENT] task refused: schema.target.classes[0] must be a string, got false; class labels are strings, so quote them: classes: ["false", "true"]',
        ],
        ['a missing target name', { features: [x], target: { type: 'float' } }, '[INVALID_ARGUMENT] task refused: schema.target.name must be a non-empty string, got nothing'],
        [
            'a feature name over the length limit',
            { features: [{ name: 'x'.repeat(129), type: 'float' }], target },
            '[INVALID_ARGUMENT] task refused: schema.features[0].name is 129 characters, over the limit of 128',
        ],
    ];
    for (const [what, schema, message] of cases) {
        it(`refuses ${what}`, () => {
            expect(() => parse(schema)).to.throw().with.property('message', message);
        });
    }

    it('writes nullable out for every feature', () => {
        const schema = parse({ features: [{ name: 'x', type: 'int', nullable: true }, { name: 'b', type: 'bool' }], target });
        expect(schema.features).to.deep.equal([
            { name: 'x', type: 'int', nullable: true },
            { name: 'b', type: 'bool', nullable: false },
        ]);
    });

    it('treats a null nullable as the default', () => {
        const schema = parse({ features: [{ name: 'b', type: 'bool', nullable: null }], target });
        expect(schema.features).to.deep.equal([{ name: 'b', type: 'bool', nullable: false }]);
    });
});

/**
 * testdata/task-vectors.json: what `fedledger task validate` (src/fedledger/schema/task_file.py)
 * must know of the chaincode (limits, policy defaults) and the refusals it must predict; the
 * metrics are in testdata/metrics.json.
 * tests/unit/test_task_file.py reads the same file.
 */
interface TaskVector {
    name: string;
    set: Record<string, unknown>;
    error?: string;
}

const taskVectors = JSON.parse(readFileSync(join(__dirname, '..', '..', 'testdata', 'task-vectors.json'), 'utf8')) as {
    limits: Record<string, number>;
    policyDefaults: Record<string, unknown>;
    base: Record<string, unknown>;
    valid: TaskVector[];
    invalid: TaskVector[];
};

const sharedMetrics = JSON.parse(readFileSync(join(__dirname, '..', '..', 'testdata', 'metrics.json'), 'utf8')) as {
    taskMetrics: { name: string; higherIsBetter: boolean; range: MetricRange }[];
    reportedOnly: { name: string; higherIsBetter: boolean }[];
};

/** The base task with each dotted path of `set` given its value. */
function taskFrom(set: Record<string, unknown>): Record<string, unknown> {
    const task = JSON.parse(JSON.stringify(taskVectors.base)) as Record<string, unknown>;
    for (const [path, value] of Object.entries(set)) {
        const keys = path.split('.');
        const last = keys.pop() ?? '';
        let node = task;
        for (const key of keys) {
            node = node[key] as Record<string, unknown>;
        }
        node[last] = value;
    }
    return task;
}

describe('task input vectors shared with the Python task-file check (testdata/task-vectors.json)', () => {
    it('lists the chaincode metrics and their direction, in order (testdata/metrics.json)', () => {
        expect(sharedMetrics.taskMetrics.map((metric) => metric.name)).to.deep.equal([...METRICS]);
        for (const metric of sharedMetrics.taskMetrics) {
            expect(HIGHER_IS_BETTER[metric.name as (typeof METRICS)[number]], metric.name).to.equal(metric.higherIsBetter);
        }
    });

    it('gives each metric the range of testdata/metrics.json', () => {
        expect(Object.fromEntries(sharedMetrics.taskMetrics.map((metric) => [metric.name, metric.range]))).to.deep.equal(METRIC_RANGES);
    });

    it('refuses a reported-only metric (brier) as a task metric', async () => {
        for (const metric of sharedMetrics.reportedOnly) {
            const world = new World();
            await expectRefusal(
                world.ledger.invoke(ORG1, (ctx) => world.registry.CreateTask(ctx, json(taskFrom({ metric: metric.name })))),
                `[INVALID_ARGUMENT] task refused: metric must be one of ${METRICS.join(', ')}, got "${metric.name}"`,
            );
        }
    });

    it('states the chaincode limits', () => {
        expect(taskVectors.limits).to.deep.equal({
            idLength: 64,
            descriptionLength: MAX_DESCRIPTION,
            members: MAX_MEMBERS,
            votingPeriodSeconds: MAX_VOTING_PERIOD_SECONDS,
            maxModelBytes: MAX_MODEL_BYTES,
            maxOpenProposalsPerOrg: MAX_OPEN_PROPOSALS,
            features: MAX_FEATURES,
            labels: MAX_LABELS,
            labelLength: MAX_LABEL_LENGTH,
            nameLength: MAX_NAME_LENGTH,
        });
    });

    it('agrees with the policy defaults: minScore and maxRegression default to null, the rest is accepted', () => {
        const defaults = taskVectors.policyDefaults;
        const { minScore: _minScore, maxRegression: _maxRegression, ...required } = defaults;
        const policy = parsePolicy('task refused', 'policy', { ...required, quorum: 3 }, 3, 'roc_auc');
        expect(policy).to.deep.equal({ ...defaults, quorum: 3 });
    });

    for (const vector of taskVectors.valid) {
        it(`accepts ${vector.name}`, async () => {
            const world = new World();
            const task = JSON.parse(await world.ledger.invoke(ORG1, (ctx) => world.registry.CreateTask(ctx, json(taskFrom(vector.set))))) as {
                id: string;
            };
            expect(task.id).to.equal(taskFrom(vector.set).id);
        });
    }

    for (const vector of taskVectors.invalid) {
        it(`refuses ${vector.name}`, async () => {
            const world = new World();
            await expectRefusal(
                world.ledger.invoke(ORG1, (ctx) => world.registry.CreateTask(ctx, json(taskFrom(vector.set)))),
                `[INVALID_ARGUMENT] task refused: ${vector.error ?? ''}`,
            );
        });
    }
});
