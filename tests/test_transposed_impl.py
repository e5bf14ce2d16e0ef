"""verify_implementation on transposed convolutions: PyTorch's conv_transpose holds/agrees, wrong ones fail."""

from __future__ import annotations

import numpy as np
import pytest

from symconv import SpecError
from symconv.check.implementation import verify_implementation
from symconv.cli import main
from symconv.core.transposed import ConvTransposeSpec

torch = pytest.importorskip("torch")
F = torch.nn.functional


def scatter(x, w, b, stride, padding, output_padding, flip=False):
    """A hand-written 1-D/2-D transposed convolution (groups 1, dilation 1) that works on SymPy objects too."""
    ndim = x.ndim - 2
    if flip:
        w = w[(slice(None), slice(None)) + (slice(None, None, -1),) * ndim]
    k = w.shape[2:]
    full = tuple((n - 1) * s + kk for n, s, kk in zip(x.shape[2:], stride, k))
    y = np.zeros((x.shape[0], w.shape[1], *[f + op for f, op in zip(full, output_padding)]), dtype=x.dtype)
    y[...] = 0
    for q in np.ndindex(*x.shape[2:]):
        for t in np.ndindex(*k):
            where = tuple(qq * s + tt for qq, s, tt in zip(q, stride, t))
            y[(slice(None), slice(None), *where)] += np.einsum("nc,cj->nj", x[(slice(None), slice(None), *q)],
                                                               w[(slice(None), slice(None), *t)])
    crop = tuple(slice(p, y.shape[2 + a] - p) for a, p in enumerate(padding))
    out = y[(slice(None), slice(None), *crop)]
    return out if b is None else out + b.reshape(1, -1, *([1] * ndim))


@pytest.mark.parametrize("seed", range(6))
def test_torch_conv_transpose_agrees_and_numpy_scatter_holds(seed):
    rng = np.random.default_rng(seed)
    ndim = 1 + seed % 2
    s = tuple(int(v) for v in rng.integers(1, 4, ndim))
    k = tuple(int(v) for v in rng.integers(1, 4, ndim))
    p = tuple(int(rng.integers(0, kk)) for kk in k)
    op = tuple(int(rng.integers(0, ss)) for ss in s)
    spec = ConvTransposeSpec(2, 2, input_size=tuple(int(v) for v in rng.integers(2, 4, ndim)), kernel_size=k, stride=s,
                             padding=p, output_padding=op)
    fn = F.conv_transpose1d if ndim == 1 else F.conv_transpose2d
    sampled = verify_implementation(fn, spec, pass_params=True)
    assert sampled.status == "AGREES (sampled, exact values)" and sampled.backend == "torch", sampled.describe()
    exact = verify_implementation(lambda x, w, b: scatter(x, w, b, s, p, op), spec)
    assert exact.status == "HOLDS (exact)" and exact.proved, exact.describe()


SPEC = ConvTransposeSpec(2, 3, input_size=(3, 4), kernel_size=(3, 2), stride=(2, 1), padding=(1, 0), output_padding=(1, 0))
S, P, OP = SPEC.stride, SPEC.padding, SPEC.output_padding


@pytest.mark.parametrize(
    ("wrong", "codes"),
    [
        (lambda x, w, b: scatter(x, w, b, S, P, OP, flip=True), ("missing-flip",)),  # a conv's habit
        (lambda x, w, b: _pad_missing(scatter(x, w, b, S, P, (0, 0))), ("output-padding-ignored",)),
        (lambda x, w, b: scatter(x, w, b, S[::-1], P, OP)[:, :, :SPEC.output_size[0], :SPEC.output_size[1]]
         if scatter(x, w, b, S[::-1], P, OP).shape[2] >= SPEC.output_size[0] else scatter(x, w, b, S, P, OP) * 2,
         ("unknown",)),  # no single named bug: found, shown, not named
    ],
    ids=["unflipped-vs-flipped", "output-padding-ignored", "stride-on-the-wrong-axis"],
)
def test_wrong_numpy_transposed_convs_fail_with_terms(wrong, codes):
    result = verify_implementation(wrong, SPEC)
    assert result.status == "FAILS" and result.level == "exact" and result.mismatches, result.describe()
    m = result.mismatches[0]
    assert m.expected != m.found and "expected:" in result.describe()
    assert result.codes == codes and all(f.exact == (codes != ("unknown",)) for f in result.diagnosis)


def _pad_missing(y):
    """output_padding ignored: the last row of the output left at zero."""
    out = np.zeros((y.shape[0], y.shape[1], y.shape[2] + 1, y.shape[3]), dtype=y.dtype)
    out[...] = 0
    out[:, :, :-1] = y
    return out


def test_forward_conv_called_instead_fails_with_a_counterexample():
    spec = ConvTransposeSpec(2, 2, input_size=(4, 4), kernel_size=3, padding=1)  # same shapes both ways

    def forward(x, w, b):
        return F.conv2d(x, w.transpose(0, 1), b, padding=1)  # shapes fit, but the kernel is not flipped
    result = verify_implementation(forward, spec)
    assert result.status == "FAILS" and "on an integer probe at output" in result.describe() and "missing-flip" in result.codes


def test_cli_check_impl_transposed(tmp_path, capsys, monkeypatch):
    (tmp_path / "tc.py").write_text("import torch.nn.functional as F\n"
                                    "def up(x, w, b, **kw):\n    return F.conv_transpose2d(x, w, b, **kw)\n")
    monkeypatch.chdir(tmp_path)
    code = main(["check-impl", "tc:up", "--transposed", "--in-channels", "2", "--out-channels", "2", "--input", "3",
                 "--kernel", "3", "--stride", "2", "--padding", "1", "--output-padding", "1", "--pass-params"])
    out = capsys.readouterr().out
    assert code == 0 and out.startswith("tc.up as ") and "AGREES (sampled, exact values)" in out.splitlines()[0]
    code = main(["check-impl", "tc:up", "--transposed", "--in-channels", "2", "--out-channels", "2", "--input", "3",
                 "--kernel", "3", "--stride", "2", "--padding", "1", "--output-padding", "1"])
    assert code == 1 and "FAILS" in capsys.readouterr().out
    assert main(["check-impl", "tc:up", "--in-channels", "2", "--out-channels", "2", "--input", "3", "--kernel", "3",
                 "--output-padding", "1"]) == 2
    assert capsys.readouterr().err.endswith("--output-padding is for --transposed layers only\n")
    # --output-padding left out is PyTorch's default 0 (it once crashed: exit 3); torch agrees at that layer
    code = main(["check-impl", "tc:up", "--transposed", "--in-channels", "2", "--out-channels", "2", "--input", "3",
                 "--kernel", "3", "--stride", "2", "--pass-params"])
    out = capsys.readouterr().out
    assert code == 0 and "output_padding 0×0" in out.splitlines()[0] and "output 7×7" in out.splitlines()[0]


def test_unsupported_options_are_refused():
    with pytest.raises(SpecError, match=r"^a transposed layer is checked with layout NCHW"):
        verify_implementation(F.conv_transpose2d, SPEC, weight_layout="HWIO")


@pytest.mark.parametrize("fn", [
    lambda x, w, b: scatter(x, w, b, S, P, OP, flip=True),                                 # on symbols
    lambda x, w, b: F.conv_transpose2d(x, torch.flip(w, (-1, -2)), b, stride=S, padding=P, output_padding=OP),
], ids=["symbols", "probes"])
def test_a_failing_verdict_does_not_say_what_only_a_passing_one_may(fn):
    """A FAILS verdict's guarantee says what was compared, never 'equal to the definition' or 'within the bound'."""
    result = verify_implementation(fn, SPEC)
    text = result.describe()
    assert result.status == "FAILS" and result.codes == ("missing-flip",), text
    assert "equal to the definition" not in text and "computed the transposed layer exactly" not in text
    assert "within the derived rounding bound" not in result.guarantee and "compared" in result.guarantee
