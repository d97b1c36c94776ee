"""The SPEX Processing provider and its algorithms (toolbox, batch mode, modeler, qgis_process)."""
