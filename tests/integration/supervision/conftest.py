"""The console's tests use the people of a tender (see tests/integration/tenders/conftest.py)."""

from tests.integration.tenders.conftest import cast  # noqa: F401  # re-exported as a fixture of this folder
