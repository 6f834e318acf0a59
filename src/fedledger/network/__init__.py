"""Running a native Fabric network: node configuration, channel genesis, chaincode lifecycle,
the supervisor of Fabric's binaries, and the validators beside the nodes."""
