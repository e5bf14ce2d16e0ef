"""Reports on 1-D and 3-D layers: what they print, cross-checked against PyTorch and against independent formulas.

The printed 𝒲 is compared with the Jacobian of PyTorch's convolution, the receptive field with the inputs that
autograd says an output depends on, the parameter count with the torch module's; a corrupted 𝒲 must make the
report say "fails", never "holds".
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import sympy

from symconv import ConvSpec
from symconv.cli import main
from symconv.core.symbols import weight_array
from symconv.forms.built import built_matrix
from symconv.prove import verify as verify_module
from symconv.report import gather_nd, spec_report
from symconv.report.gather_nd import gather_nd_layer, matrix_entries

torch = pytest.importorskip("torch")
F = torch.nn.functional

LAYERS = [
    ConvSpec(2, 2, input_size=(7,), kernel_size=3, stride=2, padding=1),
    ConvSpec(2, 4, input_size=(9,), kernel_size=3, dilation=2, groups=2),
    ConvSpec(1, 2, input_size=(3, 4, 3), kernel_size=(2, 3, 1), padding=(1, 0, 1)),
    ConvSpec(2, 1, input_size=(3, 3, 3), kernel_size=2, stride=(1, 2, 1)),
]
TORCH_CONV = {1: F.conv1d, 3: F.conv3d}


def _torch_weights(spec: ConvSpec) -> tuple[torch.Tensor, dict[sympy.Symbol, float]]:
    g = torch.Generator().manual_seed(0)
    w = torch.randn(spec.weight_shape, generator=g, dtype=torch.float64)
    return w, dict(zip(weight_array(spec).reshape(-1).tolist(), w.reshape(-1).tolist()))


def _conv(spec: ConvSpec, w: torch.Tensor):
    return lambda x: TORCH_CONV[spec.ndim](x, w, stride=spec.stride, padding=spec.padding_before,
                                           dilation=spec.dilation, groups=spec.groups)


@pytest.mark.parametrize("spec", LAYERS, ids=lambda s: s.describe())
def test_printed_W_is_the_jacobian_of_torch_conv(spec):
    w, values = _torch_weights(spec)
    x = torch.zeros((1, *spec.input_shape), dtype=torch.float64)
    jac = torch.autograd.functional.jacobian(_conv(spec, w), x).reshape(spec.d_y, spec.d_x).numpy()
    results = gather_nd_layer(spec)
    # the whole 𝒲 when printed, else the construction the report draws and lists rows from
    W = results.W if results.W is not None else built_matrix(spec)
    np.testing.assert_allclose(np.array(W.subs(values).tolist(), dtype=float), jac, atol=1e-12)
    assert results.nnz == np.count_nonzero(jac)
    row = jac[int(np.ravel_multi_index(results.position, spec.output_size))]  # output channel 0
    assert [c for c, _ in results.row] == np.flatnonzero(row).tolist()
    np.testing.assert_allclose([float(values[w]) for _, w in results.row], row[row != 0])


@pytest.mark.parametrize("spec", LAYERS, ids=lambda s: s.describe())
def test_receptive_field_is_what_autograd_says_the_output_depends_on(spec):
    w, _ = _torch_weights(spec)
    results = gather_nd_layer(spec)
    x = torch.randn((1, *spec.input_shape), dtype=torch.float64, requires_grad=True)
    y = _conv(spec, w)(x)
    for channel in range(spec.out_channels):
        (grad,) = torch.autograd.grad(y[(0, channel, *results.position)], x, retain_graph=True)
        touched = grad[0].abs().sum(dim=0).numpy() != 0  # per spatial position, over the channels
        assert int(touched.sum()) == results.cells
    assert results.disagreement is None and results.rows_checked == spec.out_channels


@pytest.mark.parametrize("spec", LAYERS, ids=lambda s: s.describe())
def test_counts_match_the_torch_module(spec):
    module = {1: torch.nn.Conv1d, 3: torch.nn.Conv3d}[spec.ndim](
        spec.in_channels, spec.out_channels, spec.kernel_size, groups=spec.groups, bias=spec.bias != "none")
    found = {r.formula.name: int(r.value) for r in gather_nd_layer(spec).counts.rows}
    assert found[f"params_conv_{spec.bias}"] == sum(p.numel() for p in module.parameters())


def test_the_kronecker_structure_the_report_states():
    # 𝒲_{i,l} = Σ_taps ω_{i,l,t} ⊗_a S^(a)_{t_a}, S^(a)_t with ones at (o, o·s − p + t·d): built here from the sentence
    spec = LAYERS[2]
    W = np.array(built_matrix(spec).subs(_torch_weights(spec)[1]).tolist(), dtype=float)
    w = _torch_weights(spec)[0].numpy()

    def shift(n_out, n_in, s, p, d, t):
        S = np.zeros((n_out, n_in))
        for o in range(n_out):
            if 0 <= o * s - p + t * d < n_in:
                S[o, o * s - p + t * d] = 1
        return S

    p_out, p_in = math.prod(spec.output_size), math.prod(spec.input_size)
    for i in range(spec.out_channels):
        for l in range(spec.in_channels):
            block = np.zeros((p_out, p_in))
            for taps in np.ndindex(*spec.kernel_size):
                factor = np.ones((1, 1))
                for a, t in enumerate(taps):
                    factor = np.kron(factor, shift(spec.output_size[a], spec.input_size[a], spec.stride[a],
                                                   spec.padding_before[a], spec.dilation[a], t))
                block += w[i, l][taps] * factor
            np.testing.assert_allclose(W[i * p_out:(i + 1) * p_out, l * p_in:(l + 1) * p_in], block)


def test_report_text_reads_as_the_layer_and_never_claims_all_sizes():
    tex = spec_report(LAYERS[0])
    assert r"y_{i,j} = b_{i} + \sum_{l=0}^{1}\sum_{m=0}^{2} \omega_{i,l,m}\, x_{l,2 j + m - 1}" in tex
    assert "It does not cover this\n1-D layer; here the identity is proved for the sizes above only." in tex
    body = tex[tex.index(r"\begin{document}"):]
    assert r"\symconvholds" in body and r"\symconvfails" not in body
    tex3 = spec_report(LAYERS[2])
    assert r"y_{i,j,k,q} = b_{i} + \sum_{l=0}^{0}\sum_{m=0}^{1}\sum_{n=0}^{2}\sum_{u=0}^{0}" in tex3
    assert r"\title{The 3-D convolution 1 \ensuremath{\to} 2 channels, 3\ensuremath{\times}4\ensuremath{\times}3 input" in tex3


def test_a_wrong_W_makes_the_report_say_fails(monkeypatch):
    spec = LAYERS[0]
    wrong = built_matrix(spec).as_mutable()
    r, c = next((r, c) for r in range(wrong.rows) for c in range(wrong.cols) if wrong[r, c] != 0)
    wrong[r, c] = 0  # one weight dropped where a lazy check (shapes, counts of rows) does not look

    def corrupted(spec_, method):
        return verify_module.verify(spec_, method=method, matrix=wrong)

    monkeypatch.setattr(gather_nd, "verify", corrupted)
    tex = spec_report(spec)
    theorem = tex[tex.index(r"\begin{symconvtheorem}"):tex.index(r"\end{symconvtheorem}")]
    assert r"\symconvfails" in theorem and r"\symconvholds" not in theorem
    assert re.search(r"\\symconvfails & \d+ & 1 of 8", tex)
    assert ("First difference (\\texttt{index}): output $y_{0,0}$; terms only in the index sum: $\\omega_{0,0,1} x_{0,0}$; "
            "only in $\\symconvW x + b$: none.") in tex


def test_the_row_check_catches_a_missing_entry(monkeypatch):
    spec = LAYERS[1]
    entries = matrix_entries(spec)
    keep = np.ones(len(entries.rows), dtype=bool)
    keep[np.flatnonzero(entries.rows == 1 * math.prod(spec.output_size) + 2)[0]] = False  # channel 1, position 2
    damaged = gather_nd.MatrixEntries(entries.rows[keep], entries.cols[keep], entries.weights[keep], entries.shape)
    found = gather_nd._row_disagreement(spec, damaged, (2,))
    assert found is not None and (found.row, found.extra, found.missing) == (1, 0, 1)


def test_cli_writes_1d_and_3d_reports(tmp_path, capsys):
    out = tmp_path / "r.tex"
    assert main(["report", "--in-channels", "2", "--out-channels", "2", "--kernel", "3", "--input", "16", "--ndim", "1",
                 "-o", str(out)]) == 0
    assert "--input 16 --kernel 3 --ndim 1" in out.read_text().replace("-{}-", "--")
    assert main(["report", "--in-channels", "2", "--out-channels", "2", "--kernel", "3", "--input", "4x4x4",
                 "--position", "1x0x1", "-o", str(out)]) == 0
    assert "Output $(1,0,1)$ (every output channel)" in out.read_text()


@pytest.mark.parametrize(
    "args,message",
    [
        (["--input", "16", "--ndim", "1", "--position", "14"], "position must be within 0..13 (0-based), got (14,)"),
        (["--input", "16", "--ndim", "1", "--position", "1x1"],
         "--position must have 1 index (one per spatial axis of the output, e.g. 0), got '1x1'"),
        (["--input", "4x4x4", "--position", "0x0"],
         "--position must have 3 indexes (one per spatial axis of the output, e.g. 0x0x0), got '0x0'"),
        (["--input", "8", "--ndim", "1", "--timings"], "timings are printed in the 2-D layer report only; this layer is 1-D"),
        (["--input", "4x4x4", "--position", "a"], "--position must be 3 ints joined by x with 0-based ints (e.g. 0x0x0), "
                                                  "got 'a'"),
    ],
)
def test_bad_position_is_one_line_exit_2(args, message, tmp_path, capsys):
    argv = ["report", "--in-channels", "1", "--out-channels", "1", "--kernel", "3", *args, "-o", str(tmp_path / "r.tex")]
    assert main(argv) == 2
    assert capsys.readouterr().err == f"symconv report: error: {message}\n"
