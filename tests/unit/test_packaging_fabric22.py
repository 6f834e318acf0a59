"""The Node package for Fabric 2.2's Node 12 runtime (AWS Managed Blockchain): the 2.2 build, the
2.2 dependency set's production node_modules bundled, one chaincode identity."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fedledger.cli.app import app
from fedledger.network.bundle import package_node_fabric22, production_modules
from fedledger.network.packaging import PackagingError
from fedledger.runtime.definition import NetworkDefinition

CHAINCODE = NetworkDefinition.load().chaincode_source
NODE_12 = Path(
    os.environ.get("FEDLEDGER_NODE12", "~/.cache/fedledger/node/12.22.12/bin/node")
).expanduser()


def members(data: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def code(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The files of the real chaincode's 2.2 package (`make setup` builds it)."""
    package = package_node_fabric22(CHAINCODE, "fedledger", tmp_path_factory.mktemp("out"))
    outer = members(package.path.read_bytes())
    metadata = json.loads(outer["metadata.json"])
    assert metadata == {"type": "node", "label": package.label, "path": ""}
    return members(outer["code.tar.gz"])


def test_the_manifest_is_the_chaincodes_with_the_22_dependencies(code: dict[str, bytes]) -> None:
    manifest = json.loads(code["src/package.json"])
    own = json.loads((CHAINCODE / "package.json").read_text())
    assert (manifest["name"], manifest["version"], manifest["main"]) == (
        own["name"],
        own["version"],
        "dist/index.js",
    )
    assert manifest["dependencies"] == {"fabric-contract-api": "2.2.3", "fabric-shim": "2.2.3"}
    assert manifest["engines"] == {"node": ">=12.16.1"}
    assert manifest["scripts"] == {"start": "node start.js"}
    assert "devDependencies" not in manifest
    assert code["src/start.js"] == (CHAINCODE / "start.js").read_bytes()


def test_it_bundles_the_22_runtime_and_no_dev_package(code: dict[str, bytes]) -> None:
    for name in ("fabric-shim", "fabric-contract-api", "fabric-shim-api"):
        assert json.loads(code[f"src/node_modules/{name}/package.json"])["version"] == "2.2.3"
    # Node 12 pins (docs/fabric-2.2.md): the newest winston's colours need Node 18.
    diagnostics = json.loads(code["src/node_modules/@dabh/diagnostics/package.json"])
    assert diagnostics["version"] == "2.0.3"
    assert "src/node_modules/@types/node/package.json" not in code  # the 2.2 types: dev only
    assert not [name for name in code if "/.bin/" in name or name.endswith(".package-lock.json")]
    assert "src/dist/index.js" in code
    assert not [name for name in code if name.startswith("src/dist/") and name.endswith(".map")]


def test_the_build_is_compiled_for_node_12(code: dict[str, bytes]) -> None:
    """ES2019 output: Node 12 parses no `?.` or `??`; the TypeScript sources use both."""
    sources = "".join(path.read_text() for path in (CHAINCODE / "src").glob("*.ts"))
    assert "?." in sources
    assert "??" in sources
    for name, data in code.items():
        if name.startswith("src/dist/"):
            assert b"?." not in data, name
            assert b"??" not in data, name


@pytest.mark.skipif(not NODE_12.exists(), reason=f"needs Node 12 at {NODE_12} (FEDLEDGER_NODE12)")
def test_the_package_loads_on_node_12(code: dict[str, bytes], tmp_path: Path) -> None:
    for name, data in code.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    loaded = subprocess.run(
        [str(NODE_12), "-e", "const c = require('./dist/index.js').contracts;"
         "console.log(c.map((k) => new k().getName()).join(','))"],
        cwd=tmp_path / "src", capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    assert loaded.stdout.strip().splitlines()[-1] == "registry,health"


def fake_project(tmp_path: Path, version: str = "1.0.0") -> Path:
    source = tmp_path / "chaincode"
    folder = source / "fabric-2.2"
    (folder / "dist").mkdir(parents=True)
    (folder / "dist" / "index.js").write_text("module.exports = {};")
    (source / "package.json").write_text(json.dumps({"name": "cc", "version": "1.0.0"}))
    (source / "start.js").write_text("//")
    (folder / "package.json").write_text(json.dumps({"name": "cc", "version": version}))
    lock = {
        "packages": {
            "": {},
            "node_modules/run": {"version": "1"},
            "node_modules/run/node_modules/types": {"version": "2", "dev": True},
            "node_modules/types": {"version": "3", "dev": True},
        }
    }
    (folder / "package-lock.json").write_text(json.dumps(lock))
    for module in ("run", "run/node_modules/types", "types"):
        (folder / "node_modules" / module).mkdir(parents=True)
        (folder / "node_modules" / module / "index.js").write_text(f"// {module}")
    (folder / "node_modules" / ".bin").mkdir()
    (folder / "node_modules" / ".bin" / "run").symlink_to("../run/index.js")
    return source


def test_only_production_packages_are_bundled_even_nested(tmp_path: Path) -> None:
    source = fake_project(tmp_path)
    package = package_node_fabric22(source, "cc", tmp_path / "out")
    code = members(members(package.path.read_bytes())["code.tar.gz"])
    assert sorted(code) == [
        "src/dist/index.js",
        "src/node_modules/run/index.js",
        "src/package-lock.json",
        "src/package.json",
        "src/start.js",
    ]
    assert package.label.startswith("cc_1.0.0_")


def test_an_unbuilt_22_chaincode_is_refused_with_the_command(tmp_path: Path) -> None:
    source = fake_project(tmp_path)
    shutil.rmtree(source / "fabric-2.2" / "dist")
    with pytest.raises(PackagingError) as caught:
        package_node_fabric22(source, "cc", tmp_path / "out")
    assert str(caught.value) == (
        f"the chaincode in {source} is not built for Fabric 2.2: run "
        "`npm ci && npm run build:fabric-2.2` there (and `npm ci` in fabric-2.2/), "
        "or `make setup`"
    )


def test_a_missing_module_is_named(tmp_path: Path) -> None:
    source = fake_project(tmp_path)
    shutil.rmtree(source / "fabric-2.2" / "node_modules" / "run")
    folder = source / "fabric-2.2"
    with pytest.raises(PackagingError) as caught:
        production_modules(folder)
    assert str(caught.value) == (
        f"{folder} lacks node_modules/run (and 0 more) of its lock file: "
        "run `npm ci` there (or `make setup`)"
    )


def test_versions_that_differ_are_refused(tmp_path: Path) -> None:
    source = fake_project(tmp_path, version="0.9.0")
    with pytest.raises(PackagingError) as caught:
        package_node_fabric22(source, "cc", tmp_path / "out")
    assert str(caught.value) == (
        f"{source / 'fabric-2.2'}/package.json has version '0.9.0' but {source}/package.json "
        f"has '1.0.0': set the same version in both, then run `npm install` in "
        f"{source / 'fabric-2.2'} to update its lock"
    )


def test_the_two_dependency_sets_carry_one_version() -> None:
    own = json.loads((CHAINCODE / "package.json").read_text())["version"]
    lock = json.loads((CHAINCODE / "fabric-2.2" / "package-lock.json").read_text())
    assert (lock["version"], lock["packages"][""]["version"]) == (own, own)


def test_the_command_writes_the_package_and_prints_its_id(tmp_path: Path) -> None:
    source = fake_project(tmp_path)
    result = CliRunner().invoke(
        app,
        ["chaincode", "package", "--type", "node", "--target", "fabric-2.2",
         "--source", str(source), "--name", "cc", "--out", str(tmp_path / "out")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    (package,) = (tmp_path / "out").glob("*.node.tar.gz")
    assert result.stdout.strip().splitlines()[-1].startswith(f"{package.name[:-12]}:")


def test_a_ccaas_package_for_22_is_refused() -> None:
    result = CliRunner().invoke(app, ["chaincode", "package", "--target", "fabric-2.2"])
    assert result.exit_code == 1
    assert "error: --target fabric-2.2 makes a node package" in result.output
    assert "add --type node" in " ".join(result.output.split())
