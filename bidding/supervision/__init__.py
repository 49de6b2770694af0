"""Supervision (电子监察): the supervisors' console over the audit trail."""
