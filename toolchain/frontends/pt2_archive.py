"""Check a .pt2 archive (torch.export.save) before torch.export.load reads any of it.

torch 2.13's loader (torch/export/pt2_archive/_package.py, torch/_export/serde/serialize.py)
runs code a file carries in several ways: it unpickles with weights_only=False every weight or
constant whose config says use_pickle, every custom_obj_/opaque_obj_ constant and the legacy
data/weights/<model>.pt state dicts (and retries sample inputs with weights_only=False when
the safe load fails); it loads AOTInductor shared libraries from data/aotinductor/; it hands
symbolic shape expressions (expr_str) to sympy.sympify, which calls eval. fitml accepts only
what torch.export.save writes for a static-shape model: raw tensor blobs described by JSON
configs, the graph JSON without shape expressions, sample inputs that
torch.load(weights_only=True) reads, and text extra files. `quiet_load` then forces
weights_only on every torch.load and keeps torch's own logging off stderr.
"""
from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import re
import zipfile
from pathlib import Path

from ..errors import ModelError
from ..util.quiet import silenced_stderr
from .zip_check import ZIP_MAGIC, open_zip, read_member

NO_PICKLE = ("fitml never unpickles a model file; re-save it with torch.export.save from a "
             "current torch, which stores plain tensors without pickle")
NO_EXPR = ("torch would evaluate them with sympy (eval), so fitml refuses them: export the "
           "model with static shapes (no dynamic_shapes)")
META = ("archive_format", "archive_version", "byteorder", ".data/version",
        ".data/serialization_id")
PICKLED_PREFIXES = ("custom_obj_", "opaque_obj_")
JSON_LIMIT = 256 << 20


def check_pt2(path: Path) -> None:
    """ModelError unless the archive holds only what fitml lets torch.export.load read."""
    where = str(path)
    with open_zip(path, where) as z:
        _Pt2Check(z, where).run()


class _Pt2Check:
    def __init__(self, z: zipfile.ZipFile, where: str):
        self.z, self.where = z, where
        first = z.infolist()[0].filename if z.infolist() else ""
        if "/" not in first:
            raise ModelError(f"{where}: not a torch.export archive (entries are not in one "
                             "folder)")
        self.root = first.split("/", 1)[0] + "/"
        self.entries: dict[str, zipfile.ZipInfo] = {}
        for info in z.infolist():
            if not info.filename.startswith(self.root):
                raise ModelError(f"{where}: entry {info.filename!r} is outside the archive "
                                 f"folder {self.root!r}; refusing an ambiguous model file")
            self.entries[info.filename[len(self.root):]] = info

    def refuse_pickle(self, entry: str) -> ModelError:
        return ModelError(f"{self.where}: holds pickled data (entry {entry}); {NO_PICKLE}")

    def run(self) -> None:
        for entry in self.entries:
            self._refuse_dangerous(entry)
        if self.read("archive_format") != b"pt2":
            raise ModelError(f"{self.where}: not a torch.export archive (archive_format is "
                             "not 'pt2')")
        models = [m.group(1) for e in self.entries
                  if (m := re.fullmatch(r"models/([\w.-]+)\.json", e))]
        if "model" not in models:
            raise ModelError(f"{self.where}: no models/model.json (not written by "
                             "torch.export.save)")
        expected = {e for e in META if e in self.entries}
        for model in models:
            expected |= self._program(model)
        for entry in self.entries:
            if entry not in expected and not entry.startswith("extra/"):
                raise ModelError(f"{self.where}: unexpected entry {entry} (fitml reads only "
                                 "archives written by torch.export.save)")

    def _refuse_dangerous(self, entry: str) -> None:
        """Entries torch would unpickle or execute, whatever the configs say."""
        if entry.startswith(("data/aotinductor/", "data/executorch/", "data/mtia")):
            raise ModelError(f"{self.where}: holds compiled native code (entry {entry}); fitml "
                             "never loads code from a model file")
        folder, _, name = entry.rpartition("/")
        if folder in ("data/weights", "data/constants") and (
                name.endswith(".pt") or name.startswith(PICKLED_PREFIXES)):
            raise self.refuse_pickle(entry)

    def _program(self, model: str) -> set[str]:
        """The entries torch reads for one program, each checked."""
        graph = f"models/{model}.json"
        self._no_expressions(graph)
        used = {graph}
        for kind, prefix in (("weights", "weight_"), ("constants", "tensor_")):
            config = f"data/{kind}/{model}_{kind}_config.json"
            used |= {config} | self._payloads(config, f"data/{kind}/", prefix)
        used.add(self._sample_inputs(f"data/sample_inputs/{model}.pt"))
        return used

    def _payloads(self, config: str, folder: str, prefix: str) -> set[str]:
        """The raw blobs a weights/constants config names; none may be pickled."""
        cfg = self.json(config)
        payloads = cfg.get("config") if isinstance(cfg, dict) else None
        if not isinstance(payloads, dict):
            raise self.malformed(config, "no 'config' mapping")
        used = set()
        for fqn, meta in payloads.items():
            path_name = meta.get("path_name") if isinstance(meta, dict) else None
            if not isinstance(path_name, str):
                raise self.malformed(config, f"{fqn!r} has no path_name")
            entry = folder + path_name
            if meta.get("use_pickle") is True or path_name.startswith(PICKLED_PREFIXES):
                raise self.refuse_pickle(entry)
            if meta.get("use_pickle") is not False:
                raise self.malformed(config, f"{fqn!r} has no use_pickle false")
            if not re.fullmatch(re.escape(prefix) + r"\d+", path_name):
                raise self.malformed(config, f"{fqn!r} names {path_name!r}")
            if entry not in self.entries:
                raise self.malformed(config, f"{fqn!r} names missing entry {entry}")
            self._tensor_meta(config, fqn, meta.get("tensor_meta"), self.entries[entry])
            used.add(entry)
        return used

    def _tensor_meta(self, config: str, fqn: str, meta, info: zipfile.ZipInfo) -> None:
        """Static sizes, and no elements claimed from an empty blob (torch would allocate
        them with torch.zeros before checking anything)."""
        meta = meta if isinstance(meta, dict) else {}
        sizes, strides = meta.get("sizes"), meta.get("strides")
        ints = ([*sizes, *strides, meta.get("storage_offset")]
                if isinstance(sizes, list) and isinstance(strides, list) else [None])
        if not all(isinstance(i, dict) and isinstance(i.get("as_int"), int) and i["as_int"] >= 0
                   for i in ints):
            raise self.malformed(config, f"{fqn!r} has no static tensor sizes")
        numel = 1
        for size in meta["sizes"]:
            numel *= size["as_int"]
        if info.file_size == 0 and numel:
            raise self.malformed(config, f"{fqn!r} claims {numel} elements in an empty entry")

    def _no_expressions(self, graph: str) -> None:
        stack = [self.json(graph)]
        while stack:
            v = stack.pop()
            if isinstance(v, dict):
                if "expr_str" in v or "as_expr" in v:
                    raise ModelError(f"{self.where}: entry {graph} holds symbolic shape "
                                     f"expressions; {NO_EXPR}")
                stack.extend(v.values())
            elif isinstance(v, list):
                stack.extend(v)

    def _sample_inputs(self, entry: str) -> str:
        """torch.load reads them; they must load with weights_only=True (no fallback)."""
        import torch  # lazy: torch is heavy and optional (fitml[torch])

        blob = self.read(entry)
        if not blob:
            return entry          # saved without example inputs: torch skips the entry
        if blob[:4] == ZIP_MAGIC:
            open_zip(io.BytesIO(blob), f"{self.where} (entry {entry})").close()
        try:
            with quiet_load():
                torch.load(io.BytesIO(blob), weights_only=True, map_location="cpu")
        except Exception:
            raise self.refuse_pickle(entry) from None
        return entry

    def read(self, entry: str, limit: int = JSON_LIMIT) -> bytes:
        if entry not in self.entries:
            raise ModelError(f"{self.where}: entry {entry} is missing (not written by "
                             "torch.export.save)")
        return read_member(self.z, self.root + entry, self.where, limit)

    def json(self, entry: str):
        try:
            return json.loads(self.read(entry).decode("utf-8"))
        except (ValueError, RecursionError) as exc:
            raise self.malformed(entry, f"not JSON: {str(exc)[:100]}") from None

    def malformed(self, entry: str, what: str) -> ModelError:
        return ModelError(f"{self.where}: entry {entry} is malformed ({what})")


@contextlib.contextmanager
def quiet_load():
    """Force weights_only=True on every torch.load (torch.export.load passes False for pickled
    payloads and retries sample inputs with False) and keep torch's logging and C++ warnings
    off stderr: fitml's own one-line error is what the user sees."""
    saved_env = {k: os.environ.get(k) for k in ("TORCH_FORCE_WEIGHTS_ONLY_LOAD",
                                                "TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD")}
    os.environ["TORCH_FORCE_WEIGHTS_ONLY_LOAD"] = "1"
    os.environ.pop("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", None)
    saved_level = logging.root.manager.disable
    logging.disable(logging.CRITICAL)
    try:
        with silenced_stderr():
            yield
    finally:
        logging.disable(saved_level)
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
