"""The band-role vocabulary: role names, their aliases and nominal wavelengths, `--bands`.

A raster band's *role* (``red``, ``nir``, ``swir1`` ...) is what indices and backends ask for.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..errors import BandError

BAND_ROLES: tuple[str, ...] = (
    "coastal",
    "blue",
    "green",
    "yellow",
    "red",
    "rededge1",
    "rededge2",
    "rededge3",
    "nir",
    "nir08",
    "watervapour",
    "cirrus",
    "swir1",
    "swir2",
    "pan",
    "thermal",
)

# Words accepted for a role besides the role itself, after normalisation (lower case, spaces,
# underscores and hyphens removed). Used for --bands and for band descriptions.
ROLE_ALIASES: dict[str, str] = {
    "coastalaerosol": "coastal",
    "coastalblue": "coastal",
    "aerosol": "coastal",
    "ca": "coastal",
    "b": "blue",
    "g": "green",
    "r": "red",
    "y": "yellow",
    "rededge": "rededge1",
    "re1": "rededge1",
    "re2": "rededge2",
    "re3": "rededge3",
    "vre1": "rededge1",
    "vre2": "rededge2",
    "vre3": "rededge3",
    "nir1": "nir",
    "nearinfrared": "nir",
    "nearir": "nir",
    "broadnir": "nir",
    "narrownir": "nir08",
    "nirnarrow": "nir08",
    "nirn": "nir08",
    "watervapor": "watervapour",
    "wv": "watervapour",
    "swir16": "swir1",
    "swir22": "swir2",
    "shortwaveinfrared1": "swir1",
    "shortwaveinfrared2": "swir2",
    "panchromatic": "pan",
    "tir": "thermal",
    "lwir": "thermal",
    "thermalinfrared": "thermal",
}

# Tokens that mark a band as unused in --bands.
UNUSED_TOKENS = frozenset({"-", "none", "skip", "unused", "null"})

# Nominal centre wavelength per role (nm), for descriptions that only give a wavelength.
ROLE_CENTERS_NM: dict[str, float] = {
    "coastal": 443.0,
    "blue": 490.0,
    "green": 560.0,
    "yellow": 605.0,
    "red": 665.0,
    "rededge1": 705.0,
    "rededge2": 740.0,
    "rededge3": 783.0,
    "nir": 842.0,
    "nir08": 865.0,
    "watervapour": 945.0,
    "cirrus": 1375.0,
    "swir1": 1610.0,
    "swir2": 2200.0,
    "thermal": 10900.0,
}


def norm_key(text: str) -> str:
    """Lower case without spaces, underscores and hyphens: the form names are compared in."""
    return re.sub(r"[\s_\-]+", "", text.strip().lower())


def normalize_role(token: str) -> str | None:
    """The role named by ``token`` (a role or an alias from ``ROLE_ALIASES``), else ``None``."""
    key = norm_key(token)
    if key in BAND_ROLES:
        return key
    return ROLE_ALIASES.get(key)


def parse_roles(text: str | Sequence[str]) -> tuple[str | None, ...]:
    """Parse ``--bands``: one role per raster band, comma-separated, in band order.

    Case and spaces are ignored; ``-``, ``none``, ``skip``, ``unused`` or ``null`` mark an
    unused band. Besides the roles of ``BAND_ROLES`` the aliases of ``ROLE_ALIASES`` are
    accepted, e.g. ``r``/``g``/``b``, ``nir1`` (nir), ``swir16`` (swir1), ``swir22`` (swir2),
    ``rededge``/``re1`` (rededge1), ``narrow nir`` (nir08), ``tir`` (thermal).
    Raises ``BandError`` for an empty list, an empty or unknown entry, or a role given twice.
    """
    tokens = text.split(",") if isinstance(text, str) else list(text)
    if not any(str(t).strip() for t in tokens):
        raise BandError(
            "--bands is empty; give one role per band, in order, e.g. blue,green,red,nir"
        )
    roles: list[str | None] = []
    for position, token in enumerate(tokens, start=1):
        word = str(token).strip()
        if not word:
            raise BandError(
                f"--bands entry {position} is empty; use '-' for an unused band, e.g. red,-,nir"
            )
        if word.lower() in UNUSED_TOKENS:
            roles.append(None)
            continue
        role = normalize_role(word)
        if role is None:
            raise BandError(
                f"--bands: unknown role {word!r} (entry {position}); valid roles: "
                f"{', '.join(BAND_ROLES)}, or '-' for an unused band"
            )
        roles.append(role)
    check_unique(roles, "--bands")
    return tuple(roles)


def parse_numbered_roles(text: str, band_count: int) -> tuple[str | None, ...] | None:
    """Parse ``--bands`` written band by number (``48=red,72=nir``: 1-based band numbers, the
    other bands unused), for rasters of many bands; None when `text` is the plain list form.

    Raises ``BandError`` for a form that mixes both, a number outside 1..`band_count`, a band
    or a role given twice, or an unknown role.
    """
    tokens = [t.strip() for t in text.split(",")]
    numbered = ["=" in t for t in tokens]
    if not any(numbered):
        return None
    if not all(numbered):
        raise BandError(
            "--bands mixes a list of roles with band=role entries; write every entry as "
            "band=role (e.g. 48=red,72=nir) or give one role per band"
        )
    roles: list[str | None] = [None] * band_count
    for token in tokens:
        number, _, word = (part.strip() for part in token.partition("="))
        if not number.isdigit() or not 1 <= int(number) <= band_count:
            raise BandError(
                f"--bands entry {token!r}: the band number must be 1 to {band_count}, the "
                "raster's bands"
            )
        role = normalize_role(word)
        if role is None:
            raise BandError(
                f"--bands: unknown role {word!r} (entry {token!r}); valid roles: "
                f"{', '.join(BAND_ROLES)}"
            )
        if roles[int(number) - 1] is not None:
            raise BandError(f"--bands names band {number} twice; give each band one role")
        roles[int(number) - 1] = role
    check_unique(roles, "--bands")
    return tuple(roles)


def check_unique(roles: Sequence[str | None], where: str) -> None:
    first: dict[str, int] = {}
    for index, role in enumerate(roles, start=1):
        if role is None:
            continue
        if role in first:
            raise BandError(
                f"{where}: role {role!r} is given to bands {first[role]} and {index}; "
                "each role may name one band only, mark the other '-'"
            )
        first[role] = index
