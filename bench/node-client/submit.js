// Submit throughput and latency of the official Fabric Gateway Node client.
//
// Usage: node submit.js CONFIG.json
// CONFIG: endpoint, serverName, tlsCaCert, mspId, certPath, keyPath, channel, chaincode,
//         transaction, namePrefix, concurrency, warmupSeconds, seconds
// Prints one JSON line: {"client":"node","concurrency":…,"seconds":…,"committed":…,
//                        "failed":…,"cpuSeconds":…,"errors":[…],"latenciesMs":[…]}
// Each of the `concurrency` workers submits `transaction` with its own argument
// (`${namePrefix}-${worker}`), one transaction after another, so workers never conflict.
// Only transactions started and committed inside the measured window count.
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const grpc = require('@grpc/grpc-js');
const { connect, signers } = require('@hyperledger/fabric-gateway');

function deadline(seconds) {
    return () => ({ deadline: Date.now() + seconds * 1000 });
}

async function worker(contract, config, index, window, result) {
    const name = `${config.namePrefix}-${index}`;
    while (Date.now() < window.end) {
        const started = Date.now();
        try {
            await contract.submit(config.transaction, { arguments: [name] });
        } catch (error) {
            if (started >= window.start) {
                result.failed += 1;
                result.errors.add(String(error && error.message).split('\n')[0]);
            }
            continue;
        }
        const finished = Date.now();
        if (started >= window.start && finished <= window.end) {
            result.latenciesMs.push(finished - started);
        }
    }
}

async function main() {
    const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
    const client = new grpc.Client(
        config.endpoint,
        grpc.credentials.createSsl(fs.readFileSync(config.tlsCaCert)),
        { 'grpc.ssl_target_name_override': config.serverName },
    );
    const gateway = connect({
        client,
        identity: { mspId: config.mspId, credentials: fs.readFileSync(config.certPath) },
        signer: signers.newPrivateKeySigner(crypto.createPrivateKey(fs.readFileSync(config.keyPath))),
        evaluateOptions: deadline(5),
        endorseOptions: deadline(15),
        submitOptions: deadline(5),
        commitStatusOptions: deadline(60),
    });
    try {
        const contract = gateway.getNetwork(config.channel).getContract(config.chaincode);
        const now = Date.now();
        const window = {
            start: now + config.warmupSeconds * 1000,
            end: now + (config.warmupSeconds + config.seconds) * 1000,
        };
        const result = { latenciesMs: [], failed: 0, errors: new Set() };
        const cpu = {};
        const marks = [
            setTimeout(() => { cpu.start = process.cpuUsage(); }, window.start - Date.now()),
            setTimeout(() => { cpu.end = process.cpuUsage(cpu.start); }, window.end - Date.now()),
        ];
        const workers = [];
        for (let index = 0; index < config.concurrency; index += 1) {
            workers.push(worker(contract, config, index, window, result));
        }
        await Promise.all(workers);
        marks.forEach(clearTimeout);
        console.log(JSON.stringify({
            client: 'node',
            concurrency: config.concurrency,
            seconds: config.seconds,
            committed: result.latenciesMs.length,
            failed: result.failed,
            cpuSeconds: cpu.end ? (cpu.end.user + cpu.end.system) / 1e6 : null,
            errors: [...result.errors],
            latenciesMs: result.latenciesMs,
        }));
    } finally {
        gateway.close();
        client.close();
    }
}

main().catch((error) => {
    console.error(error);
    process.exitCode = 1;
});
