'use strict';
/*
 * The official Fabric Gateway client for Node against a ledger described by a fedledger
 * connection profile: evaluate, submit, and read the submitted transactions' events.
 *
 *   node check.js <profile.json> <beat name>
 *
 * The profile is the connection profile as JSON with absolute paths (the Python test writes
 * it). Prints one JSON line with what it saw; exits non-zero on any failure.
 */
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const { connect, hash, signers } = require('@hyperledger/fabric-gateway');

function onlyFile(folder) {
    const files = fs.readdirSync(folder);
    if (files.length !== 1) {
        throw new Error(`${folder} must hold exactly one file, found ${files.length}`);
    }
    return path.join(folder, files[0]);
}

async function main() {
    const [profilePath, beatName] = process.argv.slice(2);
    const profile = JSON.parse(fs.readFileSync(profilePath, 'utf8'));
    const org = profile.organizations.Org1MSP;
    const msp = org.identities.user;

    const client = new grpc.Client(
        org.gateway.endpoint,
        grpc.credentials.createSsl(fs.readFileSync(org.gateway.tlsCaCert)),
        { 'grpc.ssl_target_name_override': org.gateway.serverName },
    );
    const gateway = connect({
        client,
        identity: { mspId: org.mspId, credentials: fs.readFileSync(onlyFile(path.join(msp, 'signcerts'))) },
        signer: signers.newPrivateKeySigner(crypto.createPrivateKey(fs.readFileSync(onlyFile(path.join(msp, 'keystore'))))),
        hash: hash.sha256,
        evaluateOptions: () => ({ deadline: Date.now() + 10000 }),
        endorseOptions: () => ({ deadline: Date.now() + 30000 }),
        submitOptions: () => ({ deadline: Date.now() + 10000 }),
        commitStatusOptions: () => ({ deadline: Date.now() + 60000 }),
    });
    try {
        const network = gateway.getNetwork(profile.channel);
        const contract = network.getContract(profile.chaincode);
        const version = JSON.parse(Buffer.from(await contract.evaluateTransaction('health:Version')).toString());

        const first = await contract.submitAsync('health:Beat', { arguments: [beatName] });
        const firstStatus = await first.getStatus();
        const second = await contract.submitAsync('health:Beat', { arguments: [beatName] });
        const secondStatus = await second.getStatus();

        let chaincodeError = '';
        try {
            await contract.submitTransaction('health:Beat', 'not a valid name!');
        } catch (error) {
            chaincodeError = `${error.constructor.name}: ${error.details.map((d) => d.message).join('; ')}`;
        }

        const events = await network.getChaincodeEvents(profile.chaincode, { startBlock: firstStatus.blockNumber });
        const seen = [];
        try {
            for await (const event of events) {
                const payload = JSON.parse(Buffer.from(event.payload).toString());
                if (payload.name === beatName) {
                    seen.push({ block: Number(event.blockNumber), txid: event.transactionId, name: event.eventName, count: payload.count });
                }
                if (seen.length === 2) {
                    break;
                }
            }
        } finally {
            events.close();
        }
        console.log(JSON.stringify({
            version,
            results: [Buffer.from(first.getResult()).toString(), Buffer.from(second.getResult()).toString()],
            statuses: [firstStatus, secondStatus].map((s) => ({ txid: s.transactionId, code: s.code, block: Number(s.blockNumber), successful: s.successful })),
            chaincodeError,
            events: seen,
        }));
    } finally {
        gateway.close();
        client.close();
    }
}

main().catch((error) => {
    console.error(error);
    process.exit(1);
});
