"""The dock's plan preview: what an instruction will extract, with which backend and bands,
or why it is refused, before anything runs. Pure text from the engine's parts; no Qt."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

REFUSED = "<span style='color:#b00'>{}</span>"
CAUTION = "<span style='color:#a60'>{}</span>"
#: What the model backends read, when no model has been opened yet.
MODEL_BANDS = {
    "spex": "red, green and blue (a true-colour image, one stretch per raster)",
    "onnx": "the bands the model's metadata names",
}


@dataclass(frozen=True)
class PlanPreview:
    """`html` for the dock; `plan` is the plan's one-line description ('' when refused)."""

    html: str
    plan: str
    refused: bool


def _band_list(roles: Sequence[str | None], wanted: Sequence[str]) -> str:
    names = []
    for role in wanted:
        if role in roles:
            names.append(f"{role}: band {roles.index(role) + 1}")
    return ", ".join(names)


def preview(
    text: str,
    backend: str,
    roles: Sequence[str | None] | None,
    backend_problem: str | None = None,
    model_targets: tuple[str, ...] | None = None,
) -> PlanPreview:
    """What `text` will do with `backend` on a raster whose band roles are `roles`.

    `roles` None: the band roles are not known (no raster, or they cannot be told apart).
    `backend_problem`: why the backend cannot run, if it cannot.
    `model_targets`: the chosen model's own classes as targets, so the prompt may name them.
    """
    from spex.engine.backends import left_out_refusal
    from spex.engine.errors import SpexError
    from spex.engine.instructions.instruction import parse_instruction

    text = " ".join(text.split())
    if not text:
        return PlanPreview("Write what to extract, or pick an example.", "", True)
    available = model_targets if model_targets is not None else _supported_targets(backend)
    try:
        plan = parse_instruction(text, available)
    except SpexError as error:
        return PlanPreview(REFUSED.format(html.escape(str(error))), "", True)
    described = plan.describe()
    lines = [html.escape(described)]
    refusal = left_out_refusal(plan.left_out, backend)
    if refusal:
        lines.append(REFUSED.format(html.escape(refusal)))
        return PlanPreview("<br>".join(lines), described, True)
    if backend_problem:
        lines.append(
            REFUSED.format(html.escape(f"Backend {backend} cannot run: {backend_problem}"))
        )
        return PlanPreview("<br>".join(lines), described, True)
    if roles is None or not any(roles):
        lines.append(
            REFUSED.format("Band roles unknown: choose a multiband raster, set the roles.")
        )
        return PlanPreview("<br>".join(lines), described, True)
    present = [r for r in roles if r]
    lines.append(f"Backend <b>{html.escape(backend)}</b>, {len(present)} bands with a role.")
    if backend == "spectral":
        from spex.engine.backends import get_backend

        missing = get_backend("spectral").undetectable_targets(plan, tuple(present))
        for target, needs in missing.items():
            lines.append(
                REFUSED.format(
                    html.escape(f"{target}: cannot be found with these bands, needs {needs}")
                )
            )
        if len(missing) == len(plan.targets):
            return PlanPreview("<br>".join(lines), described, True)
        lines += _spectral_evidence([t for t in plan.targets if t not in missing], roles)
    else:
        lines.append(f"Reads {MODEL_BANDS.get(backend, 'the bands it needs')}.")
    return PlanPreview("<br>".join(lines), described, False)


def _supported_targets(backend: str) -> tuple[str, ...] | None:
    """The spectral backend's targets (known without a model); None for the model backends,
    whose classes are checked against the model when the run starts."""
    if backend != "spectral":
        return None
    from spex.engine.backends import get_backend

    return get_backend("spectral").supported_targets()


def _spectral_evidence(targets: Sequence[str], roles: Sequence[str | None]) -> list[str]:
    from spex.engine.backends.spectral.evidence import evidence_for
    from spex.engine.indices import get_index

    present = [r for r in roles if r]
    lines = []
    for target in targets:
        name = evidence_for(target, present)
        if name is None:
            lines.append(
                CAUTION.format(
                    f"{html.escape(target)}: no evidence index from these bands; the classifier "
                    "relies on the scene's clusters alone"
                )
            )
            continue
        bands = _band_list(roles, get_index(name).roles)
        lines.append(f"{html.escape(target)}: evidence {name} ({html.escape(bands)})")
    return lines
