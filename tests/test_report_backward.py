"""The backprop report (``symconv report --backward``), cross-checked against PyTorch's autograd.

The worked gradient entries are parsed from the printed LaTeX and evaluated at random integers: they must equal
``x.grad``/``w.grad``/``b.grad`` of L = Σ g·conv(x). The printed output padding must make ``F.conv_transpose*d`` return
x's shape and reproduce ``x.grad``. A failing exact check or a refuted all-size proof makes the report say so;
bad flag combinations are one-line errors (exit 2); the source is byte-deterministic and compiles.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from symconv.cli import build_parser, main
from symconv.cli.commands import report as report_command
from symconv.core.spec import ConvSpec
from symconv.errors import SpecError
from symconv.prove import backward as backward_module
from symconv.prove.general import prove_general
from symconv.report import backward_report
from symconv.report import gather_backward as gather_module
from symconv.report.gather_backward import gather_backward
from symconv.report.sections.backward import MAX_WORKED_TERMS, backward_section

torch = pytest.importorskip("torch")
F = torch.nn.functional

SPECS = [
    ConvSpec(2, 2, input_size=5, kernel_size=3, stride=2, padding=1),
    ConvSpec(2, 3, input_size=(6, 5), kernel_size=(3, 2), stride=(2, 3), padding=(1, 0), dilation=(1, 2)),
    ConvSpec(4, 2, input_size=(9,), kernel_size=3, stride=2, dilation=2, padding=1, groups=2),
    ConvSpec(1, 2, input_size=(4, 3, 4), kernel_size=2, stride=(1, 2, 2), bias="none"),
]
CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
TCONV = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}
LAYER = ["--in-channels", "2", "--out-channels", "2", "--input", "5x5", "--kernel", "3", "--stride", "2",
         "--padding", "1"]


def _autograd(spec: ConvSpec, seed: int = 0):
    """x, w, b, g at random integers and autograd's gradients of L = Σ g·conv(x)."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randint(-5, 6, spec.input_shape, generator=gen).double().requires_grad_()
    w = torch.randint(-5, 6, spec.weight_shape, generator=gen).double().requires_grad_()
    b = torch.randint(-5, 6, (spec.out_channels,), generator=gen).double().requires_grad_() if spec.bias != "none" else None
    y = CONV[spec.ndim](x[None], w, b, stride=spec.stride, padding=spec.padding_before, dilation=spec.dilation,
                        groups=spec.groups)[0]
    g = torch.randint(-5, 6, y.shape, generator=gen).double()
    (g * y).sum().backward()
    values = {"x": x.detach().numpy(), "omega": w.detach().numpy(), "g": g.numpy()}
    return values, x.grad, w.grad, (None if b is None else b.grad)


_FACTOR = re.compile(r"(\\omega|x|g)_\{([\d,]+)\}")


def _value(line_terms: str, values: dict[str, np.ndarray]) -> float:
    """The sum of products printed, e.g. ``\\omega_{0,0,1,1}\\, g_{0,1,1} + …``, at ``values``."""
    if line_terms == "0":
        return 0.0
    total = 0.0
    for term in line_terms.split(" + "):
        product = 1.0
        for name, index in _FACTOR.findall(term):
            product *= values[name.lstrip("\\")][tuple(int(i) for i in index.split(","))]
        total += product
    return total


def _printed_entry(entry: str) -> tuple[str, tuple[int, ...]]:
    name, index = re.search(r"\\partial (\\omega|x|b)_\{([\d,]+)\}", entry).groups()
    return name.lstrip("\\"), tuple(int(i) for i in index.split(","))


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.describe())
def test_worked_entries_equal_torch_autograd(spec):
    values, dx, dw, db = _autograd(spec)
    section = backward_section(gather_backward(spec))
    grads = {"x": dx.numpy(), "omega": dw.numpy(), "b": None if db is None else db.numpy()}
    assert len(section.worked) == (2 if spec.bias == "none" else 3)
    for worked in section.worked:
        name, index = _printed_entry(worked.entry)
        printed = _value(" + ".join(worked.lines), values)
        assert printed == pytest.approx(grads[name][index], abs=1e-9), (name, index)
        assert worked.count == len(" + ".join(worked.lines).split(" + ")) or worked.lines == ("0",)
        assert worked.count <= MAX_WORKED_TERMS  # every product printed, so the value above is the whole entry


@pytest.mark.parametrize("spec", [s for s in SPECS if s.ndim == 2] + [
    ConvSpec(1, 1, input_size=6, kernel_size=3, stride=2, padding=1),  # a = 1 on both axes
    ConvSpec(2, 2, input_size=(7, 8), kernel_size=3, stride=3, dilation=(2, 1), groups=2)], ids=lambda s: s.describe())
def test_printed_output_padding_gives_x_shape_and_x_grad(spec):
    values, dx, _, _ = _autograd(spec, seed=1)
    section = backward_section(gather_backward(spec))
    a = tuple(int(re.search(r"= (\d+)$", line).group(1)) for line in section.output_padding)
    w, g = torch.from_numpy(values["omega"]), torch.from_numpy(values["g"])
    z = F.conv_transpose2d(g[None], w, stride=spec.stride, padding=spec.padding_before, output_padding=a,
                           dilation=spec.dilation, groups=spec.groups)[0]
    assert tuple(z.shape) == spec.input_shape
    assert torch.equal(z, dx)
    assert f"output_padding {'×'.join(map(str, a))}" in section.transposed


def test_a_long_worked_entry_is_elided_with_the_count():
    spec = ConvSpec(1, 1, input_size=(40,), kernel_size=3)  # ∂L/∂ω sums over 38 output positions
    w = backward_section(gather_backward(spec)).worked[1]
    assert w.count == 38 and w.lines[-1].endswith(r"\text{(6 more)}")
    assert sum(line.count(r"\,") for line in w.lines) == MAX_WORKED_TERMS


def test_output_padding_differs_from_zero_somewhere():
    # the formula is exercised: a non-zero remainder is printed and still gives x's shape (test above)
    section = backward_section(gather_backward(ConvSpec(1, 1, input_size=6, kernel_size=3, stride=2, padding=1)))
    assert [line.endswith("= 1") for line in section.output_padding] == [True, True]


def test_cli_writes_the_report(tmp_path, capsys):
    out = tmp_path / "b.tex"
    assert main(["report", "--backward", *LAYER, "-o", str(out)]) == 0
    tex = out.read_text()
    assert r"\section{The three identities}" in tex and r"\label{symconv-thm:backward-all}" in tex
    assert "symconv report -{}-backward -{}-in-channels 2" in tex  # the footer's command reproduces it
    assert r"the three identities \symconvholds{}" in tex and r"\begin{symconvtheorem}[all sizes]" in tex


@pytest.mark.parametrize("extra, flag", [
    (["--transposed"], "--transposed"), (["--timings"], "--timings"), (["--position", "0x0"], "--position")])
def test_cli_bad_combinations_with_a_layer(capsys, extra, flag):
    assert main(["report", "--backward", *LAYER, *extra, "-o", "-"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"symconv report: error: --backward reports on one convolution layer; it cannot be combined with {flag}"


@pytest.mark.parametrize("mode, flag", [(["--audit"], "--audit"), (["--note"], "--note"),
                                        (["--layers", "conv:k=3", "--input", "8x8"], "--layers")])
def test_cli_bad_combinations_with_other_reports(capsys, mode, flag):
    assert main(["report", "--backward", *mode, "-o", "-"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"symconv report: error: --backward reports on one convolution layer; it cannot be combined with {flag}"


def test_padding_mode_other_than_zeros_is_refused():
    spec = ConvSpec(1, 1, input_size=4, kernel_size=3, padding=1, padding_mode="reflect")
    with pytest.raises(SpecError, match=r"^padding_mode must be 'zeros' for the backprop report, got 'reflect'$"):
        backward_report(spec)
    args = build_parser().parse_args(["report", "--backward", *LAYER, "-o", "-"])
    args.padding_mode = "circular"  # what the padding-mode flag sets
    with pytest.raises(SpecError, match=r"^--padding-mode must be 'zeros' for --backward .*got 'circular'$"):
        report_command.document(args)


def test_a_failing_exact_check_says_fails(monkeypatch):
    real = backward_module.grad_bias

    def lazy(spec, g):  # forgets the last output position: wrong only where a lazy check does not look
        g = np.array(g, dtype=object)
        g.reshape(g.shape[0], -1)[:, -1] = 0
        return real(spec, g)

    monkeypatch.setattr(backward_module, "grad_bias", lazy)
    spec = ConvSpec(1, 2, input_size=(5,), kernel_size=3)
    tex = backward_report(spec)
    assert r"At this layer's sizes the three identities \symconvfails" in tex
    assert r"$\partial L/\partial b = \sum g$ & \symconvfails & 2 & 2" in tex
    assert "First difference" in tex


def test_a_refuted_all_size_proof_says_not_proved(monkeypatch):
    refuted = prove_general(identities=("backward",), adjoint="grad_weight_stride_dilation_swapped", rechecks=5)
    monkeypatch.setattr(gather_module, "backward_general", lambda bias="shared": refuted)
    tex = backward_report(SPECS[0])
    assert r"\begin{symconvclaim}[all sizes; \emph{not proved}]" in tex
    assert "its step ``grad weight'' is\nrefuted" in tex
    assert r"\begin{symconvtheorem}[all sizes]" not in tex
    assert "The all-size claim is not proved, so nothing follows from it" in tex
    assert r"the three identities \symconvholds" in tex  # the exact check at this layer's sizes still holds


def test_all_size_theorem_for_2d_only():
    tex_2d = backward_report(SPECS[0])
    assert r"\begin{symconvtheorem}[all sizes]" in tex_2d and "instance of\nTheorem" in tex_2d
    for spec in (SPECS[2], SPECS[3], ConvSpec(1, 1, input_size=4, kernel_size=2, padding="same")):
        tex = backward_report(spec)
        assert "symconv-thm:backward-all" not in tex
        assert r"\paragraph{What is not claimed.}" in tex


def test_per_side_padding_has_no_conv_transpose():
    section = backward_section(gather_backward(ConvSpec(1, 1, input_size=4, kernel_size=2, padding="same")))
    assert section.transposed is None and section.output_padding == () and section.holds


def test_bytes_are_deterministic():
    first = backward_report(SPECS[1], command="c").encode()
    assert backward_report(SPECS[1], command="c").encode() == first


def test_compiles_with_pdflatex(tmp_path):
    from symconv.report import build_pdf

    result = build_pdf(backward_report(SPECS[0], date="6 December 2026"), tmp_path / "b.pdf")
    assert result.path.read_bytes().startswith(b"%PDF") and result.pages >= 2
    assert result.overfull_boxes == 0
