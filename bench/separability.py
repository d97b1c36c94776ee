"""How well every catalogued spectral index separates two labelled classes, scene by scene.

A candidate rule for the spectral backend is worth trying only if one direction of it holds on
every scene that labels both classes. This scores each index of the Awesome Spectral Indices
catalogue (spyndex 0.12.0's ``spectral-indices-dict.json``, from the sample data's pinned wheel;
formulas are never executed as code: a small arithmetic evaluator computes them) by the area under the ROC curve
(AUC) of the positive class against the negative one, on the labelled pixels of each scene of
``bench/quality``'s groups. An index is listed with its AUC per scene and its worst scene in its
better fixed direction: ``worst`` = max(min AUC, 1 - max AUC); 0.5 means some scene inverts it.

Run: ``PYTHONPATH=. .venv/bin/python -m bench.separability --positive builtup --negative bare``
(``--negative other`` or ``vegetation``; ``--groups benchmark,extra,dev``; ``--top 15``;
``--partial`` also ranks indices that some scenes lack the bands for).
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import json
import operator
import sys
from collections.abc import Callable, Iterable, Mapping

import numpy as np
import rasterio
from rasterio.windows import Window
from scipy.stats import rankdata

from bench.scenes import LABEL_CODES, OTHER, ROOT, Scene, all_scenes
from spex.engine.raster.raster_source import open_source

#: Engine band role -> the catalogue's band symbol.
SYMBOLS = {
    "coastal": "A",
    "blue": "B",
    "green": "G",
    "red": "R",
    "rededge1": "RE1",
    "rededge2": "RE2",
    "rededge3": "RE3",
    "nir": "N",
    "nir08": "N2",
    "watervapour": "WV",
    "swir1": "S1",
    "swir2": "S2",
    "yellow": "Y",
}
#: Domains whose indices need inputs no optical scene has (radar backscatter, kernels).
SKIPPED_DOMAINS = frozenset({"radar", "kernel"})
MIN_PIXELS = 5

_BINARY: dict[type, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: np.power,
}


def evaluate_formula(formula: str, names: Mapping[str, np.ndarray | float]) -> np.ndarray:
    """The value of an arithmetic `formula` over `names` (numbers, names, + - * / ** only).

    Anything else (calls, attributes, subscripts) raises ValueError: a formula is data.
    """

    def walk(node: ast.AST) -> np.ndarray | float:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            return _BINARY[type(node.op)](walk(node.left), walk(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -walk(node.operand)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return float(node.value)
        if isinstance(node, ast.Name) and node.id in names:
            return names[node.id]
        raise ValueError(f"unsupported term in formula {formula!r}: {ast.dump(node)[:60]}")

    with np.errstate(all="ignore"):
        return np.asarray(walk(ast.parse(formula, mode="eval")), dtype=np.float64)


def _sample_data():
    """``scripts/sample_data.py`` (not a package), loaded once under the tests' module name."""
    name = "spex_sample_data"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / "sample_data.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # its dataclasses look their module up
        spec.loader.exec_module(module)
    return sys.modules[name]


def catalogue() -> tuple[dict[str, dict], dict[str, float]]:
    """The catalogue's optical indices and its constants' default values.

    Both files come from the sample data's sha256-pinned spyndex wheel (``make data``).
    """
    paths = _sample_data().ensure_sample_data(ROOT / ".cache")
    indices = json.loads(paths["spyndex_indices_json"].read_text(encoding="utf-8"))
    constants = json.loads(paths["spyndex_constants_json"].read_text(encoding="utf-8"))
    optical = {
        name: spec
        for name, spec in indices["SpectralIndices"].items()
        if spec["application_domain"] not in SKIPPED_DOMAINS
    }
    defaults = {
        name: float(spec["default"])
        for name, spec in constants.items()
        if isinstance(spec.get("default"), (int, float))
    }
    return optical, defaults


def auc(pos: np.ndarray, neg: np.ndarray) -> float:
    """Mann-Whitney AUC of `pos` above `neg` (ties count half); NaN when either is empty."""
    pos, neg = pos[np.isfinite(pos)], neg[np.isfinite(neg)]
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    ranks = rankdata(np.concatenate([pos, neg]))  # ties share their mean rank
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def labelled_pixels(scene: Scene, positive: int, negative: int) -> dict[str, np.ndarray] | None:
    """Band values (reflectance, by catalogue symbol) and `is_positive` of the two classes."""
    values: dict[str, list[np.ndarray]] = {}
    flags: list[np.ndarray] = []
    for image, labels_path in scene.rasters:
        with rasterio.open(labels_path) as src:
            lab = src.read(1)
        keep = (lab == positive) | (lab == negative)
        if not keep.any():
            continue
        with open_source(image, bands=scene.bands, sensor=scene.sensor, scale=scene.scale) as src:
            bands = src.read(Window(0, 0, src.width, src.height))
        for role, symbol in SYMBOLS.items():
            if role in bands:
                values.setdefault(symbol, []).append(bands[role][keep].astype(np.float64))
        flags.append(lab[keep] == positive)
    if not flags:
        return None
    out = {k: np.concatenate(v) for k, v in values.items() if len(v) == len(flags)}
    out["is_positive"] = np.concatenate(flags)
    if out["is_positive"].sum() < MIN_PIXELS or (~out["is_positive"]).sum() < MIN_PIXELS:
        return None
    return out


def separability(
    scenes: Iterable[Scene], positive: str, negative: str
) -> tuple[list[str], dict[str, dict[str, float]]]:
    """Scene names and, per index, its AUC on each scene that labels both classes."""
    code = {**LABEL_CODES, "other": OTHER}
    indices, constants = catalogue()
    names: list[str] = []
    table: dict[str, dict[str, float]] = {}
    for scene in scenes:
        pixels = labelled_pixels(scene, code[positive], code[negative])
        if pixels is None:
            continue
        names.append(scene.name)
        is_pos = pixels.pop("is_positive")
        for name, spec in indices.items():
            if not set(spec["bands"]) <= set(pixels) | set(constants):
                continue
            try:
                v = evaluate_formula(spec["formula"], {**constants, **pixels})
            except (ValueError, ZeroDivisionError):
                continue
            v = np.broadcast_to(v, is_pos.shape)
            table.setdefault(name, {})[scene.name] = auc(v[is_pos], v[~is_pos])
    return names, table


def worst_case(aucs: Mapping[str, float]) -> tuple[float, str]:
    """The worst scene's AUC in the index's better fixed direction, and that direction."""
    finite = [a for a in aucs.values() if np.isfinite(a)]
    if not finite:
        return float("nan"), ""
    low, high = min(finite), max(finite)
    return (low, ">") if low >= 1 - high else (1 - high, "<")


def markdown(
    names: list[str],
    table: dict[str, dict[str, float]],
    top: int,
    everywhere: bool,
    also: Iterable[str] = (),
) -> str:
    """The `top` indices by worst-case AUC (`everywhere`: only those with an AUC on every scene)."""
    rows = []
    for index, aucs in table.items():
        if everywhere and sum(np.isfinite(a) for a in aucs.values()) < len(names):
            continue
        worst, direction = worst_case(aucs)
        if np.isfinite(worst):
            rows.append((worst, index, direction, aucs))
    rows.sort(key=lambda r: (-r[0], r[1]))
    listed = rows[:top]
    for index in also:  # asked for by name: shown wherever they rank
        if index in table and index not in {r[1] for r in listed}:
            worst, direction = worst_case(table[index])
            listed.append((worst, index, direction, table[index]))
    head = "| index | positive is | worst AUC | " + " | ".join(names) + " |"
    lines = [head, "| --- " * (3 + len(names)) + "|"]
    for worst, index, direction, aucs in listed:
        cells = " | ".join(f"{aucs[n]:.2f}" if n in aucs else "-" for n in names)
        side = {">": "higher", "<": "lower"}.get(direction, "-")
        lines.append(f"| {index} | {side} | {worst:.2f} | {cells} |")
    return "\n".join(lines)


def main(argv: Iterable[str] | None = None) -> None:
    """Print the table of the best indices for one pair of classes."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    choices = [*LABEL_CODES, "other"]
    parser.add_argument("--positive", default="builtup", choices=choices)
    parser.add_argument("--negative", default="bare", choices=choices)
    parser.add_argument("--groups", default="benchmark,extra,dev")
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--index", action="append", default=[], help="also list this index")
    parser.add_argument(
        "--partial", action="store_true", help="also indices some scenes lack the bands for"
    )
    args = parser.parse_args(list(argv) if argv is not None else None)
    scenes = all_scenes(tuple(args.groups.split(",")))
    names, table = separability(scenes, args.positive, args.negative)
    print(f"{args.positive} against {args.negative}: {len(table)} indices, scenes {names}")
    print(markdown(names, table, args.top, not args.partial, args.index))


if __name__ == "__main__":
    main()
