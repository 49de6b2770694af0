"""The audit trail: one event per state change, committed with the change."""
