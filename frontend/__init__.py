"""Templates, static files and message catalogues of the platform's pages."""
