"""fitml's intermediate representation: one immutable graph in NHWC with TFLite semantics."""
from .graph import Graph, GraphError
from .node import Node
from .op import Op
from .tensor import DTYPES, QuantParams, Tensor

__all__ = ["DTYPES", "Graph", "GraphError", "Node", "Op", "QuantParams", "Tensor"]
