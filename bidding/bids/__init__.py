"""Sealed bids: resumable uploads of envelopes, signed statements, receipts, replacement and withdrawal."""
