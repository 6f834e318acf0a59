"""The `fedledger` command line.

gRPC's core logs every failed TLS handshake at INFO on stderr, which buries a command's own
messages while it waits for a node to come up; commands show gRPC's errors only, unless the user
sets GRPC_VERBOSITY. This must happen before grpc is first imported.
"""

import os

os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
