"""A Sentinel-2 product of processing baseline before 04.00 keeps its Level-1C cloud mask as GML
polygons (``QI_DATA/MSK_CLOUDS_B00.gml``, opaque cloud and cirrus): found, burned onto the
granule's 60 m grid, compared and hidden (``--mask-clouds``) as MSK_CLASSI is. The product is
a window of the real sample written as a .SAFE folder (`bench.sentinel2_safe`); its polygons
are stand-ins written here in ESA's GML form (no Level-1C processor runs offline), laid on
the 60 m pixels' edges, so the pixels they hold are known by slicing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.windows import Window

from spex.engine import ExtractionRequest, extract
from spex.engine.errors import InputError
from spex.engine.raster.quality_bands import SENTINEL2_BANDS, quality_band_of
from tests.test_sentinel2_safe import _zipped

#: ESA's cloud mask file, its polygons (kind, exterior, holes) in place of {members}.
GML = """<?xml version="1.0" encoding="UTF-8"?>
<eop:Mask xmlns:eop="http://www.opengis.net/eop/2.0"
    xmlns:gml="http://www.opengis.net/gml/3.2" gml:id="MSK_CLOUDS_B00">
  <gml:name>MSK_CLOUDS pixels mask (a stand-in written by the tests)</gml:name>
  <gml:boundedBy><gml:Envelope srsName="urn:ogc:def:crs:EPSG:8.7:{epsg}">
    <gml:lowerCorner>0 0</gml:lowerCorner><gml:upperCorner>1 1</gml:upperCorner>
  </gml:Envelope></gml:boundedBy>
  <eop:maskMembers>{members}</eop:maskMembers>
</eop:Mask>
"""
MEMBER = """
    <eop:MaskFeature gml:id="{kind}.{i}">
      <eop:maskType codeSpace="urn:gs2:S2PDGS:maskType">{kind}</eop:maskType>
      <eop:extentOf><gml:Polygon gml:id="{kind}.{i}_Polygon">{rings}</gml:Polygon></eop:extentOf>
    </eop:MaskFeature>"""


def _ring(part: str, transform: object, rows: tuple[int, int], cols: tuple[int, int]) -> str:
    """A GML ring around the 60 m pixels `rows` x `cols` (half-open), on their edges."""
    (x0, y0), (x1, y1) = transform * (cols[0], rows[0]), transform * (cols[1], rows[1])
    corners = [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]
    positions = " ".join(f"{x:.0f} {y:.0f}" for x, y in corners)
    return (f"<gml:{part}><gml:LinearRing><gml:posList srsDimension=\"2\">{positions}"
            f"</gml:posList></gml:LinearRing></gml:{part}>")  # fmt: skip


def _write_polygons(granule: Path, members: str) -> Path:
    with rasterio.open(next(granule.glob("IMG_DATA/*_B01.jp2"))) as b01:
        epsg = b01.crs.to_epsg()
    gml = granule / "QI_DATA" / "MSK_CLOUDS_B00.gml"
    gml.parent.mkdir(exist_ok=True)
    gml.write_text(GML.format(epsg=epsg, members=members), encoding="utf-8")
    return gml


@pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")  # the zip's top
def test_cloud_polygons_hide_the_10m_pixels_whose_centre_they_hold(
    s2_scene: Path, tmp_path: Path
) -> None:
    from bench.sentinel2_safe import layer, write_scene_window

    mtd = write_scene_window(tmp_path, s2_scene, Window(1024, 256, 384, 240), level="L1C")
    granule = next(mtd.parent.glob("GRANULE/*"))
    with rasterio.open(next(granule.glob("IMG_DATA/*_B01.jp2"))) as b01:
        t, shape = b01.transform, b01.shape
    opaque = _ring("exterior", t, (10, 15), (5, 10))
    cirrus = _ring("exterior", t, (20, 30), (20, 35)) + _ring("interior", t, (23, 26), (25, 30))
    gml = _write_polygons(
        granule,
        MEMBER.format(kind="OPAQUE", i=0, rings=opaque)
        + MEMBER.format(kind="CIRRUS", i=0, rings=cirrus),
    )
    expected = np.zeros(shape, dtype=bool)
    expected[10:15, 5:10] = expected[20:30, 20:35] = True
    expected[23:26, 25:30] = False  # the hole
    expected_10m = np.repeat(np.repeat(expected, 6, axis=0), 6, axis=1)
    archive = _zipped(mtd.parent, tmp_path)
    for given in (layer(mtd, 10), archive):
        found = quality_band_of(str(given))
        assert found is not None and found[1] == "MSK_CLOUDS", (given, found)
        assert found[0].endswith("/QI_DATA/MSK_CLOUDS_B00.gml")
        out = tmp_path / f"out{len(list(tmp_path.glob('out*')))}"
        result = extract(ExtractionRequest(given, "water", out, mask_clouds=True))
        with rasterio.open(result.mask_path) as mask:
            hidden = mask.read(1) == 255
        assert np.array_equal(hidden, expected_10m[: hidden.shape[0], : hidden.shape[1]]), given
        record = result.manifest["input"]["cloud_mask"]
        assert record["hidden_pixels"] == int(expected.sum()) * 36
        assert record["kind"] == "MSK_CLOUDS"
        check = result.manifest["product_quality"]
        assert check["kind"] == "MSK_CLOUDS" and check["flag_pixels"] == {"cloud": 0}
        text = result.explanation_path.read_text(encoding="utf-8")
        assert "`MSK_CLOUDS_B00.gml` (ESA's Level-1C cloud-polygon flags)" in text, text
    # without the mask the comparison counts the polygons' pixels as cloud
    plain = extract(ExtractionRequest(layer(mtd, 10), "water", tmp_path / "plain"))
    assert plain.manifest["product_quality"]["flag_pixels"] == {"cloud": int(expected.sum()) * 36}
    # a product with no clouds has a mask with no members: nothing hidden
    _write_polygons(granule, "")
    clear = extract(
        ExtractionRequest(layer(mtd, 10), "water", tmp_path / "clear", mask_clouds=True)
    )
    assert clear.manifest["input"]["cloud_mask"]["hidden_pixels"] == 0
    # a cloud mask that is no XML, or whose coordinates are no numbers: the run goes on
    # without the comparison; hiding is refused in one line
    bad_ring = _ring("exterior", t, (10, 15), (5, 10)).replace('srsDimension="2">', ">x ")
    not_numbers = GML.format(epsg=32633, members=MEMBER.format(kind="OPAQUE", i=0, rings=bad_ring))
    for i, broken in enumerate(("<eop:Mask", not_numbers)):
        gml.write_text(broken, encoding="utf-8")
        unread = extract(ExtractionRequest(layer(mtd, 10), "water", tmp_path / f"unread{i}"))
        assert unread.manifest["product_quality"] is None
        with pytest.raises(InputError, match=r"MSK_CLOUDS_B00.gml is not a readable cloud mask"):
            extract(ExtractionRequest(layer(mtd, 10), "water", tmp_path / "no", mask_clouds=True))
        assert not (tmp_path / "no").exists()


def test_the_cloud_polygons_are_found_under_both_of_their_names() -> None:
    """Compact names (December 2016 on) and the long ones of the first products."""
    pattern = SENTINEL2_BANDS["MSK_CLOUDS"]
    granule = "S2A.SAFE/GRANULE/L1C_T32TPP_A006640_20160929T102344/QI_DATA/"
    assert pattern.search(granule + "MSK_CLOUDS_B00.gml")
    assert pattern.search(
        granule + "S2A_OPER_MSK_CLOUDS_SGS__20160929T154211_A006640_T32TPP_B00_MSIL1C.gml"
    )
    assert not pattern.search(granule + "MSK_DEFECT_B01.gml")
    assert not pattern.search(granule + "MSK_CLOUDS_B00.gml.aux.xml")
