"""Commands that need no server: a bidder's keys, seals and file keys, age itself (:mod:`.commands`), and
checking the transparency log, a receipt or an export from outside (:mod:`.verify`)."""
