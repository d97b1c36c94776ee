"""SPEX for QGIS: the plugin entry point (the repository root is the plugin folder)."""


def classFactory(iface):  # noqa: N802 - the name QGIS looks for
    """Return the plugin instance QGIS asks for when loading the plugin."""
    from .spex_qgis.plugin import SpexPlugin

    return SpexPlugin(iface)
