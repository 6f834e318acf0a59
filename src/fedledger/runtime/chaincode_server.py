"""The chaincode as a service: the one command line that starts `fabric-chaincode-node server`.

Both backends run the chaincode this way, from its source folder (where `npm ci && npm run
build` put the shim and `dist/`): one server per organisation beside a Fabric peer, one for the
whole embedded ledger.
"""

from __future__ import annotations

from pathlib import Path

NODE_SERVER = Path("node_modules") / ".bin" / "fabric-chaincode-node"


def chaincode_server(source: Path) -> Path:
    """The shim's server script in the chaincode folder `source`, by the name npm links it
    under (so that `ps` and the fault tests recognise the process)."""
    return source.absolute() / NODE_SERVER


def chaincode_server_command(node: str, source: Path, address: str, chaincode_id: str) -> list[str]:
    """`node` runs the server of the chaincode in `source`, listening on `address` for the peer
    that knows it as `chaincode_id`."""
    return [
        node,
        str(chaincode_server(source)),
        "server",
        "--chaincode-address",
        address,
        "--chaincode-id",
        chaincode_id,
    ]
