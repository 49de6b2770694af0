"""Notifications: the inbox of news about the tenders a bidder's organisation takes part in."""
