"""The passes over the raster: classify tiles, link regions, select them, write the mask, vectorize."""
