"""The chaincode as an earlier commit of this repository had it, built, for upgrade tests and the
decision benchmark's baseline.

The builds are compiled from `git archive <revision> chaincode` with this checkout's TypeScript
and node_modules: the chaincode's dependencies (package-lock.json) have not changed since, only
its version. So they need this repository's history, which a clone has unless it is shallow.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]
CHAINCODE = REPOSITORY / "chaincode"

# Chaincode 0.1 (schema version 1): the last commit whose CastVote counted the vote in the
# proposal's tally and decided in the vote's own transaction.
VOTES_IN_THE_PROPOSAL = "ed2188bfb2409c5f5daf4dfd836b00b5809e0294"
# Chaincode 0.2 (schema version 2): votes under their own keys, counted by Decide; the last
# commit before `unavailable` reports (0.3).
VOTES_UNDER_THEIR_KEYS = "b26cc9baa654fe57f69bb602c842f6d4b3a5d5e4"


class BuildError(RuntimeError):
    """The chaincode of a revision cannot be exported or compiled."""


def build_chaincode(revision: str, into: Path) -> Path:
    """The chaincode folder of `revision`, built under `into` (reused when already built).

    Raises BuildError naming what failed: the revision missing from the history (a shallow
    clone), or the compiler's errors.
    """
    target = into / f"chaincode-{revision[:12]}"
    if (target / "dist" / "index.js").is_file():
        return target
    exported = subprocess.run(
        ["git", "-C", str(REPOSITORY), "archive", revision, "chaincode"],
        capture_output=True,
        check=False,
    )
    if exported.returncode != 0:
        raise BuildError(
            f"cannot export chaincode/ at {revision[:12]}: {exported.stderr.decode().strip()}; "
            "the build needs the repository's history (`git fetch --unshallow` in a shallow clone)"
        )
    with tempfile.TemporaryDirectory(dir=into) as scratch:
        with tarfile.open(fileobj=io.BytesIO(exported.stdout)) as archive:
            archive.extractall(scratch, filter="data")
        shutil.move(Path(scratch) / "chaincode", target)
    (target / "node_modules").symlink_to(CHAINCODE / "node_modules")
    compiled = subprocess.run(
        [str(CHAINCODE / "node_modules" / ".bin" / "tsc"), "-p", "tsconfig.build.json"],
        cwd=target,
        capture_output=True,
        text=True,
        check=False,
    )
    if compiled.returncode != 0:
        shutil.rmtree(target)
        raise BuildError(f"the chaincode at {revision[:12]} does not compile: {compiled.stdout}")
    return target


def replace_build(folder: Path, source: Path) -> None:
    """Make `folder` hold the build of `source` (its package files and dist/), as an operator
    replaces a deployed chaincode's files before upgrading it."""
    for name in ("package.json", "package-lock.json"):
        shutil.copy(source / name, folder / name)
    shutil.rmtree(folder / "dist")
    shutil.copytree(source / "dist", folder / "dist")
