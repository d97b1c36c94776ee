"""SPEX against the reference's golden tensors (../shared/spex-golden): every stage, both weight
sets, on torch and on the exported ONNX parts (real onnxruntime sessions), float32 on the CPU.

The golden folder holds a tiny model in the published layout (weight set A: the project's own
random init; B: "stress", every tensor random, the one that exposes the mask decoder), a real
512 px Sentinel-2 true-colour crop with its SPIE prompt, and the outputs of the reference code
(MiliLab/SPEX 799f20a, transformers 4.46) at every stage. Its README states the tolerances used
here: floats within 1e-4 of each tensor's own max|ref|; pixel values and ids exact; the sign of
the 128 x 128 logits, and so the soft masks, exact except at logits of rounding size.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from safetensors.numpy import load_file  # noqa: E402

from spex.engine.backends.spex.postprocess import soft_mask  # noqa: E402

GOLDEN = Path(__file__).resolve().parent.parent.parent / "shared" / "spex-golden"
SETS = ("A_project_init_seed0", "B_stress_all_random")
RUNTIMES = ("torch", "onnx")
RELATIVE = 1e-4  # README: max|got - ref| <= 1e-4 * max|ref|
ROUNDING = 1e-5  # README: logits with |ref| < 1e-5 * max|ref| are at rounding level
#: README: how many logits are at rounding level (the only places a sign may differ).
ROUNDING_LOGITS = {
    ("A_project_init_seed0", "mask_logits_128"): 0,
    ("A_project_init_seed0", "iso_mask_logits_128"): 1,
    ("B_stress_all_random", "mask_logits_128"): 3,
    ("B_stress_all_random", "iso_mask_logits_128"): 4,
}
EXACT = ("pixel_values", "input_ids", "generated_ids")
FLOATS = (
    "stage1",
    "stage2",
    "stage3",
    "stage4",
    "aggregated_features",
    "vision_tokens_pre_projector",
    "sam_image_embedding",
    "image_tokens_projected",
    "answer_hidden_states",
    "condensed_pooled_before_mlp",
    "condensed_sparse_prompts",
    "mask_logits_128",
    "iso_mask_logits_128",
)
MASKS = ("mask_final_512", "iso_mask_final_512")
STAGES = EXACT + FLOATS + MASKS

pytestmark = pytest.mark.skipif(
    not GOLDEN.is_dir(),
    reason=f"the golden tensors are not here ({GOLDEN}); they sit beside the repository in "
    "shared/spex-golden",
)


@pytest.fixture(scope="module")
def golden() -> dict[str, object]:
    """The golden files, checked against SHA256SUMS, loaded."""
    for line in (GOLDEN / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        assert hashlib.sha256((GOLDEN / name).read_bytes()).hexdigest() == digest, name
    prompt = json.loads((GOLDEN / "inputs" / "prompt.json").read_text())
    refs = {}
    for name in SETS:
        refs[name] = load_file(GOLDEN / "reference" / f"{name}.safetensors")
        refs[name].update(load_file(GOLDEN / "reference" / "pixel_values.safetensors"))
        refs[name]["input_ids"] = load_file(GOLDEN / "inputs" / "inputs.safetensors")["input_ids"]
    inputs = load_file(GOLDEN / "inputs" / "inputs.safetensors")
    return {"inputs": inputs, "prompt": prompt, "refs": refs}


def _torch_outputs(weights: Path, golden: dict) -> dict[str, np.ndarray]:
    from spex.engine.backends.spex.inference import SpexRunner, to_pixel_values
    from spex.engine.backends.spex.tokenizer import load_tokenizer
    from spex.engine.backends.spex.weights import load_model

    model, _ = load_model(weights, hash_files=False)
    model = model.float().eval()
    prompt, rgb = golden["prompt"], golden["inputs"]["image_rgb"][None]
    runner = SpexRunner(model, load_tokenizer(weights), prompt["max_new_tokens"])
    out: dict[str, np.ndarray] = {}
    with torch.inference_mode():
        pixels = to_pixel_values(rgb, model.config)
        vision = model.model.vision_tower.vision_tower.vision_model
        stages = vision.stages(pixels)
        fused = vision.feat_aggregator(stages)
        for i, stage in enumerate(stages, start=1):
            out[f"stage{i}"] = stage.numpy()
        out["pixel_values"] = pixels.numpy()
        out["aggregated_features"] = fused.numpy()
        out["vision_tokens_pre_projector"] = fused.flatten(2).transpose(1, 2).numpy()
        tokens, embedding = runner.encode(rgb)
        out["image_tokens_projected"], out["sam_embedding"] = tokens.numpy(), embedding.numpy()
        out["sam_image_embedding"] = out.pop("sam_embedding")
        runner.answer(tokens[0], embedding[0], prompt["request"], trace=out)
        iso = golden["refs"][weights.name]
        logits = model.decode_masks(
            torch.from_numpy(iso["iso_image_embeddings"]),
            torch.from_numpy(iso["iso_sparse_prompts"]),
        )
        out["iso_mask_logits_128"] = logits.numpy()
    return out


def _onnx_outputs(weights: Path, export_dir: Path, golden: dict) -> dict[str, np.ndarray]:
    from spex.engine.backends.onnx.export import VISION_PROBES, export_spex
    from spex.engine.backends.onnx.spex_runner import OrtSpexRunner, read_manifest
    from spex.engine.backends.spex.config import SpexConfig
    from spex.engine.backends.spex.tokenizer import load_tokenizer

    export_spex(weights, export_dir)
    prompt, rgb = golden["prompt"], golden["inputs"]["image_rgb"][None]
    config = SpexConfig.load(export_dir)
    runner = OrtSpexRunner(
        export_dir,
        config,
        read_manifest(export_dir),
        load_tokenizer(export_dir),
        max_new_tokens=prompt["max_new_tokens"],
    )
    out: dict[str, np.ndarray] = {"pixel_values": runner.pixel_values(rgb)}
    vision = runner.sessions["vision"].session
    names = ["image_tokens", "sam_embedding", *VISION_PROBES]
    for name, value in zip(
        names, vision.run(names, {"pixel_values": out["pixel_values"]}), strict=True
    ):
        out[name] = value
    out["image_tokens_projected"] = out.pop("image_tokens")
    out["sam_image_embedding"] = out.pop("sam_embedding")
    tokens, embedding = runner.encode(rgb)
    assert np.array_equal(tokens, out["image_tokens_projected"])
    runner.answer(tokens[0], embedding[0], prompt["request"], trace=out)
    iso = golden["refs"][weights.name]
    feeds = {
        "sparse_prompts": iso["iso_sparse_prompts"],
        "sam_embedding": iso["iso_image_embeddings"],
    }
    out["iso_mask_logits_128"] = runner.sessions["mask"].session.run(None, feeds)[0]
    return out


@pytest.fixture(scope="module")
def outputs(golden: dict, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """(runtime, weight set) -> the project's tensors, computed once each."""
    cache: dict[tuple[str, str], dict[str, np.ndarray]] = {}

    def get(runtime: str, name: str) -> dict[str, np.ndarray]:
        if (runtime, name) not in cache:
            weights = GOLDEN / "weights" / name
            if runtime == "torch":
                got = _torch_outputs(weights, golden)
            else:
                got = _onnx_outputs(weights, tmp_path_factory.mktemp(f"onnx_{name}"), golden)
            for kind in ("", "iso_"):
                got[f"{kind}mask_final_512"] = soft_mask(
                    got[f"{kind}mask_logits_128"], 512, 512, 512
                )
            cache[(runtime, name)] = got
        return cache[(runtime, name)]

    return get


def _rounding_cells(ref: np.ndarray) -> np.ndarray:
    return np.abs(ref) < ROUNDING * np.abs(ref).max()


def _check_signs(got: np.ndarray, ref: np.ndarray, name: str, stage: str) -> None:
    """Signs equal except at logits of rounding size (as many as the README counts)."""
    rounding = _rounding_cells(ref)
    assert int(rounding.sum()) == ROUNDING_LOGITS[(name, stage)]
    differ = (got > 0) != (ref > 0)
    assert not (differ & ~rounding).any(), f"{int((differ & ~rounding).sum())} signs differ"


def _check_soft_mask(got: np.ndarray, ref: np.ndarray, logits_ref: np.ndarray) -> None:
    """Exact, except in the 8 x 8 px reach of a rounding-size logit."""
    rounding = _rounding_cells(logits_ref)
    reach = np.zeros_like(rounding)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            reach |= np.roll(rounding, (dy, dx), axis=(-2, -1))
    allowed = np.kron(reach, np.ones((4, 4), bool))
    differ = got != ref
    assert not (differ & ~allowed).any(), f"{int((differ & ~allowed).sum())} px differ"
    assert set(np.unique(got * 64)) <= set(range(65))  # multiples of 1/64, in [0, 1]


@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize("name", SETS)
@pytest.mark.parametrize("runtime", RUNTIMES)
def test_stage_matches_the_reference(outputs, golden, runtime: str, name: str, stage: str) -> None:
    ref = golden["refs"][name][stage]
    got = np.asarray(outputs(runtime, name)[stage])
    assert got.shape == ref.shape, (got.shape, ref.shape)
    if stage in EXACT:
        assert np.array_equal(got, ref)
    elif stage in MASKS:
        _check_soft_mask(got, ref, golden["refs"][name][stage.replace("final_512", "logits_128")])
    else:
        error = float(np.abs(got.astype(np.float64) - ref).max())
        scale = float(np.abs(ref).max())
        assert error <= RELATIVE * scale, f"max error {error:.3g} > 1e-4 x {scale:.3g}"
        if stage.endswith("logits_128"):
            _check_signs(got, ref, name, stage)


@pytest.mark.parametrize("name", SETS)
def test_positional_encoding_and_postprocessing_alone(golden, name: str) -> None:
    """The prompt encoder's dense positional encoding; the reference post-processing applied to
    the stored logits reproduces the stored soft masks exactly (README)."""
    from spex.engine.backends.spex.sam_parts import image_positional_embeddings
    from spex.engine.backends.spex.weights import load_model

    ref = golden["refs"][name]
    model, _ = load_model(GOLDEN / "weights" / name, hash_files=False)
    with torch.no_grad():
        got = image_positional_embeddings(model.model.vision_tower.sampromptencoder, 32)
    scale = float(np.abs(ref["image_positional_embeddings"]).max())
    assert np.abs(got.numpy() - ref["image_positional_embeddings"]).max() <= RELATIVE * scale
    for kind in ("", "iso_"):
        soft = soft_mask(ref[f"{kind}mask_logits_128"], 512, 512, 512)
        assert np.array_equal(soft, ref[f"{kind}mask_final_512"])


def test_single_softmax_decoder_misses_the_stress_reference(golden) -> None:
    """The control: transformers' SAM decoder as is (one softmax everywhere), with the stress
    weights, gives the README's single-softmax control and not the reference; set A's nearly
    flat attention cannot tell the two apart."""
    from transformers.models.sam.modeling_sam import SamMaskDecoder

    from spex.engine.backends.spex import sam_parts
    from spex.engine.backends.spex.weights import load_model

    for name in SETS:
        ref = golden["refs"][name]
        model, _ = load_model(GOLDEN / "weights" / name, hash_files=False)
        tower = model.model.vision_tower
        config = sam_parts.sam_config(model.config.sam).mask_decoder_config
        config._attn_implementation = "eager"
        plain = SamMaskDecoder(config)
        plain.load_state_dict(tower.mask_decoder.state_dict())
        with torch.no_grad():
            single = sam_parts.decode_masks(
                tower.sampromptencoder,
                plain,
                torch.from_numpy(ref["iso_image_embeddings"]),
                torch.from_numpy(ref["iso_sparse_prompts"]),
            ).numpy()
        scale = float(np.abs(ref["iso_mask_logits_128"]).max())
        control = ref["iso_control_single_softmax_logits_128"]
        assert np.abs(single - control).max() <= 2 * RELATIVE * np.abs(control).max()
        error = float(np.abs(single - ref["iso_mask_logits_128"]).max()) / scale
        signs = float(((single > 0) != (ref["iso_mask_logits_128"] > 0)).mean())
        if name.startswith("B"):
            assert error > 1.0 and signs > 0.3, (error, signs)  # measured: 1.85, 35.8 %
        else:
            assert error < RELATIVE, error


def test_the_prompt_is_rendered_from_the_crop(golden, s2_scene: Path) -> None:
    """The request: NDWI > 0 regions of the crop, rendered by the project's own SPIE code."""
    import rasterio
    from rasterio.windows import Window

    from spex.engine.instructions.spie import regions_from_mask, render_spie_prompt

    prompt = golden["prompt"]
    window = prompt["image_source"]["window"]
    source = prompt["spie_regions_from"]
    with rasterio.open(s2_scene) as src:
        names = list(src.descriptions)
        win = Window(window["col_off"], window["row_off"], window["width"], window["height"])
        green, nir = (
            src.read(names.index(b) + 1, window=win).astype(np.float64) for b in ("B3", "B8")
        )
    ndwi = (green - nir) / (green + nir)
    regions = regions_from_mask(ndwi > 0, source["min_region_pixels"], source["max_regions"])
    assert render_spie_prompt(source["category"], regions) == prompt["request"]
