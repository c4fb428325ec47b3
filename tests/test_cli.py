"""The `geo` command: help everywhere, the layer listing, refused paths."""
from __future__ import annotations

import pytest

from conftest import run_geo
from layers.load import default_catalog

COMMANDS = ["build", "layers", "validate", "map", "export", "print"]


def test_top_level_help_lists_every_command():
    res = run_geo("--help")
    assert res.returncode == 0
    for cmd in COMMANDS:
        assert cmd in res.stdout


@pytest.mark.parametrize("cmd", COMMANDS)
def test_each_subcommand_has_help(cmd):
    res = run_geo(cmd, "--help")
    assert res.returncode == 0 and "Usage: geo " + cmd in res.stdout


def test_layers_lists_every_catalog_layer_with_counts():
    res = run_geo("layers")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0].split() == ["layer", "geometry", "features", "source"]
    names = [line.split()[0] for line in lines[1:]]
    assert names == list(default_catalog().layers)
    for line in lines[1:]:
        assert line.split()[2].isdigit()


def test_validate_passes_on_the_project_sources():
    res = run_geo("validate")
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("ok:")


@pytest.mark.parametrize("path", ["/vsicurl/http://example.org/x", "https://example.org/out", "/vsizip/a.zip"])
def test_remote_or_virtual_paths_are_refused(path):
    res = run_geo("build", "--out", path)
    assert res.returncode == 2
    assert "remote or virtual GDAL paths are refused" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_unknown_map_name_lists_choices():
    res = run_geo("map", "nowhere", "--out", "/tmp")
    assert res.returncode != 0 and "national" in res.stderr


def test_python_dash_m_geo_and_console_script_agree():
    import subprocess
    import sys
    from pathlib import Path
    exe = Path(sys.executable).parent / "geo"  # installed by `make` beside the interpreter
    assert subprocess.run([exe, "--help"], capture_output=True, text=True).stdout == run_geo("--help").stdout
