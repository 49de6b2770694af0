"""Cryptography for sealed bids, key custody and the transparency log: bytes in, bytes out.

This package imports nothing from ``bidding``, the web framework or the database.
"""
