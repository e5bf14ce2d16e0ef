"""``symconv rf`` in-process: the three input formats, JSON output, regions, checks, and exit codes."""

from __future__ import annotations

import json
import sys

import pytest

from symconv.cli import main
from symconv.receptive.field import receptive_field
from symconv.receptive.layers import Layer


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["rf", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_text_output_lists_every_layer(capsys):
    code, out, err = run(capsys, "conv:k=3,p=1", "maxpool:k=2,s=2", "conv:k=3,d=2", "--input", "10x10", "--index", "0x0")
    assert code == 0 and err == ""
    assert out.splitlines()[0] == "receptive field: size 12×12, stride 2×2, padding 1×1; input 10×10 → output 1×1"
    assert "maxpool2  maxpool:k=2,s=2,p=0,d=1" in out
    assert "axis 0: -1..10 (size 12, centre 4.5, clipped 0..9)" in out


def test_json_output_matches_the_library(capsys):
    code, out, _ = run(capsys, "conv:k=3x1,s=2,p=1x0", "avgpool:k=2,s=2", "--input", "16x9", "--index", "1x1",
                       "--check", "--json")
    data = json.loads(out)
    rf = receptive_field([Layer((3, 1), 2, (1, 0)), Layer(2, 2, kind="avgpool")], (16, 9))
    assert code == 0
    assert (tuple(data["size"]), tuple(data["stride"]), tuple(data["padding"])) == (rf.size, rf.stride, rf.padding)
    assert data["region"]["maps"][0]["mask"] == rf.region((1, 1)).mask.astype(int).tolist()
    assert data["check"]["holds"] is True and data["check"]["outputs"] == 4 * 2


def test_json_file_input(capsys, tmp_path):
    path = tmp_path / "stack.json"
    path.write_text(json.dumps({"input_size": [12, 12], "layers": [
        {"kind": "conv", "kernel_size": 3, "padding": 1},
        {"branches": [["conv:k=3,p=1", "conv:k=3,p=1"], []], "merge": "add"}]}))
    code, out, _ = run(capsys, "--json-file", str(path), "--json")
    data = json.loads(out)
    assert code == 0 and data["size"] == [7, 7] and data["input_size"] == [12, 12]
    assert [lf["name"] for lf in data["layers"]] == ["input", "conv1", "add2.0.conv1", "add2.0.conv2", "add2"]


def test_module_input(capsys, tmp_path, monkeypatch):
    pytest.importorskip("torch")
    (tmp_path / "tiny_net.py").write_text(
        "import torch\n"
        "net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 5, stride=2), torch.nn.ReLU(), torch.nn.MaxPool2d(2))\n"
        "def make():\n    return torch.nn.Conv1d(1, 1, 4)\n")
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "--module", "tiny_net:net", "--input", "20", "--json")
    assert code == 0 and json.loads(out)["size"] == [7, 7] and json.loads(out)["output_size"] == [4, 4]
    code, out, _ = run(capsys, "--module", "tiny_net:make", "--json")
    assert code == 0 and json.loads(out)["size"] == [4]
    sys.modules.pop("tiny_net", None)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ((), "give the layers in exactly one way: LAYERS…, --json-file F or --module pkg.mod:attr"),
        (("conv:k=3", "--json-file", "x.json"), "give the layers in exactly one way"),
        (("conv:k=0",), "kernel_size must be ≥ 1, got 0"),
        (("conv:k=3", "--check"), "input_size is required for the 𝒲-product check (an int or one per axis)"),
        (("conv:k=3", "--input", "2"), "layer 'conv1' does not fit on axis 0"),
        (("conv:k=3", "--input", "5", "--index", "3x0"), "index (3, 0) is outside the output 3×3: entry 0 must be in 0..2"),
        (("conv:k=3", "--input", "5", "--index", "-1"),
         "index must be ≥ 0 on every axis (0-based, no negative indices; allowed 0..2 × 0..2 for the output 3×3), got (-1,)"),
        (("conv:k=3", "--input", "5", "--index", "1"),
         "index must have 2 entries, one per spatial axis (0-based; allowed 0..2 × 0..2 for the output 3×3), got 1: (1,)"),
        (("--json-file", "/nonexistent/stack.json"), "--json-file: cannot read '/nonexistent/stack.json'"),
        (("--module", "json"), "--module must look like pkg.mod:attr, got 'json'"),
        (("--module", "json:JSONDecoder"), "--module: 'json:JSONDecoder' is not a torch.nn.Module"),
        (("--module", "json:dumps"), "--module: calling 'json:dumps' with no arguments failed"),
        (("--module", "no_such_module_xyz:net"), "--module: cannot import 'no_such_module_xyz'"),
    ],
)
def test_bad_input_exits_2_with_one_line(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.startswith(f"symconv rf: error: {message}") and err.count("\n") == 1


def test_check_says_agrees_or_undetermined(capsys):
    """--check: AGREES (exit 0) when every quantity is pinned; UNDETERMINED (exit 1) with one output along an axis."""
    code, out, _ = run(capsys, "conv:k=3,s=2,p=1", "--input", "6x6", "--check")
    assert code == 0 and "(size 3×3, stride 2×2, padding 1×1) AGREES with the 𝒲 product on 6×6 → 3×3: 9 outputs" in out
    code, out, _ = run(capsys, "conv:k=3,s=2", "--input", "3x9", "--check")
    lines = out.splitlines()
    assert code == 1 and "(size 3×3, stride 2×2, padding 0×0) UNDETERMINED with the 𝒲 product on 3×9 → 1×4" in lines[-2]
    assert lines[-1] == ("  undetermined: the stride on axis 0 (one output along it: any stride fits) — the data cannot "
                         "pin it, so the check does not hold")
    code, out, _ = run(capsys, "conv:k=3,s=2", "--input", "3x9", "--check", "--json")
    check = json.loads(out)["check"]
    assert code == 1 and check["holds"] is False and check["status"] == "UNDETERMINED" and check["mismatch"] is None


def test_bad_json_file(capsys, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("[conv:k=3]")
    code, _, err = run(capsys, "--json-file", str(path))
    assert code == 2 and err.startswith(f"symconv rf: error: --json-file: {str(path)!r} is not valid JSON")


def test_help_documents_the_layer_syntax(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "KIND:k=K[,s=S][,p=P][,d=D]" in out and "--json-file F" in out
