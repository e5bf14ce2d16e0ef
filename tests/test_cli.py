"""The command line, run in-process through main(argv), and as `python -m symconv`."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from symconv import ConvSpec, TooLargeError, matrix
from symconv.cli import main

LAYER = ["--in-channels", "2", "--out-channels", "3", "--input", "5x5", "--kernel", "3x3"]


def test_verify_prints_a_summary_and_exits_0(capsys):
    assert main(["verify", *LAYER]) == 0
    out = capsys.readouterr().out
    assert "HOLDS" in out and "513 terms" in out


@pytest.mark.parametrize("method", ["sympy", "index", "auto"])
def test_verify_json(capsys, method):
    args = ["verify", *LAYER, "--stride", "2", "--padding", "1", "--dilation", "1x2", "--groups", "1",
            "--bias", "per_location", "--method", method, "--order", "seed", "--json"]
    assert main(args) == 0
    d = json.loads(capsys.readouterr().out)
    spec = ConvSpec(2, 3, input_size=5, kernel_size=3, stride=2, padding=1, dilation=(1, 2), bias="per_location")
    assert d["holds"] is True and d["terms"] == spec.n_terms + spec.d_y
    assert d["spec"]["output_size"] == list(spec.output_size) and d["order"] == "seed"
    assert d["method"] == ("sympy" if method == "auto" else method)


@pytest.mark.parametrize(
    "extra,message",
    [
        (["--kernel", "7x3"], "kernel_size must fit the padded input"),
        (["--groups", "2"], "groups must divide in_channels=2 and out_channels=3, got groups=2"),
        (["--stride", "0"], "stride must be ≥ 1, got 0"),
        (["--input", "5.5x5"], "--input must be an int or one int per axis joined by x (e.g. 3, 3x5 or 3x3x3), got '5.5x5'"),
        (["--input", "4x4x4", "--kernel", "3x3"],
         "--kernel must have 1 or 3 sizes (one per spatial axis, as --input 4x4x4 gives), got '3x3'"),
        (["--input", "16", "--ndim", "1", "--kernel", "3x3"],
         "--kernel must have 1 size (one per spatial axis, as --ndim 1 gives), got '3x3'"),
        (["--padding", "same", "--stride", "2"], "padding='same' needs stride 1"),
        (["--method", "sympy", "--max-terms", "10"], "above the limit of 10"),
    ],
)
def test_bad_input_exits_2_with_one_line(capsys, extra, message):
    layer = list(LAYER)
    for flag, value in zip(extra[::2], extra[1::2]):
        if flag in layer:
            layer[layer.index(flag) + 1] = value
        else:
            layer += [flag, value]
    assert main(["verify", *layer]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_show_prints_blocks_and_matrix(capsys):
    assert main(["show", "--in-channels", "1", "--out-channels", "2", "--input", "3x3", "--kernel", "2x2", "--ascii"]) == 0
    out = capsys.readouterr().out
    assert "B_{0,0,0}" in out and "W_{0,0,0}" in out and "W (seed rows, d_y x d_x = 8 x 9)".replace(" x ", " × ") in out
    # every weight symbol of 𝒲 is printed
    names = {str(v) for v in matrix(ConvSpec(1, 2, input_size=3, kernel_size=2)).values()}
    assert all(name in out for name in names)


def test_show_refuses_large_layers(capsys):
    assert main(["show", "--in-channels", "3", "--out-channels", "8", "--input", "32x32", "--kernel", "3x3"]) == 2
    err = capsys.readouterr().err
    assert "--max-size: W is 7200 × 3072 (d_y × d_x), larger than 64 × 64" in err


def test_symbolic_build_is_refused_before_allocation():
    spec = ConvSpec(64, 64, input_size=224, kernel_size=3)
    with pytest.raises(TooLargeError, match=r"^matrix\(spec\): the symbolic build has [\d,]+ terms, above the limit"):
        matrix(spec)


def test_python_dash_m_and_exit_code_1_for_a_failing_identity(tmp_path):
    run = subprocess.run([sys.executable, "-m", "symconv", "verify", *LAYER], capture_output=True, text=True)
    assert run.returncode == 0 and "HOLDS" in run.stdout
    run = subprocess.run([sys.executable, "-m", "symconv", "--version"], capture_output=True, text=True)
    assert run.returncode == 0 and run.stdout.startswith("symconv ")


def _write_matrix(path, spec, order="channel_major", corrupt=None):
    W = matrix(spec, order)
    rows = [[str(W[r, c]) if W[r, c] != 0 else 0 for c in range(W.cols)] for r in range(W.rows)]
    if corrupt:
        corrupt(rows)
    path.write_text(json.dumps(rows))
    return path


@pytest.mark.parametrize("method", ["sympy", "index"])
def test_verify_a_hand_typed_matrix_file(tmp_path, capsys, method):
    spec = ConvSpec(1, 2, input_size=3, kernel_size=2)
    layer = ["--in-channels", "1", "--out-channels", "2", "--input", "3", "--kernel", "2", "--method", method]
    good = _write_matrix(tmp_path / "good.json", spec, order="seed")
    assert main(["verify", *layer, "--order", "seed", "--matrix", str(good)]) == 0

    def flip(rows):  # swap the first and last weight of output row 5 (a half-flipped kernel)
        nonzero = [j for j, e in enumerate(rows[5]) if e != 0]
        rows[5][nonzero[0]], rows[5][nonzero[-1]] = rows[5][nonzero[-1]], rows[5][nonzero[0]]

    bad = _write_matrix(tmp_path / "bad.json", spec, corrupt=flip)
    capsys.readouterr()
    assert main(["verify", *layer, "--matrix", str(bad), "--json"]) == 1
    d = json.loads(capsys.readouterr().out)
    assert d["holds"] is False and d["mismatch"]["row"] == 5 and d["mismatch"]["output"] == [1, 0, 1]
    assert len(d["mismatch"]["missing"]) == 2 and len(d["mismatch"]["extra"]) == 2


@pytest.mark.parametrize(
    "content,message",
    [
        ("[[", "--matrix: '{path}' is not JSON"),
        ('[["omega_0,0,0,0 +"]]', "--matrix entry [0][0] must be a sum of [int*]symbol terms"),
        ('[["__import__(1)"]]', "--matrix entry [0][0] must be a sum of [int*]symbol terms"),
        ('[["omega_0,0,0,0"]]', "matrix must be d_y × d_x = 8 × 9"),
    ],
)
def test_matrix_file_errors(tmp_path, capsys, content, message):
    path = tmp_path / "m.json"
    path.write_text(content)
    layer = ["--in-channels", "1", "--out-channels", "2", "--input", "3", "--kernel", "2"]
    assert main(["verify", *layer, "--matrix", str(path)]) == 2
    err = capsys.readouterr().err
    assert message.format(path=path) in err and err.count("\n") == 1


def test_huge_ints_are_bad_input_not_a_crash(capsys):
    assert main(["verify", *LAYER, "--stride", "99999999999999999999999"]) == 2
    err = capsys.readouterr().err
    assert err == "symconv verify: error: stride must be ≤ 2147483647 (2³¹ − 1), got 99999999999999999999999\n"


def test_an_internal_error_is_one_line_and_exit_3(monkeypatch, capsys):
    import symconv.prove.verify as command  # the command looks verify up there when it runs

    def broken(*args, **kwargs):
        raise TypeError("something deep inside")

    monkeypatch.setattr(command, "verify", broken)
    monkeypatch.delenv("SYMCONV_DEBUG", raising=False)
    assert main(["verify", *LAYER]) == 3
    err = capsys.readouterr().err
    assert err.startswith("symconv verify: internal error: TypeError: something deep inside") and err.count("\n") == 1
    monkeypatch.setenv("SYMCONV_DEBUG", "1")
    with pytest.raises(TypeError, match="something deep inside"):
        main(["verify", *LAYER])


@pytest.mark.parametrize(
    "argv,message",
    [
        (
            ["verify", *LAYER[:1], "2.5", *LAYER[2:]],
            "symconv verify: error: argument --in-channels: must be an int ≥ 1, got '2.5'",
        ),
        (["verify", *LAYER, "--bias", "foo"], "symconv verify: error: argument --bias: invalid choice: 'foo'"),
        (["verify", *LAYER[:4], *LAYER[6:]], "symconv verify: error: the following arguments are required: --input"),
        (["verify", *LAYER, "--wat"], "symconv: error: unrecognized arguments: --wat"),
        (["nope"], "symconv: error: argument COMMAND: invalid choice: 'nope'"),
    ],
)
def test_usage_errors_are_one_line_too(capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1 and "usage:" not in err


# --------------------------------------------------------------------------- answering before the library loads
def _modules_after_cli(argv: list[str]) -> tuple[int, set[str]]:
    import subprocess
    import sys

    code = (
        "import sys\nfrom symconv.cli import main\n"
        "import contextlib, io\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):\n"
        f"    rc = main({argv!r})\n"
        "print(rc)\nprint('\\n'.join(sorted(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    lines = out.stdout.split()
    return int(lines[0]), {m.split(".")[0] for m in lines[1:]}


@pytest.mark.parametrize("argv, code", [
    (["--help"], 0),
    (["verify", "--help"], 0),
    (["verify", "--in-channels", "two", "--out-channels", "3", "--input", "5", "--kernel", "3"], 2),
    (["verify", "--in-channels", "2"], 2),
    (["nonsense"], 2),
])
def test_help_and_argument_errors_answer_before_sympy_loads(argv, code):
    rc, loaded = _modules_after_cli(argv)
    assert rc == code
    assert not loaded & {"sympy", "numpy", "jinja2", "torch", "scipy", "z3"}, sorted(loaded & {"sympy", "numpy", "jinja2"})


def test_an_unwritable_path_is_bad_input_in_one_line(monkeypatch, capsys):
    """Running as root, chmod cannot make a folder unwritable: the OSError is raised where the write happens."""
    import symconv.prove.verify as command

    def unwritable(*args, **kwargs):
        raise PermissionError(13, "Permission denied", "/read-only/r.tex")

    monkeypatch.setattr(command, "verify", unwritable)
    assert main(["verify", *LAYER]) == 2
    assert capsys.readouterr().err == "symconv verify: error: Permission denied: /read-only/r.tex\n"
