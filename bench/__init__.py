"""Performance measurements of the platform; not part of the installed package."""
