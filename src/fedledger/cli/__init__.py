"""The `fedledger` command line."""
