"""Optional packages: which `pip install fitml[...]` extra brings a missing one, so the CLI
says how to get it instead of failing with an internal error."""
from __future__ import annotations

EXTRAS = {"onnx": "onnx", "onnxruntime": "onnx", "onnxscript": "torch", "torch": "torch",
          "tensorflow": "keras", "tf_keras": "keras", "keras": "keras", "h5py": "keras",
          "matplotlib": "plot", "tflite_micro": "tflm", "ray": "ray"}


def install_hint(exc: ModuleNotFoundError) -> str | None:
    """One line naming the missing optional package and its extra; None for any other module
    (a missing module of fitml itself is a bug, not a user's choice)."""
    root = (exc.name or "").split(".")[0]
    extra = EXTRAS.get(root)
    if extra is None:
        return None
    return (f"this needs the optional package {root!r}, which is not installed: "
            f"pip install 'fitml[{extra}]'")
