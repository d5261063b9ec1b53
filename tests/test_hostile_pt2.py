"""Hostile .pt2 files: fitml refuses them in one line without running their code.

Each attack file is built here from a real torch.export.save, then rewritten: pickled weights,
constants, opaque objects, legacy weights and sample inputs, sympy expressions, ambiguous or
exploding zips, corrupt archives, constant folding that would allocate what the file asks. The
payloads write a marker file; after fitml refuses, the test feeds the same file to torch
directly and checks that the marker does appear, so each test proves its payload is live."""
from __future__ import annotations

import io
import json
import pickle
import zipfile

import pytest

from cli_util import fitml, one_clear_line
from hostile_files import Touch, assert_live, edit_config, rewrite
from toolchain.errors import ModelError

torch = pytest.importorskip("torch")


class Tiny(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(4, 3)
        self.register_buffer("offset", torch.ones(3))

    def forward(self, x):
        return torch.relu(self.fc(x)) + self.offset + torch.tensor([1.0, 2.0, 3.0])


def tiny_pt2(tmp_path, **save_args):
    path = tmp_path / "tiny.pt2"
    torch.export.save(torch.export.export(Tiny().eval(), (torch.randn(1, 4),)), str(path),
                      **save_args)
    return path


def test_pt2_pickled_weight_never_runs(tmp_path):
    marker = tmp_path / "pwned"

    def pickled(name, data):
        if name.endswith("model_weights_config.json"):
            cfg = json.loads(data)
            cfg["config"]["fc.bias"]["use_pickle"] = True
            return json.dumps(cfg).encode()
        return pickle.dumps(Touch(marker), protocol=2) if name.endswith("weights/weight_1") \
            else data
    bad = rewrite(tiny_pt2(tmp_path), tmp_path / "evil.pt2", pickled)
    proc = fitml("inspect", bad)
    assert proc.returncode == 2
    line = one_clear_line(proc)
    assert "evil.pt2" in line and "pickled" in line and "data/weights/weight_1" in line
    assert not marker.exists()
    assert_live(marker, lambda: torch.export.load(str(bad)))


def _constant_pickle(cfg):
    cfg["lifted_tensor_0"]["use_pickle"] = True


def _opaque_constant(cfg):
    cfg["lifted_tensor_0"]["path_name"] = "opaque_obj_0"


ATTACKS = {   # name -> (edit builder(marker), extra entries builder(marker), needle in the error)
    "constant use_pickle": (
        lambda m: lambda n, d: (pickle.dumps(Touch(m)) if n.endswith("constants/tensor_0")
                                else edit_config("constants", _constant_pickle)(n, d)),
        lambda m: [], "pickled data (entry data/constants/tensor_0)"),
    "opaque object constant": (
        lambda m: edit_config("constants", _opaque_constant),
        lambda m: [("tiny/data/constants/opaque_obj_0", _padded(pickle.dumps(Touch(m))))],
        "pickled data (entry data/constants/opaque_obj_0)"),
    "legacy weights": (
        lambda m: lambda n, d: d, lambda m: [("tiny/data/weights/model.pt", _saved(Touch(m)))],
        "pickled data (entry data/weights/model.pt)"),
    "sample inputs": (
        lambda m: lambda n, d: (_saved((Touch(m),)) if n.endswith("sample_inputs/model.pt")
                                else d),
        lambda m: [], "pickled data (entry data/sample_inputs/model.pt)"),
    "sympy expression": (
        lambda m: lambda n, d: _with_expression(d, m) if n.endswith("models/model.json") else d,
        lambda m: [], "symbolic shape expressions"),
}


def _padded(data: bytes) -> bytes:
    """Whole float32s, so torch maps the blob as a tensor first and then unpickles it."""
    return data + bytes(-len(data) % 4)


def _saved(obj) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def _with_expression(data: bytes, marker) -> bytes:
    program = json.loads(data)
    tensor = next(iter(program["graph_module"]["graph"]["tensor_values"].values()))
    tensor["sizes"][0] = {"as_expr": {"expr_str": f"__import__('pathlib').Path({str(marker)!r})"
                                                  ".touch()", "hint": None}}
    return json.dumps(program).encode()


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_pt2_code_paths_of_torch_export_load_are_closed(tmp_path, attack):
    from toolchain.frontends.torch_export import load_torch

    marker = tmp_path / "pwned"
    edit, extra, needle = ATTACKS[attack]
    bad = rewrite(tiny_pt2(tmp_path), tmp_path / "evil.pt2", edit(marker), extra(marker))
    with pytest.raises(ModelError, match="evil.pt2") as err:
        load_torch(bad)
    assert needle in str(err.value)
    assert not marker.exists()
    assert_live(marker, lambda: torch.export.load(str(bad)))


def _bomb(tmp_path, src):
    dst = rewrite(src, tmp_path / "evil.pt2")
    with zipfile.ZipFile(dst, "a", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("tiny/extra/bomb", bytes(8 << 20))
    return dst


SHAPES = {   # zip structures that let two readers see different files, or explode
    "prepended data": (lambda t, s: _write(t, b"x" * 64 + s.read_bytes()), "byte 0"),
    "names equal ignoring case": (
        lambda t, s: rewrite(s, t / "evil.pt2", extra=[("tiny/DATA/weights/weight_1", b"")]),
        "appears twice"),
    "entry outside the folder": (
        lambda t, s: rewrite(s, t / "evil.pt2", extra=[("version", b"1")]), "outside"),
    "native code": (
        lambda t, s: rewrite(s, t / "evil.pt2", extra=[("tiny/data/aotinductor/m/x.so", b"")]),
        "native code"),
    "zip bomb": (_bomb, "zip bomb"),
}


def _write(tmp_path, data: bytes):
    (tmp_path / "evil.pt2").write_bytes(data)
    return tmp_path / "evil.pt2"


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_pt2_ambiguous_or_exploding_archives_are_refused(tmp_path, shape):
    from toolchain.frontends.torch_export import load_torch

    build, needle = SHAPES[shape]
    with pytest.raises(ModelError, match="evil.pt2") as err:
        load_torch(build(tmp_path, tiny_pt2(tmp_path)))
    assert needle in str(err.value)


def _bad_sizes(name, data):
    return edit_config("weights", lambda c: c["fc.bias"]["tensor_meta"].update(
        sizes=[{"as_int": 100}]))(name, data)


CORRUPT = {"truncated": lambda t, s: _write(t, s.read_bytes()[:3000]),
           "not a zip": lambda t, s: _write(t, b"definitely not a model"),
           "sizes beyond the blob": lambda t, s: rewrite(s, t / "evil.pt2", _bad_sizes)}


@pytest.mark.parametrize("kind", sorted(CORRUPT))
def test_corrupt_pt2_prints_only_fitml_line(tmp_path, kind):
    """torch logs a 13-29 line traceback of its own on these; none of it may reach stderr."""
    proc = fitml("inspect", CORRUPT[kind](tmp_path, tiny_pt2(tmp_path)))
    assert proc.returncode == 2
    assert "evil.pt2" in one_clear_line(proc)


class HugeConstant(torch.nn.Module):
    def forward(self, x):
        return x + torch.zeros(20000, 20000).sum(0)[:4]


def test_constant_folding_does_not_allocate_what_the_file_asks(tmp_path):
    """The graph's shapes come from the file: 1.6 GB of zeros is refused, not allocated."""
    from toolchain.frontends.torch_export import load_torch

    path = tmp_path / "huge.pt2"
    torch.export.save(torch.export.export(HugeConstant(), (torch.randn(1, 4),)), str(path))
    with pytest.raises(ModelError, match=r"huge.pt2: .*folding constants would allocate "
                                         r"1600000000 bytes"):
        load_torch(path)


def test_legitimate_pt2_with_extra_files_still_loads(tmp_path):
    from toolchain.frontends.torch_export import load_torch

    graph = load_torch(tiny_pt2(tmp_path, extra_files={"note.txt": "trained on MNIST"}))
    assert graph.tensors[graph.outputs[0]].shape == (1, 3)
