"""Chaincode packages: Fabric's lifecycle format, reproducible, with a code-derived label."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest

from fedledger.network.packaging import PackagingError, package_ccaas, package_node


def members(data: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]


@pytest.fixture
def built(tmp_path: Path) -> Path:
    source = tmp_path / "chaincode"
    (source / "dist").mkdir(parents=True)
    (source / "package.json").write_text(json.dumps({"name": "cc", "version": "1.2.3"}))
    (source / "package-lock.json").write_text("{}")
    (source / "dist" / "index.js").write_text("module.exports = {};")
    (source / "node_modules" / "x").mkdir(parents=True)
    (source / "node_modules" / "x" / "big.js").write_text("//")
    return source


def test_ccaas_package_layout(built: Path, tmp_path: Path) -> None:
    package = package_ccaas(built, "fedledger", tmp_path / "out")
    outer = members(package.path.read_bytes())
    assert sorted(outer) == ["code.tar.gz", "metadata.json"]
    assert json.loads(outer["metadata.json"]) == {"type": "ccaas", "label": package.label}
    connection = json.loads(members(outer["code.tar.gz"])["connection.json"])
    assert connection["address"] == "127.0.0.1:{{.ccport}}"
    assert package.label.startswith("fedledger_1.2.3_")


def test_package_id_is_label_and_file_hash(built: Path, tmp_path: Path) -> None:
    package = package_ccaas(built, "fedledger", tmp_path / "out")
    digest = hashlib.sha256(package.path.read_bytes()).hexdigest()
    assert package.package_id == f"{package.label}:{digest}"


def test_same_build_same_package_id(built: Path, tmp_path: Path) -> None:
    first = package_ccaas(built, "fedledger", tmp_path / "a").package_id
    second = package_ccaas(built, "fedledger", tmp_path / "b").package_id
    assert first == second


def test_changed_code_changes_package_id(built: Path, tmp_path: Path) -> None:
    before = package_ccaas(built, "fedledger", tmp_path / "a").package_id
    (built / "dist" / "index.js").write_text("module.exports = { changed: true };")
    after = package_ccaas(built, "fedledger", tmp_path / "b").package_id
    assert before != after


def test_unbuilt_chaincode_is_refused_with_advice(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text('{"version": "1"}')
    with pytest.raises(PackagingError, match=r"not built: run `npm ci && npm run build`"):
        package_ccaas(tmp_path, "fedledger", tmp_path / "out")


def test_node_package_holds_the_project_under_src(built: Path, tmp_path: Path) -> None:
    package = package_node(built, "fedledger", tmp_path / "out")
    outer = members(package.path.read_bytes())
    metadata = json.loads(outer["metadata.json"])
    assert metadata == {"type": "node", "label": package.label, "path": ""}
    code = members(outer["code.tar.gz"])
    assert sorted(code) == ["src/dist/index.js", "src/package-lock.json", "src/package.json"]
