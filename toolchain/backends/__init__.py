"""Backends: emit a compiled graph as a .tflite flatbuffer or as C sources."""
