"""TFLite's integer arithmetic (fixed point, gemmlowp) that op references and lowerings share."""
