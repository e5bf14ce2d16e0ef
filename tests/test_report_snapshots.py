"""Snapshots of rendered reports: any change to a template or to what the library computes shows up as a diff.

The cases cover template branches the example reports in reports/ do not reach (groups, bias per location,
no bias, a stack with max pooling, a hostile title). Each snapshot also has to compile.

To accept an intended change, regenerate the snapshots:

    SYMCONV_UPDATE_SNAPSHOTS=1 python -m pytest tests/test_report_snapshots.py
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from symconv import ConvSpec
from symconv.core.transposed import ConvTransposeSpec
from symconv.receptive.layers import parse_layer
from symconv.report import build_pdf, layers_report, spec_report, transposed_report

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
UPDATE = os.environ.get("SYMCONV_UPDATE_SNAPSHOTS") == "1"
REGENERATE = "SYMCONV_UPDATE_SNAPSHOTS=1 python -m pytest tests/test_report_snapshots.py"

CASES: dict[str, Callable[[], str]] = {
    "depthwise-padding": lambda: spec_report(
        ConvSpec(3, 6, input_size=4, kernel_size=3, groups=3, padding=1), command="symconv report (snapshot)"),
    "bias-per-location-position": lambda: spec_report(
        ConvSpec(2, 2, input_size=(4, 5), kernel_size=(2, 3), bias="per_location"), position=(1, 2)),
    "no-bias-hostile-title": lambda: spec_report(
        ConvSpec(1, 2, input_size=3, kernel_size=2, bias="none"), title=r"50% of \input{x} & $y_1$ ~ 2^3 #1 {}"),
    "stack-maxpool": lambda: layers_report(
        [parse_layer("conv:k=3"), parse_layer("maxpool:k=2,s=2"), parse_layer("conv:k=3x1,d=2x1")], (12, 10),
        command="symconv report --layers conv:k=3 maxpool:k=2,s=2 conv:k=3x1,d=2x1 --input 12x10 -o x.tex"),
    # beyond the note's 2-D setting: groups and dilation in 1-D, a non-cubic 3-D layer with stride, a grouped
    # transposed layer with dilation and no bias, a tconv first in a stack
    "conv1d-groups-dilation": lambda: spec_report(
        ConvSpec(2, 4, input_size=(9,), kernel_size=3, dilation=2, groups=2, padding=1, bias="per_location"),
        position=(0,)),
    "conv3d-stride": lambda: spec_report(ConvSpec(1, 1, input_size=(3, 4, 5), kernel_size=(1, 2, 3), stride=(1, 2, 1))),
    "transposed-groups-dilation": lambda: transposed_report(
        ConvTransposeSpec(2, 4, input_size=(4,), kernel_size=2, stride=3, dilation=2, groups=2, bias=False,
                          output_padding=1), position=(2,)),
    # a padding mode: per-axis padding, stride, dilation and groups through the replicate map
    "padding-replicate-stride": lambda: spec_report(
        ConvSpec(2, 2, input_size=(4, 3), kernel_size=(3, 2), stride=(2, 1), padding=(2, 1), dilation=(1, 2), groups=2,
                 padding_mode="replicate"), command="symconv report (snapshot)"),
    "stack-tconv-first": lambda: layers_report(
        [parse_layer("tconv:k=2,s=2"), parse_layer("conv:k=3,p=1")], (4, 4),
        command="symconv report --layers tconv:k=2,s=2 conv:k=3,p=1 --input 4x4 -o x.tex"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_snapshot(name):
    path = SNAPSHOTS / f"{name}.tex"
    rendered = CASES[name]()
    if UPDATE:
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_text(rendered, encoding="utf-8")
    assert path.exists(), f"no snapshot {path.name}; create it with: {REGENERATE}"
    expected = path.read_text(encoding="utf-8")
    if rendered != expected:
        diff = "\n".join(list(difflib.unified_diff(expected.splitlines(), rendered.splitlines(), "snapshot", "rendered",
                                                   lineterm=""))[:30])
        pytest.fail(f"tests/snapshots/{path.name} differs from the rendered report; if the change is intended, "
                    f"regenerate with: {REGENERATE}\n{diff}")


@pytest.mark.parametrize("name", list(CASES))
def test_snapshot_compiles(name, tmp_path):
    result = build_pdf((SNAPSHOTS / f"{name}.tex").read_text(encoding="utf-8"), tmp_path / f"{name}.pdf")
    assert result.pages >= 1 and result.undefined_references == ()
