"""Notifications: each person's inbox of news about the tenders their organisation takes part in."""
