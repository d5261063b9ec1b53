"""Packaging glue pyproject.toml cannot express: ship the top-level targets/, templates/ and
runtime_c/ directories inside the wheel as toolchain/_data/<name> (package data)."""
from setuptools import find_packages, setup

DATA = {f"toolchain._data.{name}": name for name in ("targets", "templates", "runtime_c")}

setup(packages=find_packages(include=["toolchain", "toolchain.*"]) + list(DATA),
      package_dir=DATA)
