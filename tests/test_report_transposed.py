"""Reports on transposed layers and on stacks with transposed layers, cross-checked against PyTorch.

The output size printed is torch's ``F.conv_transpose*d`` output shape, the printed 𝒲ᵀ the Jacobian of
``F.conv_transpose*d``, the worked output its value, the parameter count the torch module's, the receptive field
the inputs autograd says an output depends on. A wrong definition makes the report say "fails"; bad flag
combinations are one-line errors, exit 2.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import replace

import numpy as np
import pytest
import sympy

from symconv.cli import main
from symconv.core.symbols import weight_array
from symconv.core.transposed import ConvTransposeSpec
from symconv.forms.transposed import BilinearTerms, transposed_direct, transposed_input, transposed_matrix
from symconv.prove import transposed as prove_module
from symconv.receptive.field import receptive_field
from symconv.receptive.layers import parse_layer
from symconv.report import gather, gather_nd, layers_report, transposed_report
from symconv.report.gather import check_masks, gather_stack
from symconv.report.gather_nd import gather_transposed
from symconv.report.sections.nd import transposed_section

torch = pytest.importorskip("torch")
F = torch.nn.functional

LAYERS = [
    ConvTransposeSpec(2, 1, input_size=3, kernel_size=3, stride=2, padding=1, output_padding=1),
    ConvTransposeSpec(2, 4, input_size=(4,), kernel_size=2, stride=3, dilation=2, groups=2, output_padding=1),
    ConvTransposeSpec(1, 2, input_size=(2, 2, 1), kernel_size=(2, 1, 3), stride=(2, 1, 1), padding=(0, 0, 1)),
]
TORCH = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}
MODULE = {1: torch.nn.ConvTranspose1d, 2: torch.nn.ConvTranspose2d, 3: torch.nn.ConvTranspose3d}


def _weights(spec: ConvTransposeSpec) -> tuple[torch.Tensor, torch.Tensor, dict[sympy.Symbol, float]]:
    g = torch.Generator().manual_seed(1)
    w = torch.randn(spec.weight_shape, generator=g, dtype=torch.float64)
    b = torch.randn(spec.out_channels, generator=g, dtype=torch.float64)
    values = dict(zip(weight_array(spec.forward_spec()).reshape(-1).tolist(), w.reshape(-1).tolist()))
    return w, b, values


def _tconv(spec: ConvTransposeSpec, w: torch.Tensor, b: torch.Tensor | None = None):
    return lambda y: TORCH[spec.ndim](y, w, b, stride=spec.stride, padding=spec.padding,
                                      output_padding=spec.output_padding, groups=spec.groups, dilation=spec.dilation)


@pytest.mark.parametrize("spec", LAYERS, ids=lambda s: s.describe())
def test_printed_output_size_is_torchs(spec):
    w, _, _ = _weights(spec)
    shape = _tconv(spec, w)(torch.zeros((1, *spec.input_shape), dtype=torch.float64)).shape[2:]
    tex = transposed_report(spec)
    printed = [int(v) for v in re.findall(r"\\text\{\w+: \} \(\d+ - 1\)\\cdot \d+ - 2\\cdot \d+ .*= (\d+)", tex)]
    assert printed == list(shape)


@pytest.mark.parametrize("spec", LAYERS, ids=lambda s: s.describe())
def test_printed_WT_is_the_jacobian_of_torch_conv_transpose(spec):
    w, _, values = _weights(spec)
    y = torch.zeros((1, *spec.input_shape), dtype=torch.float64)
    jac = torch.autograd.functional.jacobian(_tconv(spec, w), y).reshape(spec.d_out, spec.d_in).numpy()
    results = gather_transposed(spec)
    WT = results.WT if results.WT is not None else transposed_matrix(spec)  # printed when small
    assert (results.WT is None) == (spec.d_out > gather_nd.MAX_EXPLICIT_WT_ROWS)
    np.testing.assert_allclose(np.array(WT.subs(values).tolist(), dtype=float), jac, atol=1e-12)


@pytest.mark.parametrize("spec", LAYERS, ids=lambda s: s.describe())
def test_worked_output_and_receptive_field_against_torch(spec):
    w, b, values = _weights(spec)
    results = gather_transposed(spec)
    y = torch.randn((1, *spec.input_shape), dtype=torch.float64, requires_grad=True)
    z = _tconv(spec, w, b if spec.bias else None)(y)
    out = z[(0, 0, *results.position)]
    ys = dict(zip(transposed_input(spec).reshape(-1).tolist(), y.detach().reshape(-1).tolist()))
    worked = sum(float(values[wt]) * ys[yy] for wt, yy in results.products)
    worked += float(b[0]) if results.bias is not None else 0.0
    assert worked == pytest.approx(float(out.detach()), abs=1e-12)
    (grad,) = torch.autograd.grad(out, y)
    assert int((grad[0, 0] != 0).sum()) == results.cells and (results.extra, results.missing) == (0, 0)


@pytest.mark.parametrize("spec", LAYERS, ids=lambda s: s.describe())
def test_counts_match_the_torch_module(spec):
    module = MODULE[spec.ndim](spec.in_channels, spec.out_channels, spec.kernel_size, groups=spec.groups,
                               bias=spec.bias)
    params = {name: value for name, _, value in transposed_section(gather_transposed(spec)).counts}["parameters"]
    assert params.replace(r"\,", "") == str(sum(p.numel() for p in module.parameters()))


def test_a_wrong_definition_makes_the_report_say_fails(monkeypatch):
    spec = LAYERS[0]

    def shifted(spec_):  # the definition with one output entry replaced by its neighbour's
        z = np.array(transposed_direct(spec_).tolist(), dtype=object)
        z[0, 0, 1] = z[0, 0, 0]
        return sympy.ImmutableDenseNDimArray(z.reshape(-1).tolist(), z.shape)

    monkeypatch.setattr(gather_nd, "prove_transposed",
                        lambda s, method: prove_module.prove_transposed(s, "sympy", definition=shifted))
    tex = transposed_report(spec)
    theorem = tex[tex.index(r"\begin{symconvtheorem}"):tex.index(r"\end{symconvtheorem}")]
    assert r"\symconvfails" in theorem and r"\symconvholds" not in theorem
    assert "First difference (matrix, \\texttt{sympy}): at (0, 0, 1)" in tex


def test_stack_with_tconv_regions_match_torch_and_say_no_summary():
    layers = [parse_layer("conv:k=3,s=2,p=1"), parse_layer("tconv:k=3,s=2,p=1,op=1")]
    stack = gather_stack(layers, (8, 8))
    assert stack.check is None and stack.masks is not None and stack.masks.holds and stack.masks.outputs == 64
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 1, 3, stride=2, padding=1, bias=False),
                              torch.nn.ConvTranspose2d(1, 1, 3, stride=2, padding=1, output_padding=1, bias=False))
    torch.nn.init.uniform_(net[0].weight, 0.5, 1.0)
    torch.nn.init.uniform_(net[1].weight, 0.5, 1.0)  # positive weights: no accidental cancellation
    x = torch.randn(1, 1, 8, 8, requires_grad=True)
    (grad,) = torch.autograd.grad(net(x)[(0, 0, *stack.index)], x)
    assert np.array_equal(grad[0, 0].numpy() != 0, stack.region.mask)
    tex = layers_report(layers, (8, 8))
    assert "is not a rectangle/stride pattern, so it has no single size, stride and padding" in tex
    assert "exact region of every one of the 64\noutputs" in tex and "the regions\n\\symconvholds." in tex


def test_mask_check_fails_on_the_wrong_field():
    layers = [parse_layer("conv:k=3,s=2"), parse_layer("tconv:k=3,s=2")]
    other = receptive_field([parse_layer("conv:k=3,s=2"), parse_layer("tconv:k=3,s=2,p=1")], input_size=(8, 8))
    wrong = check_masks(layers, other)  # regions of a padded tconv against the product of the unpadded one
    assert not wrong.holds and wrong.mismatch.startswith("output (")


BASE = ["--in-channels", "1", "--out-channels", "1", "--input", "3x3", "--kernel", "3"]


@pytest.mark.parametrize(
    "args,message",
    [
        (["--transposed", "--layers", "conv:k=3", "--input", "8x8"],
         "--transposed describes one ConvTranspose layer; it cannot be combined with --layers (a stack takes "
         "tconv:k=…,s=… layers)"),
        (["--transposed", "--audit"], "--transposed describes one ConvTranspose layer; it cannot be combined with "
                                      "--audit (a stack takes tconv:k=…,s=… layers)"),
        (["--transposed", "--note"], "--transposed describes one ConvTranspose layer; it cannot be combined with "
                                     "--note (a stack takes tconv:k=…,s=… layers)"),
        ([*BASE, "--output-padding", "1"], "--output-padding needs --transposed (it is a ConvTranspose parameter)"),
        (["--transposed", *BASE, "--bias", "per_location"],
         "--bias must be 'shared' or 'none' for --transposed (ConvTranspose has one bias per channel), got 'per_location'"),
        (["--transposed", *BASE, "--output-padding", "1"],
         "output_padding must be < stride or < dilation on every axis (as in PyTorch), got output_padding=(1, 1), "
         "stride=(1, 1), dilation=(1, 1)"),
        (["--transposed", *BASE, "--position", "5x0"], "position must be within 0..4 x 0..4 (0-based), got (5, 0)"),
        (["--transposed", *BASE, "--position", "1"],
         "--position must have 2 indexes (one per spatial axis of the output, e.g. 0x0), got '1'"),
        (["--transposed", *BASE, "--padding", "same"],
         "--padding must be ints for --transposed (ConvTranspose has no 'same'/'valid'), got 'same'"),
    ],
)
def test_bad_combinations_are_one_line_exit_2(args, message, tmp_path, capsys):
    assert main(["report", *args, "-o", str(tmp_path / "r.tex")]) == 2
    assert capsys.readouterr().err == f"symconv report: error: {message}\n"


def test_cli_transposed_report_records_its_command(tmp_path, capsys):
    out = tmp_path / "t.tex"
    assert main(["report", "--transposed", *BASE, "--stride", "2", "--output-padding", "1", "-o", str(out)]) == 0
    tex = out.read_text()
    assert "symconv report -{}-transposed -{}-in-channels 1" in tex and "-{}-output-padding 1" in tex
    assert r"\title{The transposed convolution 1 \ensuremath{\to} 1 channels" in tex
    assert main(["report", "--transposed", *BASE, "--stride", "2", "--output-padding", "1", "-o", str(out)]) == 0
    assert out.read_text() == tex  # deterministic


def test_one_dimensional_stack_with_tconv_matches_torch(tmp_path):
    out = tmp_path / "s.tex"
    assert main(["report", "--layers", "conv:k=3,s=2", "tconv:k=3,s=2", "--input", "12", "--ndim", "1",
                 "-o", str(out)]) == 0
    tex = out.read_text()
    assert "-{}-input 12 -{}-ndim 1" in tex and "a 12 input to a 11 output" in tex
    stack = gather_stack([parse_layer("conv:k=3,s=2"), parse_layer("tconv:k=3,s=2")], (12,))
    net = torch.nn.Sequential(torch.nn.Conv1d(1, 1, 3, stride=2, bias=False),
                              torch.nn.ConvTranspose1d(1, 1, 3, stride=2, bias=False))
    for module in net:
        torch.nn.init.uniform_(module.weight, 0.5, 1.0)
    x = torch.randn(1, 1, 12, requires_grad=True)
    z = net(x)
    assert tuple(z.shape[2:]) == stack.output_size
    for o in range(z.shape[2]):  # every output: its exact region is what autograd says it depends on
        (grad,) = torch.autograd.grad(z[0, 0, o], x, retain_graph=True)
        assert np.array_equal(grad[0, 0].numpy() != 0, stack.field.region((o,)).mask)
    assert stack.masks is not None and stack.masks.holds


def test_stack_ndim_must_match_the_input(tmp_path, capsys):
    assert main(["report", "--layers", "conv:k=3", "--input", "12x12", "--ndim", "1", "-o", str(tmp_path / "s.tex")]) == 2
    assert capsys.readouterr().err == ("symconv report: error: --input must have 1 size (one per spatial axis, as --ndim 1 "
                                       "gives), got '12x12'\n")


def test_a_wrong_WT_row_makes_the_receptive_check_fail(monkeypatch):
    spec = LAYERS[0]
    real = gather_nd.transposed_matrix_terms

    def dropped(s):  # the row of the output shown loses its first input position
        t = real(s)
        row = t.out == int(np.ravel_multi_index(tuple(n // 2 for n in s.output_size), s.output_size))
        keep = ~(row & (t.b == t.b[row].min()))
        return BilinearTerms(t.out[keep], t.a[keep], t.b[keep], t.out_shape)

    monkeypatch.setattr(gather_nd, "transposed_matrix_terms", dropped)
    results = gather_transposed(spec)
    assert (results.extra, results.missing) == (0, 1)
    tex = transposed_report(spec)
    assert "the region\n\\symconvfails: 0 columns outside it, 1 positions missing." in tex


# ----------------------------------------------------------------------------- the all-size theorem (2-D)
RESTRICTED = ConvTransposeSpec(1, 1, input_size=(3, 3), kernel_size=2, stride=1, dilation=2, output_padding=1)


def _between(tex: str, start: str, end: str) -> str:
    return tex[tex.index(start):tex.index(end, tex.index(start))]


def _printed_values(tex: str) -> dict[str, int]:
    """The theorem's sizes as the report gives them for this layer ("$H' = 3$, …" in the paragraph "For this layer")."""
    paragraph = _between(tex, r"\paragraph{For this layer.}", r"\paragraph{The matrix.}")
    return {name: int(v) for name, v in re.findall(r"\$([A-Za-z]'?(?:_\w)?) = (\d+)\$", paragraph)}


def _torch_matrix(fn, in_shape: tuple[int, ...]) -> np.ndarray:
    """The matrix of a linear torch map on inputs of ``in_shape``: its Jacobian, rows the flat outputs (C-order)."""
    jac = torch.autograd.functional.jacobian(fn, torch.zeros((1, *in_shape), dtype=torch.float64))
    out = int(np.prod(jac.shape[:jac.dim() - len(in_shape) - 1]))
    return jac.reshape(out, -1).numpy()


def test_the_2d_report_states_and_proves_the_all_size_theorem():
    spec = LAYERS[0]
    proof = gather_nd.transposed_general()
    tex = transposed_report(spec)
    assert tex.index(r"\begin{symconvtheorem}[this layer]") < tex.index(r"\begin{symconvtheorem}[all sizes]")
    assert "What is not claimed" not in tex and "does not prove this transposed identity" not in tex
    abstract = _between(tex, r"\begin{abstract}", r"\end{abstract}")
    assert r"proves the identity for every size of a 2-D layer (Theorem~\ref{symconv-thm:transposed-all})" in abstract
    part = _between(tex, r"\begin{symconvtheorem}[all sizes]", r"\paragraph{The matrix.}")
    assert r"\operatorname{conv}^{\top}(y) = \symconvW_{o<H'}^{\top} y + b_T" in part and r"\end{proof}" in part
    # every step of the prover's proof: the lemma steps as (L1), (L2), …, the transposed ones among them
    lemmas = [s.name for s in proof.steps if s.lemma]
    assert {"transposed_coefficient", "transposed_size", "transposed_entry"} <= set(lemmas)
    labels = re.findall(r"\\item\\label\{symconv-lem:([\w-]+)\}", part)
    assert labels == [name.replace("_", "-") for name in lemmas]
    assert part.count(r"\label{symconv-eq:thm-") == len(proof.steps) - len(lemmas)
    assert f"on {gather.GENERAL_RECHECKS} concrete layers" in part
    assert not re.search(r"\d\s*ms\b|seconds|\d\.\d+\s*s\b", part), "a timing in the .tex makes it non-deterministic"
    # the layer is an instance: its sizes, read back from the report, are torch's and satisfy the hypotheses
    values = _printed_values(tex)
    w, _, _ = _weights(spec)
    out = _tconv(spec, w)(torch.zeros((1, *spec.input_shape), dtype=torch.float64)).shape
    assert (values["C_1"], values["H"], values["W"]) == tuple(out[1:])
    assert (values["C_2"], values["H'"], values["W'"]) == spec.input_shape
    hypotheses = dict(proof.conditions)["the conv_transpose identities"]
    assert hypotheses.subs({s: values[str(s)] for s in hypotheses.free_symbols if str(s) in values}) == sympy.true
    assert "Here $a < s$ along every axis" in part and "finding" not in part


def test_with_a_at_least_s_the_report_states_the_restriction_and_the_finding():
    spec = RESTRICTED
    tex = transposed_report(spec)
    paragraph = _between(tex, r"\paragraph{For this layer.}", r"\paragraph{The matrix.}")
    assert r"Here $a \ge s$ along the height ($a_h = 1 \ge s_h = 1$) and width" in paragraph
    # Theorem 1's lead-in says which rows of 𝒲 it means; a layer with a < s says nothing of the kind
    lead_in = " ".join(_between(tex, r"\section{The theorem", r"\begin{align*}").split())
    assert r"here $a \ge s$ along the height and width" in lead_in and "its rows at the output positions $o < n$" in lead_in
    assert r"here $a \ge s$" not in transposed_report(replace(spec, stride=(2, 2), dilation=(1, 1)))
    assert r"gives $\operatorname{conv}^{\top}(y) =" in paragraph and r"\symconvW_{o<H'}^{\top} y + b$ only" in paragraph
    # torch: the convolution at this layer's output size has 4×4 outputs, and conv_transpose is 𝒲ᵀ of its rows o < 3
    w, _, _ = _weights(spec)
    conv = _torch_matrix(lambda x: F.conv2d(x, w, stride=spec.stride, padding=spec.padding, dilation=spec.dilation),
                         (spec.out_channels, *spec.output_size))
    forward_out = F.conv2d(torch.zeros((1, spec.out_channels, *spec.output_size), dtype=torch.float64), w,
                           dilation=spec.dilation).shape[2:]
    words = " ".join(paragraph.replace(r"\ensuremath{\times}", "×").split())
    assert f"transposes has {forward_out[0]}×{forward_out[1]} output positions" in words
    assert tuple(forward_out) == (4, 4) != spec.input_size
    rows = np.array([(o_h, o_w) for o_h in range(forward_out[0]) for o_w in range(forward_out[1])])
    kept = (rows[:, 0] < spec.input_size[0]) & (rows[:, 1] < spec.input_size[1])
    tconv = _torch_matrix(_tconv(spec, w), spec.input_shape)
    assert np.allclose(tconv, conv[kept].T) and not np.allclose(tconv.shape, conv.T.shape)
    # the finding: the layer Z3 named is a valid ConvTranspose2d whose forward size is not its input size (torch)
    finding = paragraph[paragraph.index("The prover's finding"):]
    sizes = {name: int(v) for name, v in re.findall(r"\$([A-Za-z](?:_\w)?'?) = (\d+)\$", finding)}
    s, p, d, a = ((sizes[f"{x}_h"], sizes[f"{x}_w"]) for x in "spda")
    n, k = (sizes["H'"], sizes["W'"]), (sizes["h"], sizes["w"])
    weight = torch.ones((sizes["C_2"], sizes["C_1"], *k), dtype=torch.float64)
    z = F.conv_transpose2d(torch.zeros((1, sizes["C_2"], *n), dtype=torch.float64), weight, stride=s, padding=p,
                           output_padding=a, dilation=d)
    assert tuple(z.shape[2:]) == (sizes["H"], sizes["W"])
    back = F.conv2d(z, weight, stride=s, padding=p, dilation=d)
    assert tuple(back.shape[2:]) != n


@pytest.mark.parametrize("status", ["refuted", "undetermined"])
def test_an_all_size_proof_that_did_not_go_through_is_never_printed_as_proved(monkeypatch, status):
    proof = gather_nd.transposed_general()
    at = [s.name for s in proof.steps].index("transposed_entry")
    failed = dataclasses.replace(proof.steps[at], status=status)
    broken = dataclasses.replace(proof, steps=(*proof.steps[:at], failed, *proof.steps[at + 1:]))
    assert broken.status == status
    monkeypatch.setattr(gather_nd, "transposed_general", lambda: broken)
    tex = transposed_report(LAYERS[0])
    assert r"\begin{symconvtheorem}[all sizes]" not in tex and r"\begin{symconvclaim}[all sizes; \emph{not proved}]" in tex
    assert "The all-size prover did not prove this claim" in tex and "transposed entry" in tex
    assert "all-size prover proves the identity" not in tex  # nor in the abstract
    assert ("is\nrefuted" in tex) == (status == "refuted")
    paragraph = _between(tex, r"\paragraph{For this layer.}", r"\paragraph{The matrix.}")
    assert "nothing follows from it" in paragraph and "instance" not in paragraph
    assert r"\begin{symconvtheorem}[this layer]" in tex  # the layer itself is still checked exactly


@pytest.mark.parametrize("spec", [LAYERS[1], LAYERS[2]], ids=lambda s: f"{s.ndim}-D")
def test_other_dimensions_keep_the_honest_not_claimed_sentence(spec):
    tex = transposed_report(spec)
    assert "symconvtheorem}[all sizes]" not in tex and "symconvclaim}[all sizes" not in tex
    paragraph = _between(tex, r"\paragraph{What is not claimed.}", r"\paragraph{The matrix.}")
    assert "for every size of a\n2-D layer only" in paragraph and f"this {spec.ndim}-D layer" in paragraph
    assert "restricted to its rows" in paragraph and "all-size prover proves the identity" not in tex
    assert gather_transposed(spec).theorem is None


def test_the_all_size_proof_is_proved_once_per_process_and_the_tex_is_deterministic(monkeypatch):
    first = transposed_report(RESTRICTED)
    proof = gather_nd.transposed_general()
    assert gather_nd.transposed_general() is proof and proof.rechecks == gather.GENERAL_RECHECKS
    monkeypatch.setattr(gather, "_GENERAL", {})  # a fresh proof: other timings, the same bytes
    assert transposed_report(RESTRICTED) == first and gather_nd.transposed_general() is not proof


@pytest.mark.parametrize("broken", [False, True], ids=["restricted", "not-proved"])
def test_theorem_2_compiles_with_pdflatex(monkeypatch, tmp_path, broken):
    from symconv.report import build_pdf

    if broken:
        proof = gather_nd.transposed_general()
        failed = dataclasses.replace(proof.steps[-1], status="refuted")
        monkeypatch.setattr(gather_nd, "transposed_general",
                            lambda: dataclasses.replace(proof, steps=(*proof.steps[:-1], failed)))
    result = build_pdf(transposed_report(RESTRICTED), tmp_path / "t.pdf")
    assert result.pages >= 1 and result.undefined_references == () and result.overfull_boxes == 0
    assert not [w for w in result.warnings if "undefined" in w.lower() or "Rerun" in w or "Bracket group" in w]
