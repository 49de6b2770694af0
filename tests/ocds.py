"""Validation of what the platform publishes against the official OCDS 1.1.5 schemas.

The schemas are read from ``../shared/schemas/ocds-1.1.5`` beside the project (they are not copied into it).
Without that folder the tests that need it are skipped, except under CI, which has it, where they fail.
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

SCHEMAS = Path(__file__).resolve().parents[2] / "shared" / "schemas" / "ocds-1.1.5"
#: The bid extension the platform declares; its release schema patches the core one (OCDS extensions are JSON
#: Merge Patches, RFC 7386), so everything is validated as a consumer applying the declared extensions would.
BID_EXTENSION = SCHEMAS.parent / "ocds_bid_extension" / "release-schema.json"


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON Merge Patch."""
    if not isinstance(patch, dict):
        return patch
    merged = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged


@functools.cache
def _validators() -> dict[str, Draft4Validator]:
    if not SCHEMAS.is_dir():
        message = f"the OCDS 1.1.5 schemas are not at {SCHEMAS}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    schemas = {path.name: json.loads(path.read_text()) for path in SCHEMAS.glob("*.json")}
    if not BID_EXTENSION.is_file():
        message = f"the OCDS bid extension is not at {BID_EXTENSION}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    schemas["release-schema.json"] = merge_patch(schemas["release-schema.json"], json.loads(BID_EXTENSION.read_text()))
    registry: Registry[Any] = Registry().with_resources(
        (schema["id"], Resource.from_contents(schema, default_specification=DRAFT4)) for schema in schemas.values()
    )
    return {
        kind: Draft4Validator(
            schemas[f"{kind}-schema.json"], registry=registry, format_checker=Draft4Validator.FORMAT_CHECKER
        )
        for kind in ("release-package", "record-package", "release")
    }


def errors(kind: str, document: Any) -> list[str]:
    """Every way ``document`` breaks the schema of ``kind`` (release-package, record-package, release)."""
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in _validators()[kind].iter_errors(document)
    ]


def assert_valid(kind: str, document: Any) -> None:
    found = errors(kind, document)
    assert not found, "\n".join(found)
