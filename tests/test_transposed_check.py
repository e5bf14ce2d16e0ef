"""Transposed convolutions checked: every named bug is found and named, correct code holds (issue 11).

The implementations here share no code with symconv. ``scatter`` is a transposed convolution written from
PyTorch's description — scatter every input through every tap into a 'full' buffer of (n − 1)·s + d(k − 1) + 1 + a
entries per axis, then crop p at both ends — with flags that make it wrong in exactly one way; it works on floats
and on SymPy symbols (then the check is exact). ``dv`` is Dumoulin & Visin's zero insertion run through PyTorch's
forward convolution. The rest are PyTorch's ``conv_transpose1d/2d/3d`` called wrongly. Each is first checked
against PyTorch on numbers here (``reference``), so the buggy ones really are the bug and the correct ones really
are the layer.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from symconv.check.implementation import verify_implementation
from symconv.check.transposed_hypotheses import CODES, transposed_hypotheses, variant_terms
from symconv.core.transposed import ConvTransposeSpec
from symconv.forms.transposed import transposed_terms

torch = pytest.importorskip("torch")
F = torch.nn.functional


# ------------------------------------------------------------------------------------------ implementations

def scatter(x, w, b, spec, *, flip=False, stride=None, dilation=None, a_first=False, a_ignored=False, crop=True,
            forward_layout=False, first_group=False, bias="add"):
    """A transposed convolution by loops: scatter into the full buffer, then crop p (flags: one bug each)."""
    s, d = stride or spec.stride, dilation or spec.dilation
    k, p, a = spec.kernel_size, spec.padding, (0,) * spec.ndim if a_ignored else spec.output_padding
    c1, opg = spec.in_channels, spec.out_per_group
    ipg = c1 // spec.groups
    full = [(n - 1) * ss + dd * (kk - 1) + 1 + aa for n, ss, dd, kk, aa in zip(spec.input_size, s, d, k, a)]
    buf = np.zeros((len(x), spec.out_channels, *full), dtype=object if x.dtype == object else np.result_type(x, w))
    wf = w.reshape(spec.out_channels, ipg, *k) if forward_layout else w
    count = np.zeros(full, dtype=int)
    for q in itertools.product(*[range(n) for n in spec.input_size]):
        for t in itertools.product(*[range(kk) for kk in k]):
            tw = tuple(kk - 1 - tt for kk, tt in zip(k, t)) if flip else t
            pos = tuple(qq * ss + tt * dd + (aa if a_first else 0) for qq, ss, tt, dd, aa in zip(q, s, t, d, a))
            if any(pp >= f for pp, f in zip(pos, full)):
                continue
            count[pos] += 1
            for c in range(c1):
                group = c // ipg
                for j in range(opg):
                    o = j if first_group else group * opg + j
                    weight = wf[(o, c % ipg, *tw)] if forward_layout else wf[(c, j, *tw)]
                    buf[(slice(None), o, *pos)] += x[(slice(None), c, *q)] * weight
    if bias != "none" and b is not None:
        column = np.asarray(b).reshape(1, -1, *([1] * spec.ndim))
        buf = buf + (column * count if bias == "per-tap" else column * (2 if bias == "doubled" else 1))
    if not crop:
        return buf
    return buf[(slice(None), slice(None), *(slice(pp, f - pp) for pp, f in zip(p, full)))]


def torch_fn(spec, *, weight=None, out=None, **changes):
    """PyTorch's conv_transpose{n}d with the spec's parameters, some changed; ``weight``/``out`` transform ω / z."""
    conv = getattr(F, f"conv_transpose{spec.ndim}d")
    params = dict(stride=spec.stride, padding=spec.padding, output_padding=spec.output_padding,
                  dilation=spec.dilation, groups=spec.groups)
    params.update(changes)

    def fn(x, w, b):
        y = conv(x, weight(w) if weight else w, b if out is None else None, **params)
        return y if out is None else out(y, b)
    return fn


def dv(spec, *, swap=True, flip=True):
    """Zero insertion (Dumoulin & Visin) through torch's forward conv: stretch, pad d(k − 1) − p (and a after), run
    a stride-1 convolution with ω flipped and its channel axes swapped per group (``swap``/``flip`` off: the bugs)."""
    conv, g, n = getattr(F, f"conv{spec.ndim}d"), spec.groups, spec.ndim

    def fn(x, w, b):
        stretched = x.new_zeros((*x.shape[:2], *[(m - 1) * s + 1 for m, s in zip(spec.input_size, spec.stride)]))
        stretched[(slice(None), slice(None), *(slice(None, None, s) for s in spec.stride))] = x
        pads = []
        for kk, p, d, a in reversed(list(zip(spec.kernel_size, spec.padding, spec.dilation, spec.output_padding))):
            pads += [d * (kk - 1) - p, d * (kk - 1) - p + a]
        if swap:
            wd = w.reshape(g, spec.in_per_group, spec.out_per_group, *w.shape[2:]).transpose(1, 2)
            wd = wd.reshape(spec.out_channels, spec.in_per_group, *w.shape[2:])
        else:
            wd = w.reshape(spec.out_channels, spec.in_per_group, *w.shape[2:])
        wd = wd.flip(tuple(range(2, 2 + n))) if flip else wd
        return conv(F.pad(stretched, pads), wd, b, dilation=spec.dilation, groups=g)
    return fn


def reference(spec, fn, numpy=False, seed=0):
    """fn and PyTorch's layer on one random input: (fn's output, PyTorch's) as NumPy arrays."""
    rng = np.random.default_rng(seed)
    x, w = rng.standard_normal((2, *spec.input_shape)), rng.standard_normal(spec.weight_shape)
    b = rng.standard_normal(spec.out_channels) if spec.bias else None
    want = torch_fn(spec)(*(None if v is None else torch.from_numpy(v) for v in (x, w, b))).numpy()
    got = fn(x, w, b) if numpy else fn(*(None if v is None else torch.from_numpy(v) for v in (x, w, b))).numpy()
    return np.asarray(got, dtype=np.float64), want


SPECS = {
    "2d-groups": ConvTransposeSpec(2, 4, input_size=(3, 4), kernel_size=(3, 2), stride=(2, 3), padding=(1, 1),
                                   output_padding=(1, 2), groups=2),
    "2d-dilation": ConvTransposeSpec(4, 2, input_size=(3, 3), kernel_size=3, stride=2, padding=1, output_padding=1,
                                     dilation=2, groups=2),
    "1d": ConvTransposeSpec(3, 2, input_size=(5,), kernel_size=3, stride=3, padding=2, output_padding=1, dilation=2),
    "3d": ConvTransposeSpec(2, 2, input_size=(2, 3, 2), kernel_size=(2, 2, 3), stride=(2, 1, 2), padding=(1, 0, 1),
                            output_padding=(1, 0, 0), dilation=(1, 2, 1)),
}


@pytest.mark.parametrize("name", SPECS)
def test_the_implementations_here_are_pytorchs_layer(name):
    """The hand-written scatter and zero insertion equal PyTorch (so the bugs below are bugs of a right layer)."""
    spec = SPECS[name]
    got, want = reference(spec, lambda x, w, b: scatter(x, w, b, spec), numpy=True)
    assert got.shape == want.shape and np.allclose(got, want, atol=1e-12)
    got, want = reference(spec, dv(spec))
    assert got.shape == want.shape and np.allclose(got, want, atol=1e-12)
    got, _ = reference(spec, dv(spec, flip=False))
    assert got.shape != want.shape or not np.allclose(got, want, atol=1e-6)


@pytest.mark.parametrize("name", SPECS)
def test_correct_ones_hold_or_agree(name):
    spec = SPECS[name]
    exact = verify_implementation(lambda x, w, b: scatter(x, w, b, spec), spec)
    assert exact.status == "HOLDS (exact)" and exact.proved and not exact.diagnosis, exact.describe()
    assert "within the rounding bound of float64" in exact.describe()
    for fn in (torch_fn(spec), dv(spec)):
        sampled = verify_implementation(fn, spec)
        assert sampled.status == "AGREES (sampled, exact values)" and sampled.backend == "torch", sampled.describe()
    assert verify_implementation(getattr(F, f"conv_transpose{spec.ndim}d"), spec, pass_params=True).holds


def test_variant_terms_unchanged_is_the_definition():
    for spec in SPECS.values():
        assert np.array_equal(variant_terms(spec).canonical(), transposed_terms(spec).canonical())
        assert all(not np.array_equal(h.terms.canonical(), transposed_terms(spec).canonical()) or h.bias != "add"
                   or h.shape != spec.output_shape for h in transposed_hypotheses(spec))


# ------------------------------------------------------------------------------------------ one bug each

def _a0(spec):
    return dict(output_padding=(0,) * spec.ndim)


def _pad_after(spec, y, amounts):
    pads = []
    for amount in reversed(amounts):
        pads += [0, amount]
    return F.pad(y, pads)


def _interleave(spec):
    def out(y, b):
        g, opg = spec.groups, spec.out_per_group
        y = y.reshape(y.shape[0], g, opg, *y.shape[2:]).transpose(1, 2).reshape(y.shape)
        return y + b.reshape(1, -1, *([1] * spec.ndim))
    return out


def _layouts_differ(spec):
    """ω.reshape(C₂, C₁/g, *k) reads ω as the transposed layout does when C₁/g = 1 or C₂/g = 1: no bug then."""
    return spec.in_per_group > 1 and spec.out_per_group > 1


def _torch_bugs(spec):
    """(code, fn) for every bug applicable to ``spec``, in PyTorch."""
    n, a = spec.ndim, spec.output_padding
    spatial = tuple(range(2, 2 + n))
    bugs = [("missing-flip", torch_fn(spec, weight=lambda w: w.flip(spatial))),
            ("missing-flip", dv(spec, flip=False)),
            ("bias-missing", torch_fn(spec, out=lambda y, b: y)),
            ("bias-wrong", torch_fn(spec, out=lambda y, b: y + 2 * b.reshape(1, -1, *([1] * n)))),
            ("output-shape", torch_fn(spec, out=lambda y, b: (y + b.reshape(1, -1, *([1] * n)))[..., :-1]))]
    if _layouts_differ(spec):
        bugs.append(("weight-layout-swapped", dv(spec, swap=False)))
    if any(a):
        bugs += [("output-padding-ignored", torch_fn(spec, **_a0(spec))),
                 ("output-padding-ignored", torch_fn(spec, **_a0(spec), out=lambda y, b: _pad_after(
                     spec, y + b.reshape(1, -1, *([1] * n)), a)))]
    if any(spec.padding):
        bugs.append(("padding-not-removed", torch_fn(spec, padding=(0,) * n)))
    if spec.stride != spec.dilation:
        bugs.append(("stride-dilation-swapped", torch_fn(spec, stride=spec.dilation, dilation=spec.stride)))
    if any(s > 1 for s in spec.stride) and all(aa < d for aa, d in zip(a, spec.dilation)):
        bugs.append(("no-zero-insertion", torch_fn(spec, stride=(1,) * n)))
    if spec.groups > 1 and spec.out_per_group > 1:
        bugs.append(("mixed-groups", torch_fn(spec, out=_interleave(spec))))
    return bugs


def _loop_bugs(spec):
    """(code, fn) for every bug applicable to ``spec``, as the hand-written scatter (symbols and numbers)."""
    def bug(**flags):
        return lambda x, w, b: scatter(x, w, b, spec, **flags)
    bugs = [("missing-flip", bug(flip=True)), ("bias-missing", bug(bias="none")), ("bias-wrong", bug(bias="per-tap"))]
    if _layouts_differ(spec):
        bugs.append(("weight-layout-swapped", bug(forward_layout=True)))
    if any(spec.output_padding):
        bugs += [("output-padding-ignored", bug(a_ignored=True)), ("output-padding-wrong-side", bug(a_first=True))]
    if any(spec.padding):
        bugs.append(("padding-not-removed", bug(crop=False)))
    if spec.stride != spec.dilation:
        bugs.append(("stride-dilation-swapped", bug(stride=spec.dilation, dilation=spec.stride)))
    if any(s > 1 for s in spec.stride):
        bugs.append(("no-zero-insertion", bug(stride=(1,) * spec.ndim)))
    if spec.groups > 1:
        bugs.append(("mixed-groups", bug(first_group=True)))
    return bugs


TORCH_CASES = [(name, i, code) for name, spec in SPECS.items() for i, (code, _) in enumerate(_torch_bugs(spec))]
LOOP_CASES = [(name, i, code) for name, spec in SPECS.items() for i, (code, _) in enumerate(_loop_bugs(spec))]


def test_every_code_is_exercised_both_ways():
    named = set(CODES)
    assert {c for *_, c in TORCH_CASES} | {c for *_, c in LOOP_CASES} == named
    assert {c for *_, c in LOOP_CASES} >= named - {"output-shape"}


@pytest.mark.parametrize(("name", "i", "code"), TORCH_CASES, ids=[f"{n}-{c}-{i}" for n, i, c in TORCH_CASES])
def test_torch_bug_is_named(name, i, code):
    spec = SPECS[name]
    fn = _torch_bugs(spec)[i][1]
    got, want = reference(spec, fn)
    assert got.shape != want.shape or not np.allclose(got, want, atol=1e-6)  # really wrong
    result = verify_implementation(fn, spec)
    assert result.status == "FAILS" and code in result.codes, result.describe()
    assert all(f.exact for f in result.diagnosis if f.code == code) and result.details["counterexample"]


@pytest.mark.parametrize(("name", "i", "code"), LOOP_CASES, ids=[f"{n}-{c}-{i}" for n, i, c in LOOP_CASES])
def test_loop_bug_is_named_exactly_on_symbols(name, i, code):
    spec = SPECS[name]
    fn = _loop_bugs(spec)[i][1]
    got, want = reference(spec, fn, numpy=True)
    assert got.shape != want.shape or not np.allclose(got, want, atol=1e-6)
    result = verify_implementation(fn, spec)
    assert result.status == "FAILS" and result.method == "symbolic" and code in result.codes, result.describe()
    if got.shape == want.shape:
        assert result.mismatches and "expected:" in result.describe()
    else:
        assert "output-shape" in result.codes


def test_output_shape_says_the_formula():
    spec = SPECS["2d-groups"]
    result = verify_implementation(dict(_torch_bugs(spec))["output-shape"], spec)
    assert result.codes == ("output-shape",), result.describe()
    message = result.diagnosis[0].message
    assert "(4, 6, 10) per sample" in message and "(4, 6, 11) = (C₂, (n − 1)·s − 2p + d(k − 1) + a + 1" in message
    assert "(4 − 1)·3 − 2·1 + 1·(2 − 1) + 2 + 1 = 11" in message


# ------------------------------------------------------------------------------------------ never named unless exact

def test_two_bugs_at_once_name_neither():
    spec = SPECS["2d-groups"]
    result = verify_implementation(lambda x, w, b: scatter(x, w, b, spec, flip=True, bias="none"), spec)
    assert result.status == "FAILS" and result.codes == ("unknown",) and not result.diagnosis[0].exact


@pytest.mark.parametrize("numbers", [False, True], ids=["symbols", "torch"])
def test_a_bug_plus_one_wrong_output_is_not_named(numbers):
    spec = SPECS["1d"]

    def flipped_and_one_more(x, w, b):
        y = torch_fn(spec, weight=lambda v: v.flip((2,)))(x, w, b) if numbers else scatter(x, w, b, spec, flip=True)
        y[:, 1, 3] = y[:, 1, 3] + 1
        return y
    result = verify_implementation(flipped_and_one_more, spec)
    assert result.status == "FAILS" and "missing-flip" not in result.codes and result.codes == ("unknown",)


def test_the_doctest_bug_names_are_stable_across_seeds():
    spec = SPECS["2d-dilation"]
    fn = torch_fn(spec, weight=lambda w: w.flip((2, 3)))
    assert {verify_implementation(fn, spec, seed=s).codes for s in range(3)} == {("missing-flip",)}


# ------------------------------------------------------------------------------------------ more ways to be wrong

def _pad_before(y, amounts):
    pads = []
    for amount in reversed(amounts):
        pads += [amount, 0]
    return F.pad(y, pads)


def _variants():
    g = SPECS["2d-groups"]
    bias_last = ConvTransposeSpec(2, 4, input_size=(2, 2), kernel_size=3)  # output 4×4: b broadcasts on the last axis
    order = sorted(range(4), key=lambda c: (c % 2, c // 2))
    interleaved = ConvTransposeSpec(4, 4, input_size=(3,), kernel_size=2, stride=2, groups=2)
    column = (1, -1, 1, 1)
    return [
        ("bias-wrong", bias_last, torch_fn(bias_last, out=lambda y, b: y + b)),
        ("bias-wrong", g, torch_fn(g, out=lambda y, b: y + b[0])),
        ("mixed-groups", interleaved, lambda x, w, b: F.conv_transpose1d(x[:, order], w[order], b, stride=2, groups=2)),
        ("output-padding-wrong-side", g, torch_fn(g, **_a0(g), out=lambda y, b: _pad_before(y + b.reshape(column), (1, 2)))),
        ("padding-not-removed", g, torch_fn(g, padding=(0, 0), out=lambda y, b: (y + b.reshape(column))[..., :6, :11])),
    ]


VARIANTS = _variants()


@pytest.mark.parametrize(("code", "spec", "fn"), VARIANTS, ids=[f"{c}-{i}" for i, (c, _, _) in enumerate(VARIANTS)])
def test_other_forms_of_the_bugs_are_named(code, spec, fn):
    got, want = reference(spec, fn)
    assert got.shape != want.shape or not np.allclose(got, want, atol=1e-6)
    result = verify_implementation(fn, spec)
    assert result.status == "FAILS" and code in result.codes, result.describe()


def test_a_layer_without_bias():
    spec = ConvTransposeSpec(2, 2, input_size=(4,), kernel_size=3, stride=2, padding=1, output_padding=1, bias=False)
    assert verify_implementation(torch_fn(spec), spec).status == "AGREES (sampled, exact values)"
    assert verify_implementation(lambda x, w, b: scatter(x, w, b, spec), spec).status == "HOLDS (exact)"
    flipped = verify_implementation(lambda x, w, b: scatter(x, w, b, spec, flip=True), spec)
    assert flipped.codes == ("missing-flip",), flipped.describe()
    assert not any(h.bias != "add" for h in transposed_hypotheses(spec))
    given = []
    verify_implementation(lambda x, w, b: given.append(b) or torch_fn(spec)(x, w, b), spec)
    assert given and all(b is None for b in given)
