"""The opening key's custody and the opening of bids."""
