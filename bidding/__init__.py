"""An electronic bidding platform for public-resource trading centres."""
