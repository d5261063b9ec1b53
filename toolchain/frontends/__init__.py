"""Frontends: model files and framework objects in, fitml Graph out."""
