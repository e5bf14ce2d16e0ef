"""Receptive fields against PyTorch: which inputs get a nonzero gradient from one output."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from symconv import ConvSpec, SpecError  # noqa: E402
from symconv.receptive.check import layer_operator  # noqa: E402
from symconv.receptive.field import conv_inputs, receptive_field  # noqa: E402
from symconv.receptive.layers import Layer  # noqa: E402
from symconv.receptive.torch_graph import graph_from_module  # noqa: E402

BATCH = 96  # random inputs per gradient: every max-pool window position wins in some of them


class Residual(nn.Module):
    """A ResNet basic block with a strided body and a 1×1 strided shortcut."""

    def __init__(self, channels: int = 2):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, stride=2, padding=1)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)
        self.shortcut = nn.Sequential(nn.Conv2d(channels, channels, 1, stride=2), nn.BatchNorm2d(channels))

    def forward(self, x):
        return torch.relu(self.conv2(torch.relu(self.bn1(self.conv1(x)))) + self.shortcut(x))


class Inception(nn.Module):
    """Branches concatenated along channels, one of them dilated, one pooled."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(1, 1, 1)
        self.b = nn.Conv2d(1, 1, 3, padding=2, dilation=2)
        self.c = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1), nn.Conv2d(1, 1, 1))

    def forward(self, x):
        return torch.cat([self.a(x), self.b(x), self.c(x)], dim=1)


MODULES = {
    "sequential": lambda: nn.Sequential(
        nn.Conv2d(2, 3, 3, stride=2, padding=1), nn.ReLU(), nn.MaxPool2d(2, stride=1),
        nn.Conv2d(3, 2, (3, 2), dilation=(2, 1), padding=(2, 0)), nn.AvgPool2d(3, stride=2, padding=1)),
    "residual": lambda: nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), Residual(2), Residual(2)),
    "inception": lambda: nn.Sequential(Inception(), nn.Conv2d(3, 1, 2, padding="same")),
    "conv1d": lambda: nn.Sequential(nn.Conv1d(1, 2, 3, padding=1), nn.MaxPool1d(2), nn.Conv1d(2, 1, 3, dilation=3)),
    "conv1d-strided-grouped": lambda: nn.Sequential(nn.Conv1d(2, 4, 5, stride=2, padding=2, groups=2), nn.ReLU(),
                                                    nn.Conv1d(4, 2, 3, dilation=2, padding="same"), nn.AvgPool1d(3, 2)),
    "conv3d": lambda: nn.Sequential(nn.Conv3d(1, 2, 3, stride=(1, 2, 1), padding=1), nn.MaxPool3d(2),
                                    nn.Conv3d(2, 1, (2, 1, 3), dilation=(1, 1, 2))),
}
INPUTS = {"sequential": (2, 15, 13), "residual": (1, 14, 12), "inception": (1, 9, 10), "conv1d": (1, 31),
          "conv1d-strided-grouped": (2, 40), "conv3d": (1, 7, 9, 12)}


def _gradient_pattern(module, shape, channel: int, index: tuple[int, ...]) -> np.ndarray:
    """Input positions with a nonzero gradient of output (channel, *index), over a batch of random inputs."""
    generator = torch.Generator().manual_seed(sum(index) + 31 * channel)
    x = torch.randn((BATCH, *shape), dtype=torch.float64, generator=generator, requires_grad=True)
    y = module(x)
    y[(slice(None), channel, *index)].sum().backward()
    return (x.grad.abs().sum(dim=(0, 1)) > 0).numpy()


@pytest.mark.parametrize("name", list(MODULES))
def test_gradient_support_equals_the_region_mask(name):
    torch.manual_seed(0)
    module = MODULES[name]().double().eval()
    shape = INPUTS[name]
    rf = receptive_field(module, input_size=shape[1:])
    with torch.no_grad():
        out_shape = module(torch.zeros((1, *shape), dtype=torch.float64)).shape
    assert tuple(out_shape[2:]) == rf.output_size  # our sizes are PyTorch's
    indices = list(np.ndindex(*rf.output_size))
    for index in indices[:: max(1, len(indices) // 12)] + [indices[-1]]:
        mask = rf.region(index).mask
        assert np.array_equal(_gradient_pattern(module, shape, 0, index), mask), index


@pytest.mark.parametrize("spec", [ConvSpec(4, 6, input_size=(6, 7), kernel_size=(3, 2), stride=(2, 1), padding=(1, 2),
                                           dilation=(1, 2), groups=2),
                                  ConvSpec(3, 3, input_size=5, kernel_size=2, padding="same", groups=3)])
def test_conv_inputs_equal_the_gradient_support_with_channels(spec):
    torch.manual_seed(1)
    conv = nn.Conv2d(spec.in_channels, spec.out_channels, spec.kernel_size, spec.stride, spec.padding,
                     spec.dilation, spec.groups).double()
    for index in np.ndindex(*spec.output_shape):
        x = torch.randn((1, *spec.input_shape), dtype=torch.float64, requires_grad=True)
        conv(x)[(0, *index)].backward()
        assert np.array_equal((x.grad[0] != 0).numpy(), conv_inputs(spec, index)), index


@pytest.mark.parametrize("layer", [Layer(3, 2, 1, kind="avgpool"), Layer((2, 3), (1, 2), (1, 0), kind="avgpool"),
                                   Layer(3, 1, 1, kind="conv"), Layer((3, 2), (2, 1), (0, 1), (1, 2), kind="conv")])
def test_uniform_operators_equal_torch_jacobians(layer):
    """A conv's 𝒲 pattern (block construction) and our avgpool window, against PyTorch's Jacobian."""
    size = (7, 8)
    ops = layer.axes(2)
    if layer.kind == "avgpool":
        module = nn.AvgPool2d(layer.kernel_size, layer.stride, layer.padding, count_include_pad=True)
        scale = np.prod([op.kernel for op in ops])
    else:
        module = nn.Conv2d(1, 1, layer.kernel_size, layer.stride, layer.padding, layer.dilation, bias=False)
        nn.init.ones_(module.weight)
        scale = 1
    module = module.double()
    jac = torch.autograd.functional.jacobian(lambda x: module(x).reshape(-1), torch.zeros((1, 1, *size), dtype=torch.float64))
    ours = layer_operator(layer, size, counts=True).to_dense()
    assert np.allclose(jac.reshape(ours.shape).numpy() * scale, ours, atol=1e-12)


@pytest.mark.parametrize("layer", [Layer(2, 2, kind="maxpool"), Layer(3, 2, 1, 2, kind="maxpool"),
                                   Layer((3, 2), (1, 2), (1, 0), kind="maxpool")])
def test_maxpool_operator_equals_the_union_of_torch_gradients(layer):
    size = (7, 8)
    module = nn.MaxPool2d(layer.kernel_size, layer.stride, layer.padding, layer.dilation)
    ours = layer_operator(layer, size).to_dense().astype(bool)
    torch.manual_seed(2)
    for row, index in enumerate(np.ndindex(*receptive_field([layer], size).output_size)):
        x = torch.randn((BATCH, 1, *size), dtype=torch.float64, requires_grad=True)
        module(x)[(slice(None), 0, *index)].sum().backward()
        assert np.array_equal((x.grad.abs().sum(dim=(0, 1)) > 0).numpy().reshape(-1), ours[row]), index


def test_a_bare_layer_module_is_one_layer():
    rf = receptive_field(nn.MaxPool1d(3, stride=2, dilation=2), input_size=11)
    assert [lf.name for lf in rf.layers] == ["input", "MaxPool1d"] and (rf.size, rf.stride, rf.output_size) == ((5,), (2,), (4,))
    assert receptive_field(nn.ReLU()).size == (1, 1)


def test_module_and_layer_list_agree():
    module = nn.Sequential(nn.Conv2d(3, 8, 7, stride=2, padding=3), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(3, 2, 1))
    from_module = receptive_field(module, input_size=224)
    from_layers = receptive_field([Layer(7, 2, 3), Layer(3, 2, 1, kind="maxpool")], input_size=224)
    assert (from_module.size, from_module.stride, from_module.padding, from_module.output_size) == \
        (from_layers.size, from_layers.stride, from_layers.padding, from_layers.output_size) == \
        ((11, 11), (4, 4), (5, 5), (56, 56))


class Branchy(nn.Module):
    def __init__(self, op):
        super().__init__()
        self.conv = nn.Conv2d(1, 1, 3, padding=1)
        self.op = op

    def forward(self, x):
        return self.op(self, x)


@pytest.mark.parametrize(
    ("module", "message"),
    [
        (nn.Sequential(nn.ConvTranspose2d(1, 1, 3), nn.Upsample(scale_factor=2)),
         r"^module '1' \(Upsample\) is not supported: it is not a convolution"),
        (nn.Sequential(nn.Conv2d(1, 1, 3), nn.AdaptiveAvgPool2d(1)),
         r"^module '1' \(AdaptiveAvgPool2d\) is not supported: adaptive pooling has no fixed kernel"),
        (nn.Sequential(nn.Conv2d(1, 2, 3), nn.GroupNorm(1, 2)),
         r"^module '1' \(GroupNorm\) is not supported: it normalises over spatial positions"),
        (nn.Sequential(nn.Flatten(), nn.Linear(4, 2)), r"^module '0' \(Flatten\) is not supported: it is not a convolution"),
        (nn.Sequential(nn.MaxPool2d(2, ceil_mode=True)), r"^module '0' \(MaxPool2d\) has ceil_mode=True"),
        (Branchy(lambda self, x: torch.cat([x, self.conv(x)], dim=2)),
         r"^node 'cat' concatenates along dim=2; only channels \(dim=1\) keep the spatial grid$"),
        (Branchy(lambda self, x: self.conv(x) if x.sum() > 0 else x),
         r"^cannot read the graph of Branchy: torch\.fx could not trace it"),
        (Branchy(lambda self, x: torch.flip(self.conv(x), dims=(2,))), r"^node 'flip' \(flip\) is not supported; supported: "),
    ],
)
def test_unsupported_modules_raise_one_line(module, message):
    with pytest.raises(SpecError, match=message):
        graph_from_module(module)


def test_pointwise_and_functional_merges_are_read():
    def forward(self, x):
        y = torch.sigmoid(self.conv(x)).relu()
        return x.add(y) * 2 - y

    graph = graph_from_module(Branchy(forward))
    merges = [n for n in graph.nodes if n.layer is None and n.inputs]
    assert [n.name for n in graph.nodes if n.layer is not None] == ["conv"]
    assert all(set(n.inputs) <= {"input", "conv", *(m.name for m in merges)} for n in merges) and len(merges) == 2
    rf = receptive_field(Branchy(forward))
    assert (rf.size, rf.padding) == ((3, 3), (1, 1))
