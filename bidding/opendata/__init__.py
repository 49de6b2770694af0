"""Open data: the OCDS releases and records of every public contracting process."""
