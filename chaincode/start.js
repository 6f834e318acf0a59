#!/usr/bin/env node
/*
 * `npm start`. By default the chaincode runs as a service (fabric-chaincode-node server): it listens
 * on CORE_CHAINCODE_ADDRESS (or --chaincode-address) and answers to the package id in
 * CORE_CHAINCODE_ID (or --chaincode-id), and the peer dials it.
 *
 * A Docker-based peer launches Node chaincode as `npm start -- --peer.address HOST:PORT`; that form
 * selects the classic mode (fabric-chaincode-node start), in which the chaincode dials the peer.
 *
 * fabric-shim's command line runs inside this process, so this process's PID is the chaincode's.
 */
'use strict';

const args = process.argv.slice(2);
const dialsPeer = args.some((arg) => arg === '--peer.address' || arg.startsWith('--peer.address='));
process.argv = [process.argv[0], require.resolve('fabric-shim/cli'), dialsPeer ? 'start' : 'server', ...args];
require('fabric-shim/cli');
