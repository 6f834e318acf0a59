"""fedledger's AWS adapters: thin Lambda entry points over the local services."""
