"""`geo print`: A3 map sheets and figures as PDF (text searchable) and PNG (size and dpi), no network."""
from __future__ import annotations

import shutil
import subprocess

import pytest
from PIL import Image

from conftest import run_geo
from maps.print.sheet import A3_PORTRAIT_IN, DPI

pytestmark = pytest.mark.skipif(not shutil.which("pdftotext"), reason="needs poppler-utils (.ci/run installs it)")


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    out = tmp_path_factory.mktemp("print")
    res = run_geo("print", "--out", str(out), "--maps", "national,coastal", "--lang", "vi,en")
    assert res.returncode == 0, res.stderr
    return out, res.stdout.split()


def _text(pdf) -> str:
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_sheet_pdf_has_title_legend_and_credits_as_text(printed, project, lang):
    from maps.i18n import load_labels
    catalog, _, comps = project
    out, paths = printed
    assert str(out / f"national_{lang}.pdf") in paths
    text = " ".join(_text(out / f"national_{lang}.pdf").split())
    labels = load_labels()
    assert " ".join(comps["national"].title[lang].split()[:4]) in text
    assert labels.ui["legend"][lang] in text
    deposits = catalog["deposits"]
    dom = catalog.domain_of(deposits.field(deposits.style.category_field))
    for code in deposits.style.categories:
        assert dom.values[code][lang] in text  # legend entries from the catalog
    assert deposits.style.highlight.label[lang] in text
    assert "°E" in text and "°N" in text  # graticule labels
    assert "km" in text and "N" in text
    assert ("Hoàng Sa" in text) and ("Trường Sa" in text)


def test_sheet_png_is_a3_at_300_dpi(printed):
    out, _ = printed
    with Image.open(out / "national_vi.png") as im:
        assert im.size == (pytest.approx(A3_PORTRAIT_IN[0] * DPI, abs=2), pytest.approx(A3_PORTRAIT_IN[1] * DPI, abs=2))
        assert round(im.info["dpi"][0]) == DPI


def test_figures_mark_the_reserves_revision(printed, project):
    _, frames, _ = project
    out, _ = printed
    text = _text(out / "reserves_en.pdf")
    vn = frames["reserves_context"]
    vn = vn[vn["country"] == "Vietnam"].sort_values("edition")
    assert "Revised" in text and str(int(vn["edition"].iloc[-1])) in text
    text = _text(out / "occurrences_by_province_vi.pdf")
    assert "Lai Châu" in text


def _words(pdf) -> str:
    return " ".join(_text(pdf).split())


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_coastal_sheet_names_every_placer_province_and_its_risks(printed, project, lang):
    """Every placer zone's province is named on the coastal sheet (beside the zone and in the zone table),
    and the risk topics drawn are in its legend."""
    catalog, frames, _ = project
    out, _ = printed
    text = _words(out / f"coastal_{lang}.pdf")
    provinces = frames["coastal_placer_zones"]["province_2025"]
    assert len(provinces) >= 10 and {"Thanh Hóa", "Nghệ An", "Hà Tĩnh"} <= set(provinces)
    for name in provinces:
        assert text.count(name) >= 2, name  # the zone's label on the map and its row in the table
    risks = catalog["placer_risks"]
    dom = catalog.domain_of(risks.field("topic"))
    for topic in set(frames["placer_risks"]["topic"]):
        assert dom.values[topic][lang] in text


def test_sheets_name_deposits_cities_and_provinces(printed, project):
    """The sheets carry place names: deposits, the largest cities (GeoNames) and the 2025 provinces."""
    _, frames, _ = project
    out, _ = printed
    national = _words(out / "national_vi.pdf")
    coastal = _words(out / "coastal_en.pdf")
    deposits = frames["deposits"]["name_vi"]
    assert "Đông Pao" in national and sum(n in national for n in deposits) >= 0.9 * len(deposits)  # deposit names
    places = frames["places"]
    largest = places.loc[places["min_zoom"] <= 5, "name_vi"]  # the cities named from the smallest scale
    assert {"Hà Nội", "T.P. Hồ Chí Minh"} <= {n for n in largest if n in national}  # placed first
    assert sum(n in national for n in largest) >= len(largest) - 2  # a name with no free place is left out
    assert "Da Nang" in coastal and "Hà Nội" not in coastal  # English names; Hà Nội is off the coastal sheet
    assert sum(p.upper() in national for p in frames["provinces_2025"]["name_2025"]) >= 25  # most provinces named
    placers = frames["deposits"].query("deposit_type == 'coastal_placer'")["name_en"]
    assert sum(n in coastal for n in placers) >= 0.7 * len(placers)  # most placer sites named on the coastal sheet


def test_coastal_sheet_keeps_the_scale_bar_off_the_map(printed):
    """The scale bar, north arrow and legend sit beside the map frame, never over it: the map frame holds
    no 'km' text and the bar's labels lie right of the frame."""
    import re
    out, _ = printed
    bbox = subprocess.run(["pdftotext", "-bbox", str(out / "coastal_vi.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout
    words = [(float(x0), float(y0), float(x1), w) for x0, y0, x1, w in
             re.findall(r'xMin="([0-9.]+)" yMin="([0-9.]+)" xMax="([0-9.]+)"[^>]*>([^<]+)<', bbox)]
    lon = [(x0, y0, x1) for x0, y0, x1, w in words if w.endswith("°E")]
    top_row = min(y0 for _, y0, _ in lon)  # the main map's longitude labels run along its top edge
    frame_right = max(x1 for _, y0, x1 in lon if abs(y0 - top_row) < 1)
    kms = [x0 for x0, _, _, w in words if w == "km"]
    assert len(kms) == 2 and all(x0 > frame_right for x0 in kms)  # the main map's and the inset's bars
