"""`geo print`: A3 map sheets and figures as PDF (text searchable) and PNG (size and dpi), no network."""
from __future__ import annotations

import shutil
import subprocess

import pytest
from PIL import Image

from conftest import run_geo
from maps.print_sheet import A3_LANDSCAPE_IN, DPI

pytestmark = pytest.mark.skipif(not shutil.which("pdftotext"), reason="needs poppler-utils (.ci/run installs it)")


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    out = tmp_path_factory.mktemp("print")
    res = run_geo("print", "--out", str(out), "--maps", "national", "--lang", "vi,en")
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
        assert im.size == (pytest.approx(A3_LANDSCAPE_IN[0] * DPI, abs=2), pytest.approx(A3_LANDSCAPE_IN[1] * DPI, abs=2))
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
