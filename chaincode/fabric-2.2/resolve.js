/*
 * Loaded before the unit suite when it runs against Fabric 2.2's dependency set: the chaincode's
 * own imports of the Fabric packages resolve to this folder's node_modules instead of the 2.5 set
 * beside the sources, so one source tree is tested against both.
 */
'use strict';

const Module = require('module');
const path = require('path');

const FABRIC_PACKAGES = /^(fabric-contract-api|fabric-shim|fabric-shim-api)(\/|$)/;
const nodeModules = path.join(__dirname, 'node_modules');
const resolveFilename = Module._resolveFilename;

Module._resolveFilename = function resolveFromFabric22(request, parent, ...rest) {
    if (FABRIC_PACKAGES.test(request)) {
        return resolveFilename.call(this, request, { ...parent, paths: [nodeModules] }, ...rest);
    }
    return resolveFilename.call(this, request, parent, ...rest);
};
