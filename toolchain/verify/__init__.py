"""Executors: every way fitml can run a model, each a callable inputs -> outputs."""
