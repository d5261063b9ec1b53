"""TFLite's integer arithmetic, exactly: the rounding every int8 executor must reproduce."""
