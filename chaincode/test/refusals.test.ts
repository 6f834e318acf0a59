import { expect } from 'chai';
import { readdirSync, readFileSync } from 'fs';
import { join } from 'path';
import { REFUSAL_CODES, Refusal, refuse } from '../src/refusals';

/** testdata/refusal-codes.json, which the Python client's RefusalCode is checked against too. */
const shared = JSON.parse(readFileSync(join(__dirname, '..', '..', 'testdata', 'refusal-codes.json'), 'utf8')) as {
    format: string;
    codes: { code: string; meaning: string }[];
};
const SOURCES = join(__dirname, '..', 'src');

function source(file: string): string {
    return readFileSync(join(SOURCES, file), 'utf8');
}

describe('refusal codes (testdata/refusal-codes.json)', () => {
    it('lists exactly the chaincode codes, in order, each with a meaning', () => {
        expect(shared.codes.map((entry) => entry.code)).to.deep.equal([...REFUSAL_CODES]);
        for (const entry of shared.codes) {
            expect(entry.meaning, entry.code).to.match(/^[A-Z].{10,}\.$/);
        }
    });

    it('puts the code in brackets before the refusal', () => {
        expect(() => refuse('ALREADY_VOTED', 'vote refused', 'Org2MSP already voted on proposal p-1'))
            .to.throw(Refusal)
            .with.property('message', '[ALREADY_VOTED] vote refused: Org2MSP already voted on proposal p-1');
        expect(new Refusal('LEDGER_ERROR', 'ledger error: x').code).to.equal('LEDGER_ERROR');
        expect(shared.format).to.equal('[CODE] <what> refused: <why>');
    });

    it('reads the same as a string, which fabric-shim 2.2 sends the peer instead of the message', () => {
        const refusal = new Refusal('NO_CHAMPION', 'query refused: task t has no champion yet');
        expect(String(refusal)).to.equal('[NO_CHAMPION] query refused: task t has no champion yet');
        expect(`${refusal}`).to.equal(refusal.message);
    });

    it('is the only kind of error the chaincode sources throw', () => {
        const files = readdirSync(SOURCES).filter((file) => file.endsWith('.ts') && file !== 'refusals.ts');
        for (const file of files) {
            expect(source(file), file).not.to.match(/new Error\(|throw (?!new Refusal\()/);
        }
    });

    it('uses every listed code somewhere in the sources', () => {
        const all = readdirSync(SOURCES)
            .filter((file) => file.endsWith('.ts') && file !== 'refusals.ts')
            .map(source)
            .join('\n');
        for (const code of REFUSAL_CODES) {
            expect(all, code).to.include(`'${code}'`);
        }
    });
});
