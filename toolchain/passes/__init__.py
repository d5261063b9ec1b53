"""Graph -> Graph passes. Pipelines (ordered, named) live in `pipeline.py`."""
from .fold_batchnorm import fold_batchnorm
from .fold_constants import fold_constants
from .fuse_activations import fuse_activations
from .pipeline import CLEANUP, format_graph, run_pipeline
from .simplify import simplify

__all__ = ["CLEANUP", "fold_batchnorm", "fold_constants", "format_graph", "fuse_activations",
           "run_pipeline", "simplify"]
