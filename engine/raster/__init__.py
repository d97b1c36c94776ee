"""Raster input and output: the input raster, its band roles and scaling, windows and tiled reads, GeoTIFF writing."""
