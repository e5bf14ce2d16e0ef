"""Layers too large for the identities beyond Conv2d are refused in one line before anything is built (they once
ran until the memory ran out): the backprop, transposed and padding-mode proofs, and the reports built on them."""

from __future__ import annotations

import re
import time

import pytest

from symconv import ConvSpec, ConvTransposeSpec, TooLargeError, prove_backward, prove_padding_mode, prove_transposed
from symconv.cli import main
from symconv.core.budget import MAX_ARRAY_TERMS, MAX_DIRECT_TERMS

BIG = ConvSpec(64, 64, input_size=224, kernel_size=3, padding=1)  # 1.8·10⁹ terms


@pytest.mark.parametrize("call, limit", [
    (lambda: prove_backward(BIG), MAX_DIRECT_TERMS),
    (lambda: prove_transposed(ConvTransposeSpec(64, 64, input_size=224, kernel_size=3)), MAX_DIRECT_TERMS),
    (lambda: prove_transposed(ConvTransposeSpec(64, 64, input_size=224, kernel_size=3), method="index"),
     MAX_ARRAY_TERMS),
    (lambda: prove_padding_mode(ConvSpec(64, 64, input_size=224, kernel_size=3, padding=1, padding_mode="reflect")),
     MAX_DIRECT_TERMS),
], ids=["backward", "transposed-sympy", "transposed-index", "padding-mode"])
def test_too_large_is_refused_at_once(call, limit):
    start = time.perf_counter()
    with pytest.raises(TooLargeError, match=r"^prove_\w+: [\d,]+ terms, above the limit of [\d,]+; ") as info:
        call()
    assert time.perf_counter() - start < 5
    terms, cap = (int(x.replace(",", "")) for x in re.findall(r"([\d,]{5,})", str(info.value))[:2])
    assert terms > cap >= limit

def test_the_identities_still_run_just_below_the_small_limits():
    spec = ConvSpec(1, 1, input_size=(40,), kernel_size=3, ndim=1)
    assert prove_backward(spec).holds and prove_padding_mode(
        ConvSpec(1, 1, input_size=(40,), kernel_size=3, padding=1, padding_mode="circular", ndim=1)).holds


@pytest.mark.parametrize("args", [
    ["--backward", "--input", "224x224", "--kernel", "3"],
    ["--transposed", "--input", "224x224", "--kernel", "3"],
    ["--input", "65536", "--ndim", "1", "--kernel", "9"],
], ids=["backward", "transposed", "1-D"])
def test_reports_on_too_large_layers_exit_2_in_one_line_and_write_nothing(args, tmp_path, capsys):
    out = tmp_path / "r.tex"
    start = time.perf_counter()
    assert main(["report", "--in-channels", "64", "--out-channels", "64", *args, "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert time.perf_counter() - start < 10 and err.count("\n") == 1 and "above the limit of" in err
    assert not out.exists()
