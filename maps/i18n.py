"""Bilingual text in the page: every string is rendered in both languages and the switch shows one.

Vietnamese is the default; ``static/ree.css`` hides ``.ree-en`` unless ``<html>`` has class ``lang-en``.
The interface texts (control labels, groups, basemaps) are declared once in ``maps/labels.toml``.
"""
from __future__ import annotations

from functools import lru_cache
from dataclasses import dataclass
from pathlib import Path

from geo.catalog import LANGS, Text
from geo.files.tomlfile import read_toml
from maps.escape import safe

LABELS_FILE = Path(__file__).resolve().parent / "labels.toml"


def bi(text: Text) -> str:
    """Safe HTML showing ``text`` in the current page language."""
    return "".join(f'<span class="ree-{lang}" lang="{lang}">{safe(text[lang])}</span>' for lang in LANGS)


def bi_html(vi_html: str, en_html: str, tag: str = "div") -> str:
    """Two already-safe HTML fragments, one per language."""
    return f'<{tag} class="ree-vi" lang="vi">{vi_html}</{tag}><{tag} class="ree-en" lang="en">{en_html}</{tag}>'


@dataclass(frozen=True)
class Basemap:
    key: str
    label: Text
    url: str | None  # None: no tiles, the project's own land layer is the background
    attribution: str = ""
    max_zoom: int = 18
    background: str | None = None  # page colour behind the layers (the sea) when this basemap is chosen


@dataclass(frozen=True)
class Card:
    """A layer's popup card: the fields shown first, and the field naming the location basis."""
    key: tuple[str, ...] = ()
    basis: str | None = None


@dataclass(frozen=True)
class GridStyle:
    """Alpha ramp of the grid overlays: transparent below ``transparent_below``, then ``opacity``
    (low, high) linear up to 1."""
    transparent_below: float = 0.2
    opacity: tuple[float, float] = (0.35, 0.85)

    def alpha(self, values):
        """Opacity 0-1 of each value (NaN: 0)."""
        from geo.raster.preview import ramp_alpha
        return ramp_alpha(values, self.transparent_below, self.opacity)

    def rgba(self, values, ramp: tuple[str, ...], levels: int | None = None):
        """uint8 RGBA of ``values`` through ``ramp`` with this alpha ramp (``geo.raster.preview.ramp_rgba``)."""
        from geo.raster.preview import ramp_rgba
        return ramp_rgba(values, ramp, self.transparent_below, self.opacity, levels)


@dataclass(frozen=True)
class Labels:
    ui: dict[str, Text]
    groups: dict[str, Text]
    basemaps: dict[str, Basemap]
    cards: dict[str, Card]
    grids: GridStyle
    components: dict[str, Text] = None  # mineral-system components of the model's evidence
    controls: dict[str, Text] = None  # the map plugins' English texts -> both languages (ree.js swaps them)


def _text(d: dict) -> Text:
    return Text(d["vi"], d["en"])


@lru_cache(maxsize=4)
def load_labels(path: Path = LABELS_FILE) -> Labels:
    """The interface texts and basemaps of ``labels.toml``."""
    d = read_toml(path)
    return Labels(ui={k: _text(v) for k, v in d["ui"].items()},
                  groups={k: _text(v) for k, v in d["groups"].items()},
                  basemaps={k: Basemap(k, _text(v["label"]), v.get("url"), v.get("attribution", ""),
                                       int(v.get("max_zoom", 18)), v.get("background"))
                            for k, v in d["basemaps"].items()},
                  cards={k: Card(tuple(v.get("key", ())), v.get("basis")) for k, v in d.get("cards", {}).items()},
                  grids=GridStyle(float(d["grids"]["transparent_below"]), tuple(d["grids"]["opacity"])),
                  components={k: _text(v) for k, v in d.get("components", {}).items()},
                  controls={k: _text(v) for k, v in d.get("controls", {}).items()})


def number(value, lang: str) -> str:
    """``value`` written for a reader of ``lang``: Vietnamese groups thousands with "." and writes the
    decimal comma (1.300; 0,85), English the other way round (1,300; 0.85)."""
    text = f"{value:,}"
    return text.translate(str.maketrans({",": ".", ".": ","})) if lang == "vi" else text
