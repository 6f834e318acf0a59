"""The one loader of both organisation folders (`org init`, `orderer init`): the same rules and
the same errors, each naming the kind's file, field and command (orgs/folder.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fedledger.ordering.errors import OrdererFolderError
from fedledger.ordering.folder import OrderingOrg, init_orderer, load_orderer
from fedledger.orgs.errors import OrgFolderError
from fedledger.orgs.folder import FolderOrg
from fedledger.orgs.standalone import StandaloneOrg, init_org, load_org

KINDS = [
    pytest.param(
        lambda root: init_org(root, "Org4MSP", "org4.example.com", ["h4"], 9051),
        load_org,
        OrgFolderError,
        "org.yaml",
        "peerPort",
        "create the organisation with `fedledger org init`",
        Path("ca/ca.org4.example.com-cert.pem"),
        id="org",
    ),
    pytest.param(
        lambda root: init_orderer(root, "OrdererMSP", "orderer.example.com", ["h0"], 7050),
        load_orderer,
        OrdererFolderError,
        "ordering.yaml",
        "port",
        "create the ordering organisation with `fedledger orderer init`",
        Path("orderers/orderer0.orderer.example.com/tls/server.crt"),
        id="ordering",
    ),
]
ARGS = "init, load, error, descriptor, port_field, create, required"


@pytest.mark.parametrize(ARGS, KINDS)
def test_a_folder_loads_as_it_was_written(
    tmp_path: Path,
    init: Callable[[Path], FolderOrg],
    load: Callable[[Path], FolderOrg],
    error: type[Exception],
    descriptor: str,
    port_field: str,
    create: str,
    required: Path,
) -> None:
    written = init(tmp_path / "o")
    loaded = load(tmp_path / "o")
    assert loaded == written
    assert type(loaded) is type(written)
    assert loaded.descriptor()[port_field] == loaded.port
    assert (tmp_path / "o" / required).is_file()


@pytest.mark.parametrize(ARGS, KINDS)
def test_every_loader_error_names_the_file_the_field_or_the_command(
    tmp_path: Path,
    init: Callable[[Path], FolderOrg],
    load: Callable[[Path], FolderOrg],
    error: type[Exception],
    descriptor: str,
    port_field: str,
    create: str,
    required: Path,
) -> None:
    root = tmp_path / "o"
    root.mkdir()
    path = root / descriptor
    with pytest.raises(error) as missing:
        load(root)
    assert (
        str(missing.value) == f"no {descriptor} in {root}: {create} or name its folder with --dir"
    )

    path.write_text("- a list\n")
    with pytest.raises(error) as listed:
        load(root)
    assert str(listed.value) == f"{path} must be a mapping (mspId, domain, hosts, {port_field})"

    path.write_text("mspId: X\ndomain: x.example.com\nhosts: [h]\n")
    with pytest.raises(error) as no_port:
        load(root)
    assert str(no_port.value) == f"{path}: field '{port_field}' is missing"

    path.write_text(f"mspId: X\ndomain: x.example.com\nhosts: [h]\n{port_field}: high\n")
    with pytest.raises(error) as bad_port:
        load(root)
    assert str(bad_port.value) == (
        f"{path}: field '{port_field}' must be a port number (1-65535), not 'high'"
    )

    path.write_text(f"mspId: X\ndomain: x.example.com\nhosts: h\n{port_field}: 7051\n")
    with pytest.raises(error) as bad_hosts:
        load(root)
    assert str(bad_hosts.value) == f"{path}: field 'hosts' must be a list of host names, not 'h'"

    path.write_text("{{ not yaml")
    with pytest.raises(error) as unreadable:
        load(root)
    assert str(unreadable.value).startswith(f"cannot read {path}: ")


@pytest.mark.parametrize(ARGS, KINDS)
def test_moved_material_and_a_used_folder_are_refused(
    tmp_path: Path,
    init: Callable[[Path], FolderOrg],
    load: Callable[[Path], FolderOrg],
    error: type[Exception],
    descriptor: str,
    port_field: str,
    create: str,
    required: Path,
) -> None:
    root = tmp_path / "o"
    init(root)
    (root / required).unlink()
    with pytest.raises(error) as lacking:
        load(root)
    assert str(lacking.value) == f"{root} lacks {required}"
    with pytest.raises(error) as used:
        init(root)
    assert str(used.value) == (
        f"{root} already exists and is not an empty folder: choose another --dir "
        "(an organisation's keys are never overwritten)"
    )


def test_each_kind_raises_its_own_packages_error() -> None:
    kinds: dict[type[FolderOrg], Any] = {
        StandaloneOrg: OrgFolderError,
        OrderingOrg: OrdererFolderError,
    }
    for record, error in kinds.items():
        assert record.kind.error is error
    assert not issubclass(OrdererFolderError, OrgFolderError)
