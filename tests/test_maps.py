"""The rendered maps without a browser: offline inlining, size budget, determinism, escaping, search folding."""
from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from conftest import ROOT
from maps.escape import safe, script_json
from maps.web.offline import LOCAL, VENDOR, OfflineError, inline
from maps.web.search import fold

BUDGET = 1_500_000  # bytes of HTML for the national map, offline (scripts inlined) or not


def test_fold_ignores_accents_and_d_stroke():
    assert fold("Đông Pao") == "dong pao"
    assert fold("  ĐÀ   Nẵng ") == "da nang"
    assert fold("Mường Hum") == "muong hum"


def test_safe_text_is_inert_in_html_js_and_jinja():
    out = safe("<img src=x onerror=alert(1)> ${alert(1)} ` \\ {{ 7*7 }} {% raw %}")
    assert not set(out) & set("<>`${}\\")
    assert "{{" not in script_json({"a": "{{ 7*7 }}{%x%}{#y#}</script>"})
    assert "</" not in script_json({"a": "</script>"})


def test_every_vendored_file_exists_with_its_licence():
    for rel in LOCAL.values():
        assert (VENDOR / rel).is_file(), rel
    for pkg in {rel.split("/")[0] for rel in LOCAL.values()}:
        assert any(p.name.upper().startswith(("LICENSE", "MIT-LICEN")) for p in (VENDOR / pkg).iterdir()), pkg
    readme = (VENDOR / "README.md").read_text(encoding="utf-8")
    for pkg in {rel.split("/")[0] for rel in LOCAL.values()}:
        name, version = pkg.split("@")
        assert f"| `{name}` | {version} |" in readme, f"{pkg} missing from maps/vendor/README.md"


def test_unknown_cdn_link_is_refused():
    with pytest.raises(OfflineError):
        inline('<script src="https://cdn.example.org/x.js"></script>')


@pytest.mark.parametrize("name", ["national", "coastal"])
def test_offline_map_links_nothing_and_fits_the_budget(offline_maps, name):
    html = offline_maps[name].read_text(encoding="utf-8")
    assert not re.findall(r'<(?:script|link)[^>]+(?:src|href)="https?://', html)
    assert "url(images/" not in html and "url(icon-" not in html  # stylesheet images are data URIs
    assert len(html.encode()) <= BUDGET or name != "national", len(html.encode())


def test_online_national_map_fits_the_budget(project):
    from maps.web.render import page_html, render
    catalog, frames, comps = project
    html = page_html(render(comps["national"], catalog, frames))
    assert len(html.encode()) <= BUDGET
    assert "leaflet@1.9.4/dist/leaflet.js" in html  # CDN build: same Leaflet as the vendored one


def test_same_sources_give_byte_identical_html(tmp_path):
    """Two separate processes (different hash seeds) write the same bytes."""
    outs = []
    for seed in ("1", "2"):
        out = tmp_path / seed
        env = {**os.environ, "PYTHONHASHSEED": seed}
        r = subprocess.run([sys.executable, "-m", "geo", "map", "coastal", "--offline", "--out", str(out)],
                           cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr
        outs.append((out / "maps" / "coastal.html").read_bytes())
    assert outs[0] == outs[1]
