"""The Node chaincode package for Fabric 2.2 (`fabric-nodeenv` 2.2, Node 12): AWS Managed
Blockchain.

One source tree serves both runtimes. `chaincode/fabric-2.2/` holds only what differs: the 2.2
dependency set (package.json and its lock, with the pins Node 12 needs) and a tsconfig that
compiles `chaincode/src` for ES2019 into `chaincode/fabric-2.2/dist`. The package bundles the
production `node_modules` of that folder, because AMB's peers build chaincode without registry
access; the production set is read from the lock file (entries not marked `dev`), so packaging is
offline and the same lock always gives the same package.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fedledger.network.packaging import (
    ChaincodePackage,
    PackagingError,
    package_label,
    tar_bytes,
    write_package,
)

FABRIC_22_FOLDER = "fabric-2.2"
# The fields of the chaincode's own package.json the 2.2 package keeps; its dependencies,
# overrides and engines come from the 2.2 set.
_MANIFEST_FIELDS = ("name", "version", "description", "license", "private", "main")
_DEPENDENCY_FIELDS = ("dependencies", "overrides", "engines")


def fabric22_folder(source: Path) -> Path:
    """The folder of the Fabric 2.2 dependency set inside the chaincode project `source`."""
    return source / FABRIC_22_FOLDER


def _read_json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise PackagingError(f"cannot read {path}: {error}") from error
    if not isinstance(value, dict):
        raise PackagingError(f"{path} is not a JSON object")
    return value


def _manifest(source: Path, folder: Path) -> dict[str, Any]:
    """The package.json the peer sees: the chaincode's identity, the 2.2 dependencies, and
    `npm start` (start.js: the peer's `--peer.address` selects the mode that dials the peer)."""
    own = _read_json(source / "package.json")
    deps = _read_json(folder / "package.json")
    if own.get("version") != deps.get("version"):
        raise PackagingError(
            f"{folder}/package.json has version {deps.get('version')!r} but "
            f"{source}/package.json has {own.get('version')!r}: set the same version in both, "
            f"then run `npm install` in {folder} to update its lock"
        )
    manifest = {key: own[key] for key in _MANIFEST_FIELDS if key in own}
    manifest.update({key: deps[key] for key in _DEPENDENCY_FIELDS if key in deps})
    manifest["scripts"] = {"start": "node start.js"}
    return manifest


def _lock_entries(folder: Path) -> dict[str, bool]:
    """The lock's installed packages: node_modules path -> whether the production set holds it."""
    lock = _read_json(folder / "package-lock.json")
    return {
        path: not entry.get("dev", False)
        for path, entry in lock.get("packages", {}).items()
        if path.startswith("node_modules/")
    }


def production_modules(folder: Path) -> list[str]:
    """The node_modules paths (relative to `folder`) of the lock's production packages; raises
    PackagingError when the lock file is unreadable or lists one that is not installed."""
    paths = sorted(path for path, production in _lock_entries(folder).items() if production)
    missing = [path for path in paths if not (folder / path).is_dir()]
    if missing:
        raise PackagingError(
            f"{folder} lacks {missing[0]} (and {len(missing) - 1} more) of its lock file: "
            "run `npm ci` there (or `make setup`)"
        )
    return paths


def _owner(relative: str, entries: dict[str, bool]) -> str | None:
    """The innermost lock entry whose folder holds the file `relative`."""
    parts = relative.split("/")
    for end in range(len(parts) - 1, 1, -1):
        candidate = "/".join(parts[:end])
        if candidate in entries:
            return candidate
    return None


def _module_files(folder: Path) -> dict[str, bytes]:
    """The files of the production packages (a dev package nested in one stays out; so do npm's
    own `.bin` links and `.package-lock.json`)."""
    production_modules(folder)
    entries = _lock_entries(folder)
    files: dict[str, bytes] = {}
    for path in sorted((folder / "node_modules").rglob("*")):
        relative = path.relative_to(folder).as_posix()
        owner = _owner(relative, entries)
        npm_own = ".bin" in path.parts or path.name == ".package-lock.json"
        if owner and entries[owner] and path.is_file() and not (npm_own or path.is_symlink()):
            files[f"src/{relative}"] = path.read_bytes()
    return files


def package_node_fabric22(source: Path, name: str, out_dir: Path) -> ChaincodePackage:
    """A Node package of the chaincode project `source` for Fabric 2.2's Node 12 runtime, its
    production node_modules bundled, written to `out_dir`.

    Raises PackagingError when the 2.2 build or its node_modules is missing, or when the 2.2
    dependency set's version differs from the chaincode's.
    """
    folder = fabric22_folder(source)
    if not (folder / "dist" / "index.js").is_file():
        raise PackagingError(
            f"the chaincode in {source} is not built for Fabric 2.2: run "
            "`npm ci && npm run build:fabric-2.2` there (and `npm ci` in fabric-2.2/), "
            "or `make setup`"
        )
    files = {"src/package.json": json.dumps(_manifest(source, folder), indent=2).encode()}
    files["src/package-lock.json"] = (folder / "package-lock.json").read_bytes()
    files["src/start.js"] = (source / "start.js").read_bytes()
    for path in sorted((folder / "dist").rglob("*.js")):
        files[f"src/dist/{path.relative_to(folder / 'dist').as_posix()}"] = path.read_bytes()
    files.update(_module_files(folder))
    return write_package(out_dir, package_label(folder, name), "node", tar_bytes(files))
