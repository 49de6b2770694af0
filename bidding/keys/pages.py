"""Pages of this domain."""

from __future__ import annotations

from typing import Any

routes: list[Any] = []
