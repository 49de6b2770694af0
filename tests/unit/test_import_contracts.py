"""The import contracts of ``make lint`` (``[tool.importlinter]`` in pyproject.toml) catch a wrong import: each is
run on a copy of the packages with one import it forbids added, and on an untouched copy, which keeps them all."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

#: Each contract, by the start of its name, and an import that breaks it alone: (module, what it imports).
WRONG_IMPORTS = {
    "crypto is a pure library": ("crypto/age/__init__.py", "bidding.db"),
    "Layers by name": ("bidding/tenders/repo.py", "bidding.tenders.drafting"),
    "No domain imports another domain's web modules": ("bidding/bids/http.py", "bidding.tenders.pages"),
}


def _copy(destination: Path) -> Path:
    for package in ("bidding", "crypto"):
        shutil.copytree(ROOT / package, destination / package, ignore=shutil.ignore_patterns("__pycache__"))
    (destination / "tests").mkdir()
    (destination / "tests" / "__init__.py").write_text("")
    shutil.copy(ROOT / "tests" / "import_contracts.py", destination / "tests")
    shutil.copy(ROOT / "pyproject.toml", destination)
    return destination


def _lint(folder: Path) -> subprocess.CompletedProcess[str]:
    # The copy comes first on the path, before the installed packages; a contract's name and verdict on one line.
    environment = {**os.environ, "PYTHONPATH": str(folder), "COLUMNS": "1000"}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=folder, env=environment, capture_output=True, text=True, timeout=120
    )


def test_the_packages_keep_every_contract(tmp_path: Path) -> None:
    result = _lint(_copy(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Contracts: {len(WRONG_IMPORTS)} kept, 0 broken." in result.stdout


@pytest.mark.parametrize("contract", WRONG_IMPORTS)
def test_a_wrong_import_breaks_its_contract(tmp_path: Path, contract: str) -> None:
    folder = _copy(tmp_path)
    module, imported = WRONG_IMPORTS[contract]
    with (folder / module).open("a") as source:
        source.write(f"\nimport {imported}  # a deliberate wrong import\n")
    result = _lint(folder)
    assert result.returncode == 1, result.stdout + result.stderr
    broken = [line for line in result.stdout.splitlines() if line.endswith("BROKEN")]
    assert len(broken) == 1 and broken[0].startswith(contract), result.stdout
