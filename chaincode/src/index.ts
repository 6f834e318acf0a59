import { HealthContract } from './health-contract';
import { RegistryContract } from './registry-contract';

/** The registry comes first: it is the default contract, called without a "registry:" prefix. */
export const contracts = [RegistryContract, HealthContract];
