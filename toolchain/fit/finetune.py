"""Recovery fine-tuning of a (pruned) float graph with PyTorch, whatever framework it came from.

The graph is run by a small torch interpreter (NHWC kept, convolutions permuted at the edge,
TFLite SAME padding reproduced exactly), its CONV / DEPTHWISE / FC weights and biases are the
trainable parameters, and the weights of layers that will be int4 are fake-quantized as PTQ
will quantize them (symmetric per channel, [-7, 7]; FC per tensor) with a straight-through
gradient. A final SOFTMAX is left out of the loss (cross-entropy on its logits). The tuned
weights go back into a copy of the graph. torch is imported only here.
"""
from __future__ import annotations

import numpy as np

from ..arith import kernel_math as km
from ..errors import ModelError, UsageError
from ..ir import Graph
from ..ops.registry import Node
from ..quant.calibration import progress_bar
from ..quant.weights import mse_clip

WEIGHTED = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")


def _act(torch, y, name: str):
    F = torch.nn.functional
    table = {"NONE": lambda v: v, "RELU": F.relu, "RELU6": lambda v: v.clamp(0.0, 6.0),
             "RELU_N1_TO_1": lambda v: v.clamp(-1.0, 1.0)}
    if name not in table:
        raise ModelError(f"fine-tuning: fused activation {name} is not supported")
    return table[name](y)


def _pad_same(F, x, node, kh, kw, stride, dilation, value=0.0):
    """Pad an NCHW tensor with `value` as the op pads it: TFLite's SAME (odd extra at the end),
    VALID (not at all) or its explicit padding."""
    (top, bottom), (left, right) = km.window_pads(node, node.ins[0].shape[1:3], (kh, kw),
                                                  stride, dilation, node.outs[0].shape[1:3])
    return F.pad(x, [left, right, top, bottom], value=value)


class GraphModule:
    """A torch callable over the graph; `params` maps weight/bias tensor names to Parameters."""

    def __init__(self, graph: Graph, int4: set[str], logits: bool = True):
        import torch  # lazy: torch is optional (fitml[torch])
        self.torch, self.graph, self.int4 = torch, graph, int4
        self.nodes = [Node.of(graph, op) for op in graph.ops]
        self.params = {}
        for op in graph.ops:
            if op.kind in WEIGHTED:
                for n in op.inputs[1:3]:
                    if n and n not in self.params:
                        self.params[n] = torch.nn.Parameter(torch.from_numpy(
                            np.array(graph.tensors[n].data, np.float32)))
        last = graph.ops[-1] if graph.ops else None
        final_softmax = last is not None and last.kind == "SOFTMAX" and \
            last.outputs[0] in graph.outputs
        self.skip = len(graph.ops) - 1 if logits and final_softmax else None

    def value(self, name, values):
        if name in self.params:
            return self.params[name]
        if name in values:
            return values[name]
        return self.torch.from_numpy(np.array(self.graph.tensors[name].data))

    def weight(self, op, values, axis: int | None):
        """The layer's weights; int4 layers fake-quantized with PTQ's scales (straight-through
        gradient)."""
        w = self.value(op.inputs[1], values)
        if op.outputs[0] not in self.int4:
            return w
        wd = w.detach().numpy().astype(np.float64)
        rows = wd.reshape(1, -1) if axis is None else np.moveaxis(wd, axis, 0).reshape(
            wd.shape[axis], -1)
        peak = np.abs(rows).max(axis=1) / 7.0
        scale = np.maximum(peak * mse_clip(rows, peak, 7), 1e-12).astype(np.float32)
        shape = [1] * w.dim()
        if axis is not None:
            shape[axis] = -1
        s = self.torch.from_numpy(scale.reshape(shape if axis is not None else []))
        q = (w / s).round().clamp(-7, 7) * s
        return w + (q - w).detach()

    def __call__(self, x):
        values = {self.graph.inputs[0]: x}
        for i, (op, node) in enumerate(zip(self.graph.ops, self.nodes)):
            if i == self.skip:
                values[op.outputs[0]] = values[op.inputs[0]]
                continue
            values[op.outputs[0]] = self.run(op, node, values)
        return values[self.graph.outputs[0]]

    def run(self, op, node, values):
        torch, F = self.torch, self.torch.nn.functional
        ins = [self.value(n, values) if n else None for n in op.inputs]
        x, act = ins[0], op.attr("activation", "NONE")
        stride, dil = op.attr("stride", (1, 1)), op.attr("dilation", (1, 1))
        if op.kind in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            depthwise = op.kind == "DEPTHWISE_CONV_2D"
            w = self.weight(op, values, 3 if depthwise else 0)
            w = w.permute(3, 0, 1, 2) if depthwise else w.permute(0, 3, 1, 2)
            xn = x.permute(0, 3, 1, 2)
            xn = _pad_same(F, xn, node, w.shape[2], w.shape[3], stride, dil)
            groups = xn.shape[1] // w.shape[1]
            y = F.conv2d(xn, w, ins[2] if len(ins) > 2 else None, tuple(stride), 0,
                         tuple(dil), groups)
            return _act(torch, y.permute(0, 2, 3, 1), act)
        if op.kind == "FULLY_CONNECTED":
            w = self.weight(op, values, None)    # TFLM's int4 FC is per-tensor
            y = F.linear(x.reshape(-1, w.shape[1]), w, ins[2] if len(ins) > 2 else None)
            if op.attr("keep_num_dims", False):
                y = y.reshape(*x.shape[:-1], w.shape[0])
            return _act(torch, y, act)
        return self.run_plain(op, node, ins, act)

    def run_plain(self, op, node, ins, act):
        torch, F = self.torch, self.torch.nn.functional
        x, kind = ins[0], op.kind
        batch_shape = lambda s: (-1, *s[1:])    # noqa: E731  the batch dim follows x
        if kind in ("ADD", "SUB", "MUL"):
            y = {"ADD": torch.add, "SUB": torch.sub, "MUL": torch.mul}[kind](x, ins[1])
            return _act(torch, y, act)
        if kind in ("RESHAPE", "SQUEEZE"):
            return x.reshape(batch_shape(node.outs[0].shape))
        if kind in ("MAX_POOL_2D", "AVERAGE_POOL_2D"):
            xn = x.permute(0, 3, 1, 2)
            k, s = tuple(op.attr("filter", (1, 1))), tuple(op.attr("stride", (1, 1)))
            padded = _pad_same(F, xn, node, k[0], k[1], s, (1, 1), -1e30)
            if padded.shape != xn.shape and kind == "AVERAGE_POOL_2D":
                raise ModelError("fine-tuning: padded AVERAGE_POOL_2D is not supported")
            pool = F.max_pool2d if kind == "MAX_POOL_2D" else F.avg_pool2d
            return _act(torch, pool(padded, k, s).permute(0, 2, 3, 1), act)
        if kind == "CONCATENATION":
            return _act(torch, torch.cat(ins, dim=int(op.attr("axis", 0))), act)
        if kind in ("PAD", "PADV2"):
            pads = np.asarray(node.ins[1].data, np.int64).reshape(-1, 2)
            value = float(np.ravel(node.ins[2].data)[0]) if len(ins) > 2 and ins[2] is not None \
                else 0.0
            return F.pad(x, [int(v) for pair in pads[:0:-1] for v in pair], value=value)
        if kind == "TRANSPOSE":
            return x.permute(*[int(d) for d in np.ravel(node.ins[1].data)])
        if kind == "MEAN":
            axes = [int(a) for a in np.ravel(node.ins[1].data)]
            return x.mean(dim=axes, keepdim=bool(op.attr("keep_dims", False)))
        unary = {"RELU": F.relu, "RELU6": lambda v: v.clamp(0.0, 6.0), "LOGISTIC": torch.sigmoid,
                 "TANH": torch.tanh, "HARD_SWISH": F.hardswish,
                 "SOFTMAX": lambda v: torch.softmax(v * float(op.attr("beta", 1.0)), -1),
                 "LEAKY_RELU": lambda v: F.leaky_relu(v, float(op.attr("alpha", 0.2)))}
        if kind in unary:
            return unary[kind](x)
        raise ModelError(f"fine-tuning: op {kind} is not supported by the torch interpreter")


def finetune(graph: Graph, x: np.ndarray, labels: np.ndarray, epochs: int,
             int4: set[str] | dict | None = None, lr: float = 1e-3, batch: int = 64,
             seed: int = 0, progress: bool | None = None) -> Graph:
    """`graph` with its conv/FC weights trained `epochs` times over (x, labels)."""
    import torch  # lazy: torch is optional (fitml[torch])
    x = np.asarray(x, np.float32)
    labels = np.asarray(labels).reshape(-1).astype(np.int64)
    shape = graph.tensors[graph.inputs[0]].shape
    if len(graph.inputs) != 1 or x.shape[1:] != shape[1:] or len(x) != len(labels):
        raise UsageError(f"fine-tuning needs one input stack [N, {', '.join(map(str, shape[1:]))}]"
                         f" and N labels; got {list(x.shape)} and {len(labels)} labels")
    torch.manual_seed(seed)
    module = GraphModule(graph, set(int4 or ()))
    opt = torch.optim.Adam(list(module.params.values()), lr=lr)
    xt, yt = torch.from_numpy(x), torch.from_numpy(labels)
    gen = torch.Generator().manual_seed(seed)
    steps = [(e, i) for e in range(epochs) for i in range(0, len(x), batch)]
    perm = None
    for epoch, start in progress_bar(steps, progress, "fine-tuning"):
        if start == 0:
            perm = torch.randperm(len(x), generator=gen)
        idx = perm[start:start + batch]
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(module(xt[idx]).reshape(len(idx), -1), yt[idx])
        loss.backward()
        opt.step()
    tensors = dict(graph.tensors)
    for name, p in module.params.items():
        tensors[name] = tensors[name].replace(data=p.detach().numpy().astype(np.float32).copy())
    return graph.replace(tensors=tensors).validate()


def run(graph: Graph, x: np.ndarray) -> np.ndarray:
    """The torch interpreter's output for a stack of inputs (to check it against the reference)."""
    import torch  # lazy: torch is optional (fitml[torch])
    with torch.no_grad():
        module = GraphModule(graph, set(), logits=False)
        return module(torch.from_numpy(np.asarray(x, np.float32))).numpy()

