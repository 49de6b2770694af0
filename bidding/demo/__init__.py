"""Demo data for a newcomer to click through: people for every role (:mod:`.seed`), a living notice board
(:mod:`.tenders`), and bids sealed, submitted and opened as bidders and custodians would (:mod:`.bids`)."""
