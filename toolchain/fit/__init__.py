"""Budget-driven compression: structured pruning, per-layer int4 weights, the `fitml fit` search."""
