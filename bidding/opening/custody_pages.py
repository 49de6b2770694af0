"""Pages of the custody ceremony."""

from __future__ import annotations

from typing import Any

routes: list[Any] = []
