"""`explanation.md`: the plan, how it was decided, what was found, and the evidence for it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..backends.spectral.examples import EXAMPLES_WHERE
from ..instructions.spie import location_word, size_word
from ..instructions.targets import TARGETS
from ..raster.averaged_bands import AVERAGED_NOTE, band_numbers
from ..raster.band_gaps import gaps_to_say
from ..raster.browser_exports import mosaic_period
from ..raster.colour_interp import CIR_HINT
from ..raster.dead_bands import dead_bands_note
from ..raster.mask_band import alpha_read_as_data
from ..raster.pixel_grid import gcp_warp_hint, warped_by
from ..raster.raster_source import with_role_bands
from .product_quality import quality_caveats, quality_lines

if TYPE_CHECKING:
    from ..backends.base import BackendReport
    from ..passes.vectorize import RegionRecord
    from ..raster.bands import BandMapping
    from ..raster.reflectance import Scaling
    from .run_facts import RunFacts

#: Largest regions listed per target.
TOP_REGIONS = 5
#: Below this mean confidence a target's result is flagged as uncertain.
LOW_CONFIDENCE = 0.6
#: Scene share above which cloud or snow is reported as a caveat.
COVER_CAVEAT_SHARE = 0.01
#: Share of the raster read as an undeclared fill (0 in every band, no nodata value declared)
#: above which the explanation says so.
FILL_CAVEAT_SHARE = 0.001


def _ha(m2: float) -> str:
    return f"{m2 / 10_000:,.2f} ha"


def _area(facts: RunFacts, value: float) -> str:
    """An area in the run's unit: hectares, or pixels for a raster without a CRS."""
    return _ha(value) if facts.metric else f"{value:,.0f} px"


def summary_lines(facts: RunFacts) -> list[str]:
    """One line per target: regions, area and share of the valid area; or why the target has
    no result of its own (bands it needs, a cover the scene could not tell it from)."""
    lines = []
    valid = facts.valid_area
    missing = facts.undetectable
    undivided = facts.backend_report().undivided
    doubts = facts.backend_report().doubts
    for target, (count, area) in facts.target_totals().items():
        title = facts.plan.title(target)
        if target in missing:  # 0 regions, but not because the scene has none
            lines.append(
                f"{title}: cannot be found with these bands (needs {missing[target]}), not mapped"
            )
            continue
        partner = undivided.get(target)
        if partner in facts.plan.targets and count == 0:  # its pixels are the partner's result
            lines.append(
                f"{title}: not told apart from {TARGETS[partner].title} in this scene, "
                f"returned within {TARGETS[partner].title} (see the caveats)"
            )
            continue
        share = 100.0 * area / valid if valid else 0.0
        line = (
            f"{title}: {count} region{'' if count == 1 else 's'}, "
            f"{_area(facts, area)} ({share:.1f}% of the valid area)"
        )
        if partner is not None:
            line += f", {TARGETS[partner].title} included: not told apart in this scene"
        if doubt := doubts.get(target):
            line += f"; {doubt}"
        lines.append(line)
    return lines


def _region_area(facts: RunFacts, record: RegionRecord) -> float:
    if not facts.metric:
        return float(record.pixels)
    polygon = facts.polygons.get(record.region_id)
    return float(polygon.area_m2) if polygon is not None else 0.0


#: Beyond this many unused bands (an imaging spectrometer's), the roles name their bands.
UNUSED_NAMED = 8


def _from_metadata(scaling: Scaling) -> bool:
    """Whether each band's factors came from the product's metadata file (an MTL, Planet's
    XML, Maxar's IMD): how they were made is said with them."""
    return scaling.calibrated and bool(scaling.by_role)


def _band_roles(mapping: BandMapping) -> str:
    """The roles in band order; with many unused bands, each with its band numbers (the mean
    of several where the role is averaged: `BandMapping.averaged`)."""
    roles = mapping.roles
    dead = f"; {dead_bands_note(mapping)}" if mapping.dead else ""
    if sum(role is None for role in roles) <= UNUSED_NAMED:
        return ", ".join(role for role in roles if role) + dead
    used = [f"{role} ({band_numbers(mapping.bands_of(role))})" for role in roles if role]
    read = {i for role in roles if role for i in mapping.bands_of(role)}
    text = f"{', '.join(used)}; {len(roles) - len(read)} other bands unused"
    if mapping.averaged:
        text += f"; {AVERAGED_NOTE}"
    return text + dead


def build_explanation(facts: RunFacts) -> str:
    """The explanation as Markdown."""
    report = facts.backend_report()
    src = facts.source
    out: list[str] = [f'# Extraction: "{facts.plan.prompt}"', ""]
    out += ["## Plan", "", facts.plan.describe(), ""]
    out += [
        f"- Backend: `{facts.backend.name}` ({report.method}), on {report.device}.",
        f"- Input: `{src.path.name}`, {src.width} x {src.height} pixels, {src.dataset.count} bands, "
        f"{src.dataset.crs.to_string() if src.dataset.crs else 'no CRS'}.",
        f"- Bands ({src.mapping.source}): {_band_roles(src.mapping)}.",
        f"- Scaling: reflectance = {src.scaling.describe()} ({src.scaling.source})"
        + (f": {src.scaling.note}." if _from_metadata(src.scaling) else "."),
        *([f"- {src.cloud_mask.sentence()}"] if src.cloud_mask is not None else []),
        f"- Tiling: {_count(len(facts.grid), 'tile')} of {facts.grid.tile_size} px with a "
        f"{facts.grid.halo} px halo; {_count(facts.tiles_skipped_nodata, 'all-nodata tile')} "
        "skipped.",
        "",
    ]
    out += ["## Summary", ""] + [f"- {line}" for line in summary_lines(facts)] + [""]
    out += _thresholds_section(report)
    out += _largest_section(facts)
    out += _evidence_section(facts)
    if facts.product_quality is not None:
        out += quality_lines(facts.product_quality, _titles(facts))
    out += _caveats_section(facts, report)
    if report.explanation:
        out += ["## Model answer", "", report.explanation, ""]
    if facts.profile.enabled:
        out += facts.profile.markdown()
    return "\n".join(out)


def _thresholds_section(report: BackendReport) -> list[str]:
    details = report.details if isinstance(report.details, dict) else {}
    if details.get("decision") and not report.thresholds:  # a model's own decision rule
        return ["## How the model's scores became classes", "", str(details["decision"]), ""]
    lines = ["## How thresholds were chosen", ""]
    how = details.get("thresholds_how") or {}
    params = details.get("params") or {}
    set_by_analyst = [str(pair[0]) for pair in params.get("set_thresholds") or ()]
    lines.append(
        "Each threshold was chosen on this scene's own values (a global sample of the whole "
        "raster), never per tile; the ranges guard against scenes without the class."
        + (
            f" The analyst set {', '.join(set_by_analyst)} (--threshold); the scene's own "
            "choice is beside it."
            if set_by_analyst
            else ""
        )
    )
    lines.append("")
    if report.thresholds:
        lines += ["| index | threshold | how it was chosen |", "| --- | --- | --- |"]
        lines += [
            f"| {name} | {value:.3f} | {how.get(name, '')} |"
            for name, value in report.thresholds.items()
        ]
        lines.append("")
    seeds = details.get("seed_counts")
    if seeds:
        lines.append(
            "Confident seed pixels per class: "
            + ", ".join(f"{k} {v:,}" for k, v in seeds.items())
            + ". A classifier fitted on them over "
            + _feature_words(details.get("features"))
            + " labelled every pixel."
        )
        lines.append("")
    return lines


def _feature_words(features: object) -> str:
    """The classifier's features in words ("log(blue), log(green) and log(nir)")."""
    names = [str(f) for f in features] if isinstance(features, (list, tuple)) else []
    if not names:
        return "the bands"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _largest_section(facts: RunFacts) -> list[str]:
    lines = ["## Largest regions", ""]
    missing = facts.undetectable
    for t, target in enumerate(facts.plan.targets, start=1):
        records = sorted(
            (r for r in facts.kept if r.class_id == t),
            key=lambda r: -_region_area(facts, r),
        )[:TOP_REGIONS]
        lines.append(f"**{facts.plan.title(target)}**")
        lines.append("")
        if target in missing:
            lines += [f"Not mapped: it needs {missing[target]}.", ""]
            continue
        if not records:
            lines += ["None found.", ""]
            continue
        names = facts.evidence_names
        header = "| id | area | where | size | confidence |" + "".join(
            f" mean {n} |" for n in names
        )
        lines += [header, "| --- " * (5 + len(names)) + "|"]
        for r in records:
            row = (
                f"| {r.region_id} | {_area(facts, _region_area(facts, r))} | "
                f"{location_word(*r.centroid)} | {size_word(r.area_fraction)} | {r.confidence:.2f} |"
            )
            row += "".join(f" {r.evidence.get(n, float('nan')):.3f} |" for n in names)
            lines.append(row)
        lines.append("")
    return lines


def _evidence_section(facts: RunFacts) -> list[str]:
    lines = ["## Evidence", ""]
    if not facts.evidence_names or facts.inside_n is None:
        return lines + ["No index could be computed from these bands.", ""]
    lines += ["| target | index | mean inside | mean outside | difference |", "| --- " * 5 + "|"]
    for t, target in enumerate(facts.plan.targets):
        for e, name in enumerate(facts.evidence_names):
            n_in, n_out = facts.inside_n[t, e], facts.outside_n[t, e]
            if n_in == 0 or n_out == 0:
                continue
            mean_in = facts.inside_sum[t, e] / n_in
            mean_out = facts.outside_sum[t, e] / n_out
            lines.append(
                f"| {facts.plan.title(target)} | {name} | {mean_in:.3f} | {mean_out:.3f} | "
                f"{mean_in - mean_out:+.3f} |"
            )
    lines.append("")
    return lines


def _caveats_section(facts: RunFacts, report: BackendReport) -> list[str]:
    caveats: list[str] = []
    if not facts.metric:
        hint = gcp_warp_hint(facts.source.dataset)
        fix = (
            f"{hint[0].upper()}{hint[1:]}, to measure in metres."
            if hint
            else "Assign a CRS to the raster to measure in metres."
        )
        caveats.append(
            "The raster has no coordinate reference system: areas are counted in pixels, "
            "the polygons are in pixel coordinates and their m2, ha and perimeter fields are "
            f"empty. {fix}"
        )
    if placed_by := warped_by(facts.source.dataset):
        caveats.append(
            f"The raster is placed by {placed_by}: it was read warped to "
            f"{facts.source.dataset.crs.to_string()} through GDAL's warped VRT (nearest "
            "neighbour), the grid QGIS draws it on, so the outputs lie on it as shown."
        )
    if placed_by == "RPCs":
        caveats.append(
            "RPCs place a pixel by its height, and without a DEM every pixel was placed at "
            "0 m above the ellipsoid, as QGIS draws it: the raster is not orthorectified, and "
            "relief shifts the outputs as it shifts the pixels. For true positions, "
            "orthorectify it first with a DEM (gdalwarp -rpc -to RPC_DEM=dem.tif) and run on that."
        )
    if (plane := facts.pixel_areas.scale) is not None:  # None without a CRS too
        caveats.append(plane.note())
    if facts.source.mapping.source == "colour interpretation":
        caveats.append(f"True colour: {CIR_HINT}.")
    for band in alpha_read_as_data(facts.source.dataset, with_role_bands(facts.source.mapping)):
        role = facts.source.mapping.roles[band - 1] or "part of an averaged role"
        caveats.append(
            f"Band {band} is marked as transparency (alpha) in the file, but its band role makes "
            f"it {role}: it was read as data, and no pixel was hidden by it (GDAL saves four "
            "8-bit bands as red, green, blue and alpha by default)."
        )
    if facts.undeclared_fill is not None and facts.undeclared_fill[0] >= FILL_CAVEAT_SHARE:
        share, value = facts.undeclared_fill
        if declared := facts.source.declared_nodata():
            said = ", ".join(f"{v:g}" for v in declared)
            read = (
                f", beside the nodata value the file declares ({said}): those pixels were read "
                "as missing too (a fill the file does not declare)"
            )
            fix = f"where {value:g} marks the missing pixels, declare it"
            fix += f" (gdal_edit.py -a_nodata {value:g})"
        else:
            read = (
                " and the file declares no nodata value: those pixels were read as missing "
                "(a product's fill)"
            )
            fix = "where another value marks missing pixels, declare it"
            fix += " (gdal_edit.py -a_nodata VALUE)"
        caveats.append(
            f"About {share:.1%} of the raster holds {value:g} in every band{read} and are in no "
            "class. Where they are real (the black of a rendered image), they cannot be "
            f"classified; {fix}."
        )
    if facts.source.role_shift is not None:
        caveats.append(facts.source.role_shift.note())
    caveats += [gap.note() for gap in gaps_to_say(facts.band_gaps)]
    scaling = facts.source.scaling
    if not scaling.calibrated:
        caveats.append(f"Values are not calibrated reflectance: {scaling.note}")
    elif scaling.source.endswith(" added"):
        caveats.append(f"Values: {scaling.note}.")  # recognised from the values, so said
    if scaling.source.startswith("product ") and (period := mosaic_period(scaling.source)):
        caveats.append(period)
    details = report.details if isinstance(report.details, dict) else {}
    shares = details.get("scene_shares", {})
    for cover in ("cloud", "snow"):
        share = float(shares.get(cover, 0.0))
        if share >= COVER_CAVEAT_SHARE and cover not in facts.plan.targets:
            caveats.append(
                f"{TARGETS[cover].title} covers about {100 * share:.0f}% of the scene; "
                f"objects under it cannot be seen.{_cover_hint(facts, cover)}"
            )
    for t, target in enumerate(facts.plan.targets, start=1):
        records = [r for r in facts.kept if r.class_id == t]
        if not records:
            continue
        # Pixel-weighted: a thousand one-pixel specks must not outvote one large lake.
        pixels = np.array([r.pixels for r in records], dtype=float)
        confidence = float(np.dot([r.confidence for r in records], pixels) / pixels.sum())
        if confidence < LOW_CONFIDENCE:
            caveats.append(_low_confidence(facts, target, confidence, report.undivided))
    dropped = facts.regions_found - len(facts.kept)
    if dropped:
        caveats.append(f"{dropped:,} smaller or surplus regions were dropped by the plan's limits.")
    if facts.product_quality is not None:
        caveats += quality_caveats(facts.product_quality, _titles(facts))
    caveats += list(report.notes)
    lines = ["## Caveats", ""]
    lines += [f"- {c}" for c in caveats] if caveats else ["- None found."]
    return lines + [""]


def _titles(facts: RunFacts) -> dict[str, str]:
    """Each target as the plan names it."""
    return {t: facts.plan.title(t) for t in facts.plan.targets}


def _cover_hint(facts: RunFacts, cover: str) -> str:
    """What to do where the spectral backend's cloud or snow is a clear image's brightest
    surface (`example_seeds.GIVE_WAY`); nothing once the analyst has given that cover
    examples, or on another backend."""
    examples = facts.request.examples
    if facts.request.backend != "spectral" or (
        examples is not None and any(f.cls == cover for f in examples.features)
    ):
        return ""
    return (
        " If the image is clear, it is its brightest, whitest surface (white roofs, sand, "
        f"concrete): label a few of those pixels as what they are ({EXAMPLES_WHERE}) and the "
        f"{cover} class gives way to them."
    )


def _low_confidence(
    facts: RunFacts, target: str, confidence: float, undivided: dict[str, str]
) -> str:
    """The caveat of a target whose mean confidence is low; where it is low only because the
    scene could not tell the target from its partner (built-up, bare soil), which it halves,
    it says so: the land is sure, the split is not."""
    title, hint = facts.plan.title(target), _examples_hint(facts)
    partner = undivided.get(target)
    if partner is not None and 2 * confidence >= LOW_CONFIDENCE:
        return (
            f"{title}: mean confidence {confidence:.2f}, half of how sure the pixels are of the "
            f"non-vegetated land ({2 * confidence:.2f}): this scene cannot tell "
            f"{TARGETS[target].title} from {TARGETS[partner].title}; check the split against "
            f"the image{hint}."
        )
    return f"{title}: mean confidence {confidence:.2f} is low; check the result against the image{hint}."


def _examples_hint(facts: RunFacts) -> str:
    """Where the spectral backend ran on the scene's own seeds, what corrects them."""
    if facts.request.backend != "spectral" or facts.request.examples is not None:
        return ""
    return (
        ", or label a few pixels of it and of what it is confused with "
        f"({EXAMPLES_WHERE}): they correct the scene's seeds"
    )


def write_explanation(facts: RunFacts, path: Path) -> str:
    """Write `explanation.md`; return the summary (the plan, one line per target, and a line
    per band that leaves part of the raster in no class and for roles that look one band off:
    the command line, the dock and Processing show it)."""
    path.write_text(build_explanation(facts), encoding="utf-8")
    warnings = [gap.short() for gap in gaps_to_say(facts.band_gaps)]
    if facts.source.role_shift is not None:
        warnings.append(facts.source.role_shift.short())
    said = [f"{line} (see explanation.md)." for line in warnings]
    return "\n".join([facts.plan.describe(), *summary_lines(facts), *said])


def _count(n: int, noun: str) -> str:
    """``"1 tile"``, ``"6 tiles"``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
