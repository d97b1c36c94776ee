"""Dask distributed: `spex batch` over many scenes, and one huge mosaic across workers."""
