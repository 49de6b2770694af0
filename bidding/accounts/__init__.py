"""Organisations, people, roles, sign-in, sessions and API tokens."""
