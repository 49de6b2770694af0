"""Tenders: drafting, publication, documents, registration, questions and amendments."""
