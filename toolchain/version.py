"""fitml's version: a leaf module, so that any layer (the C backend stamps it into model.c) can
import it without importing the package root."""
__version__ = "0.1.0"
