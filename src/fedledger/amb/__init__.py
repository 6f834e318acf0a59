"""AWS Managed Blockchain (AMB): networks, members, peer nodes and AMB's own votes through
boto3's `managedblockchain` API, and fedledger's connection profile from their endpoints.

AMB runs Hyperledger Fabric 2.2 (no Gateway service) with a Fabric CA 1.4.7 per member; it
took its last new customer on 2026-10-29 and ends on 2027-09-29 (docs/aws-managed-blockchain.md).

Import from the modules: `client` (which loads boto3), `requests`, `waiting`, `profile`,
`errors`. This package re-exports nothing, so that a command's `--help` never loads boto3.
"""
