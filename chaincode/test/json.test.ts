import { expect } from 'chai';
import { canonicalJson, parseJsonArgument, toBytes } from '../src/json';

describe('canonicalJson', () => {
    it('sorts object keys at every depth and writes no whitespace', () => {
        expect(canonicalJson({ b: 1, a: { d: [3, { z: true, y: null }], c: 'x' } })).to.equal(
            '{"a":{"c":"x","d":[3,{"y":null,"z":true}]},"b":1}',
        );
    });

    it('leaves out undefined properties and keeps array order', () => {
        expect(canonicalJson({ a: undefined, b: [2, 1] })).to.equal('{"b":[2,1]}');
    });

    it('writes non-ASCII characters as UTF-8 and escapes as JSON.stringify does', () => {
        expect(canonicalJson(['東京', 'a"b', 'c\\d'])).to.equal('["東京","a\\"b","c\\\\d"]');
        expect(Buffer.from(toBytes('é')).toString('hex')).to.equal('22c3a922');
    });

    it('refuses non-finite numbers', () => {
        expect(() => canonicalJson({ x: Infinity })).to.throw().with.property('message', '[INTERNAL] canonical JSON refused: Infinity is not a finite number');
        expect(() => canonicalJson(NaN)).to.throw().with.property('message', '[INTERNAL] canonical JSON refused: NaN is not a finite number');
    });

    it('refuses values that are not JSON', () => {
        expect(() => canonicalJson([undefined])).to.throw().with.property('message', '[INTERNAL] canonical JSON refused: a undefined is not a JSON value');
        expect(() => canonicalJson(() => 1)).to.throw().with.property('message', '[INTERNAL] canonical JSON refused: a function is not a JSON value');
    });
});

describe('parseJsonArgument', () => {
    it('parses JSON', () => {
        expect(parseJsonArgument('task refused', '{"a":1}')).to.deep.equal({ a: 1 });
    });

    it('names the refusal when the argument is not JSON', () => {
        expect(() => parseJsonArgument('vote refused', '{')).to.throw(/^\[INVALID_ARGUMENT\] vote refused: the argument is not valid JSON \(/);
    });
});
