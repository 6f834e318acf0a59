"""Running a fedledger network: definition, native Fabric supervisor, chaincode lifecycle."""
