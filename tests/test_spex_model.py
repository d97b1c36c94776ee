"""SPEX model: published names and sizes, DCNv3 against a direct computation, strict loading."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from spex.engine.backends.spex.config import SpexConfig, full_config, tiny_config  # noqa: E402
from spex.engine.backends.spex.dcnv3 import DCNv3, dcnv3_core_torch  # noqa: E402
from spex.engine.backends.spex.model import (  # noqa: E402
    build_model,
    count_parameters,
    parameter_table,
)
from spex.engine.backends.spex.weights import (  # noqa: E402
    build_random_model,
    load_model,
    save_model,
)
from spex.engine.errors import BackendError  # noqa: E402

KEYS_TSV = (
    Path(__file__).resolve().parent.parent.parent / "shared" / "notes" / "spex_checkpoint_keys.tsv"
)


def _reference_keys() -> dict[str, tuple[int, ...]]:
    lines = KEYS_TSV.read_text(encoding="utf-8").splitlines()
    rows = [line.split("\t") for line in lines if line and not line.startswith("#")]
    return {name: tuple(int(v) for v in shape.split(",")) for name, shape in rows}


def test_full_model_names_shapes_and_size_match_the_published_checkpoint() -> None:
    model = build_model(full_config(), "meta")
    table = dict(parameter_table(model))
    assert len(table) == 1328
    assert "lm_head.weight" in table and "model.image_newline" in table
    assert table[
        "model.vision_tower.vision_tower.vision_model.feat_aggregator.fuse_all.0.weight"
    ] == (
        1024,
        2400,
        1,
        1,
    )
    if KEYS_TSV.is_file():  # the derived key list of the published code, when present
        reference = _reference_keys()
        assert set(table) == set(reference)
        assert {k: v for k, v in table.items() if reference[k] != v} == {}
    count = count_parameters(model)
    assert abs(count - 1.78e9) / 1.78e9 < 0.01, count


def test_models_keys_command_prints_every_tensor(capsys: pytest.CaptureFixture[str]) -> None:
    from spex.engine.cli import main

    assert main(["models", "keys", "--size", "full"]) == 0
    out = capsys.readouterr()
    lines = out.out.strip().splitlines()
    assert len(lines) == 1328
    name, shape = lines[1].split("\t")
    assert (name, shape) == ("model.embed_tokens.weight", "151936,1536")
    assert "1,778,3" in out.err


def test_tiny_config_builds_the_same_module_tree() -> None:
    full_names = {_pattern(n) for n, _ in parameter_table(build_model(full_config(), "meta"))}
    tiny = build_model(tiny_config(), "cpu")
    tiny_names = {_pattern(n) for n, _ in parameter_table(tiny)}
    assert tiny_names == full_names
    assert count_parameters(tiny) < 2_000_000


def _pattern(name: str) -> str:
    import re

    return re.sub(r"\.\d+\.", ".N.", re.sub(r"\.\d+\.", ".N.", name))


def _naive_dcnv3(x, offset, mask, k, stride, pad, dilation, group, offset_scale):
    """Direct loops: bilinear samples (zeros outside) weighted by the modulation masks."""
    n, h, w, c = x.shape
    _, ho, wo, _ = offset.shape
    cg = c // group
    centre = dilation * (k - 1) // 2
    out = np.zeros((n, ho, wo, c))
    off = offset.reshape(n, ho, wo, group, k * k, 2)
    msk = mask.reshape(n, ho, wo, group, k * k)

    def pixel(b, yy, xx, g):
        if 0 <= yy < h and 0 <= xx < w:
            return x[b, yy, xx, g * cg : (g + 1) * cg]
        return np.zeros(cg)

    for b in range(n):
        for oy in range(ho):
            for ox in range(wo):
                for g in range(group):
                    acc = np.zeros(cg)
                    for ix in range(k):
                        for iy in range(k):
                            p = ix * k + iy
                            px = (
                                ox * stride
                                - pad
                                + centre
                                + (ix * dilation - centre + off[b, oy, ox, g, p, 0]) * offset_scale
                            )
                            py = (
                                oy * stride
                                - pad
                                + centre
                                + (iy * dilation - centre + off[b, oy, ox, g, p, 1]) * offset_scale
                            )
                            x0, y0 = math.floor(px), math.floor(py)
                            fx, fy = px - x0, py - y0
                            value = (
                                pixel(b, y0, x0, g) * (1 - fx) * (1 - fy)
                                + pixel(b, y0, x0 + 1, g) * fx * (1 - fy)
                                + pixel(b, y0 + 1, x0, g) * (1 - fx) * fy
                                + pixel(b, y0 + 1, x0 + 1, g) * fx * fy
                            )
                            acc += msk[b, oy, ox, g, p] * value
                    out[b, oy, ox, g * cg : (g + 1) * cg] = acc
    return out


@pytest.mark.parametrize(
    ("stride", "pad", "dilation", "offset_scale"), [(1, 1, 1, 2.0), (2, 1, 1, 1.0), (1, 2, 2, 0.5)]
)
def test_dcnv3_pure_pytorch_matches_a_direct_computation(
    stride, pad, dilation, offset_scale
) -> None:
    rng = np.random.default_rng(7)
    n, h, w, group, cg, k = 2, 6, 7, 2, 3, 3
    ho = (h + 2 * pad - dilation * (k - 1) - 1) // stride + 1
    wo = (w + 2 * pad - dilation * (k - 1) - 1) // stride + 1
    x = rng.normal(size=(n, h, w, group * cg))
    offset = rng.normal(scale=1.5, size=(n, ho, wo, group * k * k * 2))
    logits = rng.normal(size=(n, ho, wo, group, k * k))
    mask = (np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)).reshape(n, ho, wo, -1)
    expected = _naive_dcnv3(x, offset, mask, k, stride, pad, dilation, group, offset_scale)
    got = dcnv3_core_torch(
        torch.tensor(x, dtype=torch.float32),
        torch.tensor(offset, dtype=torch.float32),
        torch.tensor(mask, dtype=torch.float32),
        k,
        stride,
        pad,
        dilation,
        group,
        offset_scale,
    )
    assert got.shape == (n, ho, wo, group * cg)
    np.testing.assert_allclose(got.numpy(), expected, atol=1e-5)


def test_dcnv3_with_zero_offsets_and_uniform_mask_is_a_dilated_box_filter() -> None:
    module = DCNv3(channels=4, group=1, offset_scale=1.0)
    with torch.no_grad():
        for layer in (module.offset, module.mask):
            layer.weight.zero_()
            layer.bias.zero_()
        module.input_proj.weight.copy_(torch.eye(4))
        module.input_proj.bias.zero_()
        module.output_proj.weight.copy_(torch.eye(4))
        module.output_proj.bias.zero_()
    x = torch.randn(1, 8, 8, 4)
    box = torch.nn.functional.avg_pool2d(
        x.permute(0, 3, 1, 2), 3, stride=1, padding=1, count_include_pad=True
    ).permute(0, 2, 3, 1)
    torch.testing.assert_close(module(x), box, atol=1e-5, rtol=1e-5)


@pytest.fixture(scope="module")
def tiny_model():
    return build_random_model(tiny_config(), seed=3)


def _same_weights(a, b) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_save_and_load_round_trip_single_and_sharded(tiny_model, tmp_path: Path) -> None:
    names = save_model(tiny_model, tmp_path / "one")
    assert names == ["model.safetensors"]
    loaded, info = load_model(tmp_path / "one")
    assert _same_weights(tiny_model, loaded)
    assert info.lm_head_in_file and not info.tied  # the tiny config has its own head
    assert len(info.checkpoint_sha256) == 64
    shards = save_model(tiny_model, tmp_path / "sharded", max_shard_bytes=400_000)
    assert len(shards) > 1 and (tmp_path / "sharded" / "model.safetensors.index.json").is_file()
    loaded, info = load_model(tmp_path / "sharded")
    assert _same_weights(tiny_model, loaded) and set(info.files) == set(shards)
    assert SpexConfig.load(tmp_path / "sharded") == tiny_model.config


def test_tied_head_and_image_newline_load_with_and_without_them(tmp_path: Path) -> None:
    from dataclasses import replace

    config = tiny_config()
    config = replace(config, text=replace(config.text, tie_word_embeddings=True))
    model = build_random_model(config, seed=1)
    assert model.tied
    save_model(model, tmp_path / "tied")  # like save_pretrained: no lm_head.weight
    save_model(model, tmp_path / "both", include_lm_head=True)  # like the training save
    model.model.image_newline = None
    save_model(model, tmp_path / "no_newline")
    for folder in ("tied", "both", "no_newline"):
        loaded, info = load_model(tmp_path / folder)
        assert loaded.tied, folder
        assert torch.equal(loaded.lm_head.weight, model.model.embed_tokens.weight)
        assert info.lm_head_in_file == (folder == "both")
        assert info.image_newline_in_file == (folder != "no_newline")


def test_mismatched_keys_give_one_clear_error(tiny_model, tmp_path: Path) -> None:
    from safetensors.torch import load_file, save_file

    save_model(tiny_model, tmp_path)
    tensors = load_file(str(tmp_path / "model.safetensors"))
    tensors.pop("model.norm.weight")
    tensors["model.extra_head.weight"] = torch.zeros(2)
    tensors["model.mm_projector.0.bias"] = torch.zeros(3)
    save_file(tensors, str(tmp_path / "model.safetensors"))
    with pytest.raises(BackendError) as raised:
        load_model(tmp_path)
    message = str(raised.value)
    assert "\n" not in message
    assert "1 missing" in message and "model.norm.weight" in message
    assert "1 unexpected" in message and "model.extra_head.weight" in message
    assert "model.mm_projector.0.bias file [3] vs model [64]" in message


def test_config_json_round_trip_and_published_layout(tmp_path: Path) -> None:
    config = tiny_config()
    config.save(tmp_path / "config.json")
    raw = json.loads((tmp_path / "config.json").read_text())
    assert raw["model_type"] == "llava_qwen" and raw["hidden_size"] == 64
    assert SpexConfig.load(tmp_path) == config
    published = {k: v for k, v in full_config().to_json_dict().items() if k != "spex"}
    assert SpexConfig.from_json_dict(published) == full_config()


def test_double_softmax_sits_only_in_the_two_way_layers_token_to_image_attention() -> None:
    """The reference (transformers 4.46, attention_similarity=False) applies softmax twice in
    each two-way layer's token-to-image cross-attention, and only there."""
    from transformers.models.sam.modeling_sam import SamAttention

    from spex.engine.backends.spex.sam_parts import DoubleSoftmaxAttention

    decoder = build_model(tiny_config(), "cpu").model.vision_tower.mask_decoder
    modules = dict(decoder.named_modules())
    doubled = sorted(n for n, m in modules.items() if isinstance(m, DoubleSoftmaxAttention))
    layers = len(decoder.transformer.layers)
    assert doubled == [f"transformer.layers.{i}.cross_attn_token_to_image" for i in range(layers)]
    single = {n for n, m in modules.items() if isinstance(m, SamAttention)}
    assert "transformer.final_attn_token_to_image" in single
    assert len(single) == 1 + 2 * layers  # self-attention and image-to-token per layer, final
    # and it computes softmax(softmax(q k^T / sqrt(d))) v, written out here by hand
    attention = modules[doubled[0]]
    torch.manual_seed(0)
    width = attention.q_proj.in_features
    queries, keys = torch.randn(2, 1, 5, width), torch.randn(2, 1, 7, width)
    with torch.no_grad():
        got = attention(queries, keys, keys)
        got = got[0] if isinstance(got, tuple) else got
        heads = attention.num_attention_heads

        def split(x: torch.Tensor) -> torch.Tensor:
            return x.reshape(2, x.shape[2], heads, -1).transpose(1, 2)

        q, k = split(attention.q_proj(queries)), split(attention.k_proj(keys))
        v = split(attention.v_proj(keys))
        p = torch.softmax(torch.softmax(q @ k.transpose(2, 3) / math.sqrt(q.shape[-1]), -1), -1)
        expected = attention.out_proj((p @ v).transpose(1, 2).reshape(2, 1, 5, -1))
    assert torch.allclose(got, expected, atol=1e-6)
