"""Receptive fields: input validation, published tables, hand derivations, one layer against 𝒲, DAGs, ERF."""

from __future__ import annotations

import json

import numpy as np
import pytest

from symconv import ConvSpec, SpecError, TooLargeError, matrix
from symconv.receptive.check import graph_operator
from symconv.receptive.field import conv_inputs, effective_receptive_field, receptive_field
from symconv.receptive.layers import Branches, Graph, Layer, Node, build_graph, layers_from_json, parse_layer
from tests.cases import CASES, IDS, SPECS


# ------------------------------------------------------------------------------------ validation
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kernel_size": 0}, r"^kernel_size must be ≥ 1, got 0$"),
        ({"kernel_size": (3, 0)}, r"^kernel_size must be ≥ 1, got \(3, 0\)$"),
        ({"kernel_size": 3, "stride": 0}, r"^stride must be ≥ 1, got 0$"),
        ({"kernel_size": 3, "dilation": 0}, r"^dilation must be ≥ 1, got 0$"),
        ({"kernel_size": 3, "padding": -1}, r"^padding must be ≥ 0, got -1$"),
        ({"kernel_size": True}, r"^kernel_size must be an int ≥ 1 or a tuple of ints ≥ 1, got True$"),
        ({"kernel_size": ()}, r"^kernel_size must be an int ≥ 1 or a tuple of ints ≥ 1, got \(\)$"),
        ({"kernel_size": 3, "padding": "full"},
         r"^padding must be an int ≥ 0, a tuple of ints ≥ 0, 'valid' or 'same', got 'full'$"),
        ({"kernel_size": 3, "padding": "same", "stride": 2},
         r"^padding='same' needs stride 1 on every axis \(as in PyTorch\), got stride=2$"),
        ({"kernel_size": 3, "padding": "same", "kind": "maxpool"},
         r"^padding='same' is for kind='conv' only \(as in PyTorch\), got kind='maxpool'$"),
        ({"kernel_size": 3, "dilation": 2, "kind": "avgpool"},
         r"^dilation must be 1 for kind='avgpool' \(PyTorch's AvgPool has none\), got 2$"),
        ({"kernel_size": 3, "kind": "pool"}, r"^kind must be 'conv', 'maxpool', 'avgpool' or 'tconv', got 'pool'$"),
        ({"kernel_size": (3, 3), "stride": (1, 1, 1)},
         r"^per-axis values must all have the same number of axes, got kernel_size=\(3, 3\), stride=\(1, 1, 1\)$"),
    ],
)
def test_layer_rejects_bad_values_with_one_line(kwargs, message):
    with pytest.raises(SpecError, match=message):
        Layer(**kwargs)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("conv", r"^the kernel size k is required, e\.g\. 'conv:k=3', got 'conv'$"),
        ("conv:k=3,q=1", r"^layer must look like 'conv:k=3,s=2,p=1,d=1' .*, got 'conv:k=3,q=1'$"),
        ("conv:k=3,k=5", r"^kernel_size is given twice in 'conv:k=3,k=5'$"),
        ("conv:k=a", r"^kernel_size must be an int or one int per axis like 3x1, got 'a' in 'conv:k=a'$"),
        ("max:k=2", r"^kind must be 'conv', 'maxpool', 'avgpool' or 'tconv', got 'max'$"),
    ],
)
def test_parse_layer_errors(text, message):
    with pytest.raises(SpecError, match=message):
        parse_layer(text)


@pytest.mark.parametrize(
    "layer",
    [Layer(3), Layer((3, 1), stride=(2, 1), padding=(1, 0), dilation=(1, 3)), Layer(2, 2, kind="maxpool"),
     Layer(3, 1, 1, kind="avgpool"), Layer(4, padding="same", dilation=2), Layer((5,), padding="valid")],
)
def test_describe_round_trips_through_parse_layer(layer):
    parsed = parse_layer(layer.describe())
    # equal per axis (an int and a tuple of equal ints describe the same layer)
    ndim = layer.ndim or 2
    assert parsed.axes(ndim) == layer.axes(ndim) and parsed.kind == layer.kind


def test_json_input_formats():
    data = json.loads(json.dumps({
        "input_size": [16, 16],
        "layers": ["conv:k=3,p=1", {"kind": "maxpool", "kernel_size": [2, 2], "stride": 2},
                   {"branches": [["conv:k=3,p=1"], []], "merge": "add"}],
    }))
    layers, size = layers_from_json(data)
    assert size == (16, 16)
    assert isinstance(layers[2], Branches) and layers[2].paths[1] == ()
    rf = receptive_field(layers, size)
    assert rf.output_size == (8, 8) and rf.size == (8, 8)  # 3, +1·1 (pool) = 4, +2·2 = 8
    with pytest.raises(SpecError, match=r"^a layer object has keys kind, kernel_size, stride, padding, dilation, "
                                        r"output_padding, padding_mode "
                                        r"\(kernel_size required\), got \['kind'\]$"):
        layers_from_json([{"kind": "conv"}])
    with pytest.raises(SpecError, match=r"^the JSON must be a list of layers or an object with 'layers', got str$"):
        layers_from_json("conv:k=3")


def test_graph_rejects_malformed_graphs():
    inp = Node("input", None, ())
    with pytest.raises(SpecError, match=r"^node 'a' reads 'b', which is not an earlier node$"):
        Graph((inp, Node("a", Layer(3), ("b",))))
    with pytest.raises(SpecError, match=r"^node 'm' without a layer must merge ≥ 2 inputs with 'add' or 'concat'$"):
        Graph((inp, Node("m", None, ("input",), merge="add")))
    with pytest.raises(SpecError, match=r"^node 'a' does not reach the output 'b'; remove it$"):
        Graph((inp, Node("a", Layer(3), ("input",)), Node("b", Layer(3), ("input",))))
    with pytest.raises(SpecError, match=r"^paths must be a sequence of at least 2 paths"):
        Branches(([Layer(3)],))
    with pytest.raises(SpecError, match=r"^layers disagree on the number of spatial axes: \[1, 2\]$"):
        receptive_field([Layer((3,)), Layer((3, 3))])


def test_sizes_are_checked():
    with pytest.raises(SpecError, match=r"^layer 'conv2' does not fit on axis 0: the dilated kernel spans 5 but the "
                                        r"padded feature map is 3 \(size 3 \+ padding 0\)$"):
        receptive_field([Layer(3), Layer(3, dilation=2)], input_size=5)
    specs = [ConvSpec(1, 2, input_size=8, kernel_size=3), ConvSpec(2, 2, input_size=8, kernel_size=3)]
    with pytest.raises(SpecError, match=r"^layer 'conv2' is a ConvSpec for input 8×8 but receives a 6×6 feature map$"):
        receptive_field(specs)
    rf = receptive_field([specs[0], ConvSpec(2, 2, input_size=6, kernel_size=3)])
    assert rf.input_size == (8, 8) and rf.output_size == (4, 4)  # taken from the first ConvSpec
    with pytest.raises(SpecError, match=r"^index \(4, 0\) is outside the output 4×4: entry 0 must be in 0\.\.3$"):
        rf.region((4, 0))


@pytest.mark.parametrize(
    ("index", "message"),
    [
        ((-1,), r"index must be ≥ 0 on every axis \(0-based, no negative indices; allowed 0\.\.2 × 0\.\.3 for the "
                r"output 3×4\), got \(-1,\)"),
        ((1, -2), r"index must be ≥ 0 on every axis \(0-based, no negative indices; allowed 0\.\.2 × 0\.\.3 for the "
                  r"output 3×4\), got \(1, -2\)"),
        ((1,), r"index must have 2 entries, one per spatial axis \(0-based; allowed 0\.\.2 × 0\.\.3 for the output "
               r"3×4\), got 1: \(1,\)"),
        ((0, 0, 0), r"index must have 2 entries, one per spatial axis \(0-based; allowed 0\.\.2 × 0\.\.3 for the "
                    r"output 3×4\), got 3: \(0, 0, 0\)"),
        ((0, 4), r"index \(0, 4\) is outside the output 3×4: entry 1 must be in 0\.\.3"),
        ((0, 1.0), r"index must be a tuple of 2 ints \(0-based, one per spatial axis; allowed 0\.\.2 × 0\.\.3 for the "
                   r"output 3×4\), got \(0, 1\.0\)"),
        (1, r"index must be a tuple of 2 ints \(0-based, one per spatial axis; allowed 0\.\.2 × 0\.\.3 for the "
            r"output 3×4\), got 1"),
    ],
)
def test_a_bad_index_is_named_by_its_problem(index, message):
    """Sign, number of entries, range and type each get their own message (a 1-entry negative index used to be
    reported as a wrong length)."""
    rf = receptive_field([Layer(3)], input_size=(5, 6))
    with pytest.raises(SpecError, match=f"^{message}$"):
        rf.region(index)
    with pytest.raises(SpecError, match=f"^{message}$"):
        rf.box(index)


# ------------------------------------------------------------------------- published tables
# google-research/receptive_field, RF_RESULTS.md (TF-Slim models): end-point → (RF, effective stride, padding).
# TF's SAME padding with stride 1 and an odd kernel is PyTorch's symmetric (k − 1)/2.
def _vgg(blocks: list[int]) -> tuple[list[Layer], list[str]]:
    layers, names = [], []
    for b, convs in enumerate(blocks, start=1):
        for c in range(1, convs + 1):
            layers.append(Layer(3, padding=1))
            names.append(f"conv{b}_{c}")
        layers.append(Layer(2, stride=2, kind="maxpool"))
        names.append(f"pool{b}")
    return layers, names


PUBLISHED = {
    "vgg_16": (_vgg([2, 2, 3, 3, 3]), {
        "conv1_1": (3, 1, 1), "pool1": (6, 2, 2), "conv2_1": (10, 2, 4), "pool2": (16, 4, 6), "conv3_1": (24, 4, 10),
        "conv3_2": (32, 4, 14), "pool3": (44, 8, 18), "conv4_1": (60, 8, 26), "conv4_2": (76, 8, 34),
        "pool4": (100, 16, 42), "conv5_1": (132, 16, 58), "conv5_2": (164, 16, 74), "pool5": (212, 32, 90)}),
    "vgg_a": (_vgg([1, 1, 2, 2, 2]), {
        "conv1_1": (3, 1, 1), "pool1": (4, 2, 1), "conv2_1": (8, 2, 3), "pool2": (10, 4, 3), "conv3_1": (18, 4, 7),
        "conv3_2": (26, 4, 11), "pool3": (30, 8, 11), "conv4_1": (46, 8, 19), "conv4_2": (62, 8, 27),
        "pool4": (70, 16, 27), "conv5_1": (102, 16, 43), "conv5_2": (134, 16, 59), "pool5": (150, 32, 59)}),
    "alexnet_v2": (
        ([Layer(11, 4), Layer(3, 2, kind="maxpool"), Layer(5, padding="same"), Layer(3, 2, kind="maxpool"),
          Layer(3, padding="same"), Layer(3, padding="same"), Layer(3, padding="same"), Layer(3, 2, kind="maxpool")],
         ["conv1", "pool1", "conv2", "pool2", "conv3", "conv4", "conv5", "pool5"]),
        {"conv1": (11, 4, 0), "pool1": (19, 8, 0), "conv2": (51, 8, 16), "conv3": (99, 16, 32), "conv4": (131, 16, 48),
         "conv5": (163, 16, 64), "pool5": (195, 32, 64)}),
}


@pytest.mark.parametrize("net", list(PUBLISHED))
def test_published_receptive_fields_of_classic_networks(net):
    (layers, names), table = PUBLISHED[net]
    rf = receptive_field(layers, input_size=224)
    by_name = dict(zip(names, rf.layers[1:]))
    for end_point, (r, S, P) in table.items():
        lf = by_name[end_point]
        assert (lf.size, lf.stride, lf.padding) == ((r, r), (S, S), (P, P)), end_point


# ----------------------------------------------------------------------------- hand derivations
def test_stack_by_hand_with_regions():
    # conv k3 p1: r=3, S=1, P=1; maxpool k2 s2: r=3+1·1=4, S=2, P=1; conv k3 d2: r=4+2·2·2=12, S=2, P=1
    rf = receptive_field([Layer(3, padding=1), Layer(2, stride=2, kind="maxpool"), Layer(3, dilation=2)], input_size=10)
    assert [(lf.size[0], lf.stride[0], lf.padding[0]) for lf in rf.layers] == [(1, 1, 0), (3, 1, 1), (4, 2, 1), (12, 2, 1)]
    assert [lf.map_size for lf in rf.layers] == [(10, 10), (10, 10), (5, 5), (1, 1)]
    region = rf.region((0, 0))
    assert (region.axes[0].start, region.axes[0].end, region.axes[0].centre) == (-1, 10, 4.5)
    assert (region.axes[0].clipped_start, region.axes[0].clipped_end) == (0, 9)
    assert region.interior is False
    # output 0 reads pool outputs 0, 2, 4 (dilation 2) → conv1 outputs 0,1,4,5,8,9 → inputs all 10 rows
    pool_map = region.maps[2]
    assert pool_map.mask[:, 0].astype(int).tolist() == [1, 0, 1, 0, 1]
    assert region.maps[1].mask[:, 0].astype(int).tolist() == [1, 1, 0, 0, 1, 1, 0, 0, 1, 1]
    assert region.mask.all()


def test_one_dilated_layer_has_holes_and_clipping():
    rf = receptive_field([Layer((3,), padding=2, dilation=3)], input_size=7)
    # output j reads j − 2 + {0, 3, 6}
    for j, expected in [(0, [1, 4]), (2, [0, 3, 6]), (4, [2, 5])]:
        assert np.flatnonzero(rf.region(j).mask).tolist() == expected


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_conv_inputs_match_the_rows_of_W(spec):
    """One layer: the exact (channel, row, column) set of every output equals the nonzeros of 𝒲's row."""
    W = matrix(spec)  # rows channel-major: row = (c·H' + j)·W' + k
    rows: dict[int, set[int]] = {}
    for r, c, _ in W.row_list():
        rows.setdefault(r, set()).add(c)
    for row, index in enumerate(np.ndindex(*spec.output_shape)):
        mask = conv_inputs(spec, index)
        assert set(np.flatnonzero(mask.reshape(-1)).tolist()) == rows.get(row, set()), index


def test_conv_inputs_rejects_bad_index():
    spec = CASES["stride-2"]
    with pytest.raises(SpecError, match=r"^index must be \(channel, row, column\) within the output \(2, 3, 3\) "
                                        r"\(0-based\), got \(0, 3, 0\)$"):
        conv_inputs(spec, (0, 3, 0))


# ------------------------------------------------------------------------------------------- DAGs
def test_residual_blocks_union_over_paths():
    block = Branches(([Layer(3, padding=1), Layer(3, padding=1)], []), merge="add")
    rf = receptive_field([block, block], input_size=12)
    # paths: identity² (r 1), one body (r 5, twice), both bodies (r 9)
    assert sorted((p.size[0], p.padding[0], p.count) for p in rf.paths) == [(1, 0, 1), (5, 2, 2), (9, 4, 1)]
    assert (rf.size, rf.stride, rf.padding) == ((9, 9), (1, 1), (4, 4))
    assert rf.misaligned == ()
    # the union of path regions equals the 𝒲 product's row (independent: block construction + sums)
    product = graph_operator([block, block], 12)
    region = rf.region((5, 6))
    row = 5 * 12 + 6
    reads = product.indices[product.indptr[row]:product.indptr[row + 1]]
    assert np.flatnonzero(region.mask.reshape(-1)).tolist() == reads.tolist()


def test_misaligned_branches_are_reported():
    # 'same' with an even kernel pads 0 before, 1 after: the body's centre sits half a pixel off the shortcut's
    rf = receptive_field([Branches(([Layer(2, padding="same")], []))], input_size=6)
    assert len(rf.misaligned) == 1
    m = rf.misaligned[0]
    assert m.node == "add1" and m.centre_offsets == ((0.5, 0.5), (0.0, 0.0))
    aligned = receptive_field([Branches(([Layer(3, padding="same")], []))], input_size=6)
    assert aligned.misaligned == ()


def test_merges_refuse_different_strides_and_sizes():
    with pytest.raises(SpecError, match=r"^merge 'add1' joins branches with different effective strides "
                                        r"\(add1\.0\.conv1 2×2, input 1×1\); their outputs cannot be aligned$"):
        receptive_field([Branches(([Layer(1, stride=2)], []))])
    with pytest.raises(SpecError, match=r"^merge 'concat1' joins feature maps of different sizes "
                                        r"\(concat1\.0\.conv1 4×4, input 6×6\)$"):
        receptive_field([Branches(([Layer(3)], []), merge="concat")], input_size=6)


def test_build_graph_names_nested_branches():
    inner = Branches(([Layer(1)], [Layer(3, padding=1)]), merge="concat")
    g = build_graph([Layer(3), Branches(([inner], []))])
    assert [n.name for n in g.nodes] == ["input", "conv1", "add2.0.concat1.0.conv1", "add2.0.concat1.1.conv1",
                                         "add2.0.concat1", "add2"]


# ---------------------------------------------------------------------------- effective field
def test_effective_field_by_hand_and_against_W_products():
    erf = effective_receptive_field([Layer(3)] * 2)
    assert erf.axes[0].counts == (1, 2, 3, 2, 1)  # the number of ways to write u = t₁ + t₂, tᵢ ∈ {0, 1, 2}
    stacks = [
        [Layer(3), Layer(3, stride=2), Layer(2, dilation=2)],
        [Layer((3, 2)), Layer(2, stride=2, kind="avgpool"), Layer((1, 3), dilation=(1, 2))],
        [Layer(5, stride=3), Layer(3, dilation=3)],
    ]
    for layers in stacks:
        erf = effective_receptive_field(layers)
        rf = receptive_field(layers, input_size=30)
        product = graph_operator(layers, 30, counts=True)  # path counts of the 𝒲 product with all weights 1
        interior = [idx for idx in np.ndindex(*rf.output_size) if rf.region(idx).interior]
        assert interior, "the grid must have an interior output"
        for idx in interior[:5]:
            row = int(np.ravel_multi_index(idx, rf.output_size))
            dense = np.zeros(30 * 30, dtype=np.int64)
            run = slice(product.indptr[row], product.indptr[row + 1])
            dense[product.indices[run]] = product.data[run]
            box = rf.box(idx)
            window = dense.reshape(30, 30)[box[0].start:box[0].end + 1, box[1].start:box[1].end + 1]
            assert window.tolist() == erf.weights().astype(np.int64).tolist()
            assert window.sum() == dense.sum()  # nothing outside the box


def test_effective_field_refuses_nonlinear_and_branches():
    with pytest.raises(SpecError, match=r"^effective_receptive_field needs linear layers \(conv, avgpool\); "
                                        r"'maxpool1' is a maxpool$"):
        effective_receptive_field([Layer(2, kind="maxpool")])
    with pytest.raises(SpecError, match=r"^effective_receptive_field needs a chain of layers; 'add1' merges branches$"):
        effective_receptive_field([Branches(([Layer(3, padding=1)], []))])


def test_region_masks_option():
    layers = [Layer(3, padding=1), Layer(2, 2, kind="maxpool"), Layer(3, dilation=2)]
    rf = receptive_field(layers, input_size=12)
    with_masks, without = rf.region((1, 0)), rf.region((1, 0), masks=False)
    assert with_masks.mask is not None and without.mask is None
    assert with_masks.axes == without.axes and [m.axes for m in with_masks.maps] == [m.axes for m in without.maps]
    with pytest.raises(SpecError, match=r"^masks=True needs the input size: pass input_size to receptive_field$"):
        receptive_field(layers).region((1, 0), masks=True)
    assert receptive_field(layers).region((1, 0)).mask is None


def test_region_masks_refuse_too_many_cells(monkeypatch):
    import symconv.receptive.field as receptive

    monkeypatch.setattr(receptive, "MAX_MASK_CELLS", 100)
    rf = receptive_field([Layer(3)], input_size=8)  # 64 + 36 cells = 100: fits
    assert rf.region((0, 0)).mask is not None
    rf = receptive_field([Layer(3)], input_size=9)  # 81 + 49 cells
    assert rf.region((0, 0)).mask is None  # default: skipped when too big
    with pytest.raises(TooLargeError, match=r"^region masks: 130 cells over all feature maps, above 100; "
                                            r"use masks=False for the boxes only$"):
        rf.region((0, 0), masks=True)
