"""The validator: each member organisation's voice in the consensus.

A gRPC service (validator.proto: Evaluate, GetReport, Status; health; reflection; mutual TLS)
and a watcher that turns the ledger's ProposalSubmitted events into exactly one vote each.
"""
