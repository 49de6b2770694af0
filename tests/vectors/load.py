"""Test vectors of standards, kept as data files beside this module, each naming its source."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FOLDER = Path(__file__).resolve().parent


def load(name: str) -> Any:
    """The JSON vector file ``name`` (without extension)."""
    return json.loads((FOLDER / f"{name}.json").read_text(encoding="utf-8"))
