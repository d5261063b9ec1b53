"""Op definitions, one module per op; importing this package registers all of them."""
import importlib
import pkgutil

from . import registry
from .opdef import OpDef
from .registry import Node, register

for _module in pkgutil.iter_modules(__path__):
    if _module.name not in ("registry", "common"):
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["Node", "OpDef", "register", "registry"]
