"""The public, append-only transparency log of every audit event (DESIGN §10): entries, tiles, checkpoints,
witnesses' cosignatures and receipts."""
