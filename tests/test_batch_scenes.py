"""The scenes of a batch named as an analyst knows them: by the file, or for a product given
whole by the product, where every product's metadata file has the same name."""

from __future__ import annotations

from pathlib import Path

from spex.engine.distributed.batch_scenes import name_scenes


def test_scenes_are_named_by_their_files_or_products(tmp_path: Path) -> None:
    given = [
        "/d/S2A_MSIL2A_X.SAFE/MTD_MSIL2A.xml",
        "/d/S2B_MSIL2A_Y.SAFE/MTD_MSIL2A.xml",  # the same file name: the .SAFE names it
        "/d/LC09_L2SP_A_MTL.txt",
        "/d/LC09_L2SP_B.tar",
        "/d/LC09_L2SP_C.tar.gz",
        "/d/S2A_MSIL1C_Z.SAFE",
        "/d/S2A_MSIL2A_W.zip",
        "/d/LC09_L2SP_D/",
        "/d/scene.tif",
        "/e/scene.tif",  # a repeated stem: numbered in input order
    ]
    granule = tmp_path / "HLS.L30.T33UUU.2017047T101059.v2.0"  # a folder: its whole name
    granule.mkdir()
    names = [scene.name for scene in name_scenes([*map(Path, given), granule])]
    assert names == [
        "S2A_MSIL2A_X",
        "S2B_MSIL2A_Y",
        "LC09_L2SP_A",
        "LC09_L2SP_B",
        "LC09_L2SP_C",
        "S2A_MSIL1C_Z",
        "S2A_MSIL2A_W",
        "LC09_L2SP_D",
        "scene",
        "scene-2",
        "HLS.L30.T33UUU.2017047T101059.v2.0",
    ]
