"""The input raster: opening it, its band roles and scaling, windowed reads, the global sample.

Reads always return float32 reflectance-like arrays keyed by band role, with NaN for nodata.
Scaling is resolved once per raster from a decimated read of the whole raster, so a pixel's
value never depends on which window or extent is processed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import rasterio
from rasterio.enums import ColorInterp
from rasterio.errors import RasterioIOError
from rasterio.windows import Window

from ..errors import BandError, InputError
from .averaged_bands import read_indexes, role_rows
from .band_files import band_file_hint
from .band_gaps import BandGap, band_gaps
from .band_names import completed_descriptions, is_auxiliary
from .band_units import check_one_unit
from .bands import BandMapping
from .cloud_masking import CloudMask, cloud_mask_for, masked_dataset
from .dataset_open import open_dataset
from .dead_bands import dead_role_bands, empty_bands, without_dead
from .decimated_read import read_decimated, sample_chunk_shape
from .decoded_copy import DecodedCopy, worth_copying
from .gdal_io import GDAL_IO
from .input_kind import not_imagery
from .mask_band import hidden_fills, read_masked
from .maxar_products import refusal_hint as maxar_refusal_hint
from .maxar_products import with_swir as maxar_with_swir
from .nodata import valid_pixel_mask
from .pixel_grid import close_dataset
from .product_names import file_band_mapping, named_reading
from .reflectance import Scaling, resolve_scaling
from .role_shift import RoleShift, role_shift
from .sensors import get_preset
from .sentinel2_layers import finest_layer

#: Upper bound on the pixels of the global sample (a decimated read of the whole raster).
SAMPLE_PIXELS = 1_000_000
#: Rasters with more bands than this (imaging spectrometers: EnMAP's 224) are sampled in their
#: role bands only: every band of a 1 Mpx sample would be 0.9 GB, and bad bands filled with
#: nodata would make every pixel nodata.
MAX_SAMPLED_BANDS = 32


@dataclass(frozen=True)
class Sample:
    """Valid pixels of the global sample: one 1-D float32 array per band role; `grid`, where
    they lie on the decimated grid of the whole raster (True: valid; the pixels in row-major
    order), for what needs their neighbours (the scene's cloud shadows)."""

    bands: dict[str, np.ndarray]
    total_pixels: int
    decimation: float
    grid: np.ndarray | None = None
    #: The share of the sample that holds a fill value the file does not declare in every
    #: band (`UNDECLARED_FILLS`; 0 beside a declared one), read as nodata, and the commonest.
    undeclared_fill: tuple[float, float] | None = None
    #: The role bands without which some of the sample's nodata would be valid (`band_gaps`).
    band_gaps: tuple[BandGap, ...] = ()

    @property
    def valid_pixels(self) -> int:
        """Number of valid pixels in the sample."""
        return len(next(iter(self.bands.values()))) if self.bands else 0


class RasterSource:
    """An open input raster with resolved band roles and scaling.

    Use as a context manager; `open_source` builds one and turns every user mistake
    (missing or corrupt file, wrong roles) into a one-line `SpexError`.
    """

    def __init__(
        self,
        dataset: rasterio.DatasetReader,
        mapping: BandMapping,
        scaling: Scaling,
        raw_sample: tuple[np.ndarray, float] | None = None,
        decoded: DecodedCopy | None = None,
        path: str | Path | None = None,
        cloud_mask: CloudMask | None = None,
        role_shift: RoleShift | None = None,
    ) -> None:
        self.dataset = dataset
        #: What the analyst opened (the dataset may be a VRT made for it: `sentinel2_layers`).
        self._path = path if path is not None else dataset.name
        self.mapping = mapping
        self.scaling = scaling
        self._nodata = dataset.nodatavals  # per band: a stack's bands may differ
        #: What a pixel the mask band hides is read as, per band (`mask_band.hidden_fills`).
        self.hidden_fills = hidden_fills(dataset, with_role_bands(mapping))
        self._raw_sample = raw_sample  # `sampled_bands`, as read when the raster was opened
        #: The raw values decoded by the sample read, when kept (`decoded_copy`).
        self.decoded = decoded
        #: The product's clouds hidden as nodata, where asked (`cloud_masking`).
        self.cloud_mask = cloud_mask
        #: Typed or guessed roles that look one band off (`role_shift`), else None.
        self.role_shift = role_shift

    def __enter__(self) -> RasterSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the dataset."""
        close_dataset(self.dataset)

    @property
    def path(self) -> Path:
        """The raster's path, as the analyst gave it."""
        return Path(self._path)

    @property
    def name(self) -> str:
        """The raster's path or GDAL dataset name as given (``Path`` would collapse the ``//`` of
        ``/vsizip//``), for reopening it elsewhere with `open_dataset`."""
        return str(self._path)

    @property
    def pixels_name(self) -> str:
        """The GDAL name another process opens these pixels by (`dataset_open.open_dataset`):
        the name as given, or the VRT that hides the product's clouds."""
        return self.dataset.name if self.cloud_mask is not None else self.name

    @property
    def width(self) -> int:
        """Raster width in pixels."""
        return self.dataset.width

    @property
    def height(self) -> int:
        """Raster height in pixels."""
        return self.dataset.height

    @property
    def roles(self) -> tuple[str, ...]:
        """Band roles present, in raster band order."""
        return self.mapping.present_roles()

    def role_rows(
        self, raw: np.ndarray, indexes: Sequence[int], roles: Sequence[str]
    ) -> np.ndarray:
        """One row of raw values per role of `roles` from `raw`, the bands `indexes`
        (`read_indexes`): an averaged role the mean of its bands valid at each pixel
        (`averaged_bands.role_rows`)."""
        if not self.mapping.averaged:
            return raw
        nodata = [self._nodata[i - 1] for i in indexes]
        if any(v is None for v in nodata):  # undeclared fills are told across the bands read
            joint = valid_pixel_mask(raw, nodata)

            def valid_of(rows: list[int]) -> np.ndarray:
                return np.broadcast_to(joint, (len(rows), *joint.shape))
        else:

            def valid_of(rows: list[int]) -> np.ndarray:
                return np.stack([valid_pixel_mask(raw[r : r + 1], [nodata[r]]) for r in rows])

        return role_rows(raw, indexes, self.mapping, roles, valid_of)

    def _to_roles(
        self, raw: np.ndarray, roles: Sequence[str] | None = None
    ) -> dict[str, np.ndarray]:
        """Scale raw (bands, ...) values of `roles` (default: all) to float32 reflectance with
        NaN for nodata (a pixel that is nodata in any of the bands read)."""
        roles = self.roles if roles is None else roles
        valid = self._valid_mask(raw, roles)
        out: dict[str, np.ndarray] = {}
        for role, values in zip(roles, raw, strict=True):
            scaled = self.scaling.apply(values, role)
            scaled[~valid] = np.nan
            out[role] = scaled
        return out

    def _valid_mask(self, raw: np.ndarray, roles: Sequence[str]) -> np.ndarray:
        """Pixels that are valid in every band of `roles` (`valid_pixel_mask`)."""
        return valid_pixel_mask(raw, self._role_nodata(roles))

    def _role_nodata(self, roles: Sequence[str]) -> list[float | None]:
        """The declared nodata value (None: none) of each role's band."""
        return [self._nodata[self.mapping.roles.index(role)] for role in roles]

    def declared_nodata(self) -> tuple[float, ...]:
        """The nodata values the bands of the roles declare (none: an empty tuple)."""
        values = (v for v in self._role_nodata(self.roles) if v is not None and not math.isnan(v))
        return tuple(dict.fromkeys(values))

    def read(self, window: Window, roles: Sequence[str] | None = None) -> dict[str, np.ndarray]:
        """Read `window` as float32 reflectance per band role (NaN = nodata).

        `roles` limits the read to the bands a backend uses (default: every band with a role).
        """
        wanted = self.roles if roles is None else tuple(r for r in self.roles if r in roles)
        return self.scale_raw(self.read_raw(window, wanted), wanted)

    def read_raw(self, window: Window, roles: Sequence[str]) -> np.ndarray:
        """The raw values (roles, rows, cols) of `roles`, in raster band order, at `window`
        (an averaged role the mean of its bands: `role_rows`)."""
        indexes = read_indexes(self.mapping, roles)
        if self.decoded is not None and self.decoded.serves(indexes, window):
            raw = self.decoded.read(indexes, window)  # no GDAL: no lock, no second decode
            return self.role_rows(raw, indexes, roles)
        try:
            with GDAL_IO:
                raw = read_masked(self.dataset, indexes, window, self.hidden_fills)
        except RasterioIOError as exc:
            raise InputError(
                f"{self.path.name} is damaged: reading {window} failed; re-export or re-download it."
            ) from exc
        return self.role_rows(raw, indexes, roles)

    def scale_raw(self, raw: np.ndarray, roles: Sequence[str]) -> dict[str, np.ndarray]:
        """Raw values of `roles` (as `read_raw` gives them) as float32 reflectance, NaN = nodata."""
        return self._to_roles(raw, roles)

    def read_sample(self) -> Sample:
        """A decimated read of the whole raster: the source of every global statistic.

        The read made when the raster was opened (for the scaling decision) is reused, and not
        kept after: a run reads its sample once.
        """
        sampled = sampled_bands(self.dataset, self.mapping)
        if self._raw_sample is None:
            self._raw_sample = read_decimated(self.dataset, sampled, SAMPLE_PIXELS)
        raw, step = self._raw_sample
        self._raw_sample = None
        indexes = read_indexes(self.mapping, self.roles)
        if indexes != sampled:  # a spectrometer's sample holds just these: no copy
            raw = raw[[sampled.index(i) for i in indexes]]
        rows = self.role_rows(raw, indexes, self.roles)
        del raw  # a spectrometer's bands, once their means are taken
        return _sample_to_roles(self, (rows, step), indexes)


def _sample_to_roles(
    source: RasterSource, decimated: tuple[np.ndarray, float], indexes: Sequence[int]
) -> Sample:
    """The sample's valid pixels per role as float32 reflectance, scaled one role at a time
    (no whole-grid float copy of every role at once); `indexes`: the bands read for the roles
    (`read_indexes`)."""
    raw, factor = decimated
    valid = source._valid_mask(raw, source.roles)
    bands = {
        role: source.scaling.apply(values[valid], role)
        for role, values in zip(source.roles, raw, strict=True)
    }
    total = int(raw.shape[1] * raw.shape[2])
    gaps = ()
    if not source.mapping.averaged:  # a spectrometer's role is the mean of its valid bands
        gaps = band_gaps(raw, valid, source.roles, indexes, source._valid_mask)
    return Sample(bands, total, factor, valid, _undeclared_fill(source, raw, valid), gaps)


def _undeclared_fill(
    source: RasterSource, raw: np.ndarray, valid: np.ndarray
) -> tuple[float, float] | None:
    """(share, value) of the sample read as nodata by an undeclared-fill rule of
    `valid_pixel_mask`, or None where none of the sample is so: a rendered image's black, or a
    product's fill, said in the explanation. Where the bands declare a nodata value, the fill
    is 0 in every band beside it. None too where a mask band hides pixels (an alpha band,
    `--mask-clouds`): they read as the same fill, and are hidden by the mask, not by their
    values."""
    if source.hidden_fills is not None:
        return None
    declared = source.declared_nodata()
    filled = ~valid
    if declared:
        if 0 in declared or len(raw) < 2:
            return None
        filled &= (raw == 0).all(axis=0)
    elif raw.dtype.kind == "f":
        filled &= np.isfinite(raw).all(axis=0)  # NaN is nodata by its nature: nothing to say
    if not filled.any():
        return None
    values, counts = np.unique(raw[0][filled], return_counts=True)
    return float(filled.mean()), float(values[np.argmax(counts)])


def raw_percentiles(
    dataset: rasterio.DatasetReader,
    raw: np.ndarray,
    bands: Sequence[int],
    deciding: Sequence[int] | None = None,
) -> dict[str, float]:
    """Percentiles of the raw values (all bands) of the valid pixels of a sample `raw` of the
    1-based `bands`. A pixel is valid by the bands `deciding` (default: all), those with a
    role: a band without one, dead or missing and marked unused, voids no pixel; its own
    nodata values are left out of the percentiles."""
    # Integers are taken as they are (exact in float64 anyway, and no copy of the sample).
    values = raw if np.issubdtype(raw.dtype, np.integer) else raw.astype(np.float64)
    nodata = [dataset.nodatavals[b - 1] for b in bands]
    rows = [i for i, b in enumerate(bands) if deciding is None or b in deciding]
    rows = rows or list(range(len(bands)))
    keep = np.isfinite(values[rows]).all(axis=0) & valid_pixel_mask(
        raw[rows], [nodata[i] for i in rows]
    )
    if len(rows) == len(bands):
        flat = values[:, keep].ravel()
    else:
        parts = [values[i][keep] for i in range(len(bands))]
        for i, part in enumerate(parts):
            if i not in rows:
                own = np.isfinite(part)
                if nodata[i] is not None and not math.isnan(nodata[i]):
                    own &= part != nodata[i]
                parts[i] = part[own]
        flat = np.concatenate(parts)
    if flat.size == 0:
        return {"p1": math.nan, "p50": math.nan, "p99": math.nan, "max": math.nan, "min": math.nan}
    p1, p50, p99 = np.percentile(flat, [1, 50, 99])
    return {
        "p1": float(p1),
        "p50": float(p50),
        "p99": float(p99),
        "max": float(flat.max()),
        "min": float(flat.min()),
    }


def band_descriptions(dataset: rasterio.DatasetReader) -> list[str | None]:
    """The bands' descriptions, completed as the roles are read from them
    (`band_names.completed_descriptions`: a VRT's source file names, band metadata)."""
    tags = [dataset.tags(i) for i in range(1, dataset.count + 1)]
    return completed_descriptions(list(dataset.descriptions), tags, dataset.name)


def sampled_bands(
    dataset: rasterio.DatasetReader,
    mapping: BandMapping,
    descriptions: Sequence[str | None] | None = None,
) -> list[int]:
    """1-based indexes of the bands the global sample holds: every band but a product's
    auxiliary layers (`band_names.is_auxiliary`) and an alpha band (the scaling is judged on
    the reflectance bands, with or without a role), or only those with a role beyond
    `MAX_SAMPLED_BANDS` bands.
    `descriptions`: the dataset's `band_descriptions`, where the caller has them."""
    if dataset.count > MAX_SAMPLED_BANDS:
        return with_role_bands(mapping)
    if descriptions is None:
        descriptions = band_descriptions(dataset)
    alpha = [colour == ColorInterp.alpha for colour in dataset.colorinterp]
    return [
        i + 1
        for i, (role, desc) in enumerate(zip(mapping.roles, descriptions, strict=True))
        if role is not None or not (is_auxiliary(desc) or alpha[i])
    ]


def with_role_bands(mapping: BandMapping) -> list[int]:
    """1-based indexes of the bands read for the roles: those that have a role, and the bands
    an averaged role is the mean of."""
    return read_indexes(mapping, mapping.present_roles())


def declared_scaling(
    dataset: rasterio.DatasetReader, bands: Sequence[int]
) -> tuple[float, float] | None:
    """The (scale, offset) the file declares for `bands` (GDAL's band metadata), when they all
    declare the same one and it is not the identity; else None."""
    pairs = {(float(dataset.scales[b - 1]), float(dataset.offsets[b - 1])) for b in bands}
    if len(pairs) != 1:
        return None
    (s, o) = pairs.pop()
    if (s, o) == (1.0, 0.0) or not (math.isfinite(s) and s > 0 and math.isfinite(o)):
        return None
    return s, o


def open_source(
    path: str | Path,
    bands: str | Sequence[str] | None = None,
    sensor: str | None = None,
    scale: float | None = None,
    offset: float | None = None,
    decoded_dir: Path | None = None,
    decoded_roles: Callable[[tuple[str, ...]], Sequence[str] | None] | None = None,
    mask_clouds: bool = False,
    cloud_buffer_m: float = 0.0,
) -> RasterSource:
    """Open `path` and resolve its band roles and reflectance scaling.

    With `decoded_dir`, a compressed raster's bands are kept there as the sample read decodes
    them (`decoded_copy`, where the disk has room): those of the roles `decoded_roles` gives
    for the raster's roles (default: every band with a role). Later reads of them come from
    that copy. With `mask_clouds`, what the product's quality band flags as cloud, and what lies
    within `cloud_buffer_m` metres of it, is nodata (`cloud_masking`). Raises `InputError` for
    a missing, corrupt or all-nodata raster, or a product without a quality band to mask clouds
    with, and `BandError` for band roles that cannot be resolved.
    """
    given = str(path)
    path = finest_layer(given) or path  # a Sentinel-2 product given whole
    # WorldView-3's multispectral product opens with its collect's SWIR bands beside it, unless
    # the analyst gives the roles of its own bands.
    with_swir = maxar_with_swir(path) if sensor is None and bands is None else None
    dataset = open_dataset(with_swir or path)
    clouds = None
    try:
        if (why := not_imagery(dataset)) is not None:
            raise InputError(why)
        descriptions = band_descriptions(dataset)
        colours = [colour.name for colour in dataset.colorinterp]
        if mask_clouds:  # after the names: the VRT's source is the raster, not its files
            clouds = cloud_mask_for(given, dataset, cloud_buffer_m)
            dataset = masked_dataset(dataset, clouds)
        try:
            mapping = file_band_mapping(path, descriptions, sensor, bands, colours)
        except BandError as refused:
            hint = band_file_hint(str(path)) if dataset.count == 1 else None
            if hint is None and sensor is None and bands is None:
                hint = maxar_refusal_hint(path)
            if hint is None:
                raise
            raise BandError(hint, refused.readings) from None
        wanted = decoded_roles(mapping.present_roles()) if decoded_roles else None
        roles = mapping.present_roles()
        with_role = tuple(
            sorted(read_indexes(mapping, [r for r in roles if wanted is None or r in wanted]))
        )
        copy = None
        if decoded_dir and with_role and worth_copying(dataset, len(with_role), decoded_dir):
            copy = DecodedCopy(
                decoded_dir, with_role, sample_chunk_shape(dataset), (dataset.height, dataset.width)
            )
        sampled = sampled_bands(dataset, mapping, descriptions)
        raw_sample = read_decimated(dataset, sampled, SAMPLE_PIXELS, copy)
        blank = empty_bands(raw_sample[0], sampled, dataset.nodatavals)
        dead = dead_role_bands(mapping, blank)
        if dead and mapping.averaged:
            # A spectrometer's absorption bands filled but not flagged bad (no ``bbl``): as
            # bad bands, they take no role and join no mean.
            descriptions = [None if i + 1 in dead else d for i, d in enumerate(descriptions)]
            mapping = file_band_mapping(path, descriptions, sensor, bands, colours)
            sampled = sampled_bands(dataset, mapping, descriptions)
            raw_sample = read_decimated(dataset, sampled, SAMPLE_PIXELS)
        else:
            mapping = without_dead(mapping, dead)
        # The scaling is judged on the bands it was judged on before roles were averaged: a
        # spectrometer's averaged bands tell nothing more, and would cost their float64 copy.
        judged = sampled_bands(dataset, replace(mapping, averaged=()), descriptions)
        judged = [b for b in judged if b not in blank] or judged  # their 0s are no values
        raw_judged = raw_sample[0]
        if judged != sampled:
            raw_judged = raw_judged[[sampled.index(b) for b in judged]]
        stats = raw_percentiles(dataset, raw_judged, judged, with_role_bands(mapping))
        del raw_judged
        if math.isnan(stats["max"]):
            if clouds is not None and clouds.hidden_pixels:
                raise InputError(
                    f"--mask-clouds hid every pixel of {Path(path).name}: its quality band "
                    f"({clouds.band}) flags all of them as cloud or shadow; run without "
                    "--mask-clouds, or choose a clearer scene."
                )
            raise InputError(
                f"{Path(path).name} holds no valid pixels (all nodata); check the nodata value or the file."
            )
        if stats["min"] == stats["max"]:  # a blank export: white, or a fill never declared
            raise InputError(
                f"{Path(path).name} holds one value, {stats['min']:g}, in every band of every "
                "valid pixel: there is no image to classify; check the file, or declare that "
                "value as nodata if it marks missing pixels (gdal_edit.py -a_nodata "
                f"{stats['min']:g})."
            )
        preset = get_preset(mapping.sensor) if mapping.sensor else None
        declared = declared_scaling(dataset, with_role_bands(mapping))
        named = named_reading(path, descriptions, stats, mapping.present_roles())
        scaling = resolve_scaling(dataset.dtypes[0], stats, preset, scale, offset, declared, named)
        check_one_unit(raw_sample[0], sampled, mapping, scaling, dataset.nodatavals)
        shift = role_shift(raw_sample[0], sampled, mapping, scaling, dataset.nodatavals)
    except Exception:
        close_dataset(dataset)
        raise
    return RasterSource(dataset, mapping, scaling, raw_sample, copy, path, clouds, shift)
