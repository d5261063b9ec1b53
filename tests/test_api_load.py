"""`toolchain.load((module, example_inputs))` as the README shows it, and a clean error when the
inputs are given twice."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import toolchain
from toolchain.errors import UsageError


def test_load_a_module_with_its_inputs_in_a_tuple():
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU())
    x = torch.randn(1, 4)
    for source in ((module, x), (module, (x,))):
        graph = toolchain.load(source)
        got = toolchain.run(graph, [x.numpy()]).outputs[0]
        np.testing.assert_allclose(got, module(x).detach().numpy(), rtol=1e-6, atol=1e-6)


def test_inputs_given_twice_are_refused():
    module = torch.nn.Linear(2, 2)
    with pytest.raises(UsageError, match="example inputs"):
        toolchain.load((module, torch.zeros(1, 2)), torch.zeros(1, 2))
