"""Experts: the unified pool, the draw that calls them to a committee, and what each of them is asked to do."""
