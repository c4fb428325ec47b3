"""Packaging facts: conda and pip agree on dependencies, every one is pinned, imports point one way."""
from __future__ import annotations

import ast
import re
import tomllib

from conftest import ROOT


def _name(req: str) -> str:
    return re.split(r"[<>=!~ \[]", req.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _conda_names() -> set[str]:
    names, in_deps = set(), False
    for line in (ROOT / "environment.yml").read_text().splitlines():
        if not line.startswith((" ", "-", "#")) and line.strip():
            in_deps = line.startswith("dependencies:")
        item = line.strip()
        if not in_deps or not item.startswith("- "):
            continue
        value = item[2:].strip()
        if value.endswith(":"):
            continue
        if value.startswith("-e") or value in ("pip",) or value.startswith("python="):
            continue
        names.add(_name(value))
    return names


NO_DEPS = {"gdal-utils": "gdal"}  # pip name (installed --no-deps by the Makefile) -> conda-forge name


def test_environment_yml_matches_pyproject():
    meta = _pyproject()["project"]
    wanted = {_name(r) for r in meta["dependencies"]}
    for extra in meta["optional-dependencies"].values():
        wanted |= {_name(r) for r in extra}
    wanted |= set(NO_DEPS.values())
    assert _conda_names() == wanted


def test_no_deps_packages_are_pinned_and_installed_by_make():
    pins = (ROOT / "constraints.txt").read_text()
    makefile = (ROOT / "Makefile").read_text()
    for name in NO_DEPS:
        assert f"\n{name}==" in pins and f"'^{name}==' constraints.txt" in makefile


def test_every_dependency_is_pinned_in_constraints():
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[_name(name)] = version
    meta = _pyproject()["project"]
    reqs = list(meta["dependencies"]) + [r for e in meta["optional-dependencies"].values() for r in e]
    for req in reqs:
        assert _name(req) in pins, f"{req} has no exact pin in constraints.txt"
    assert "fiona" not in pins, "pyogrio is the only vector engine"


def _imports(package: str) -> dict[str, set[str]]:
    out = {}
    for path in (ROOT / package).rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        mods = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                mods |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                mods.add(node.module.split(".")[0])
        out[str(path.relative_to(ROOT))] = mods
    return out


def test_dependencies_point_one_way():
    for path, mods in _imports("geo").items():
        if path == "geo/__main__.py":
            continue  # the `python -m geo` entry point: delegates to the CLI at call time
        assert not mods & {"layers", "maps", "folium", "branca"}, path
    for path, mods in _imports("layers").items():
        assert not mods & {"maps", "folium", "branca"}, path


def test_geo_knows_nothing_of_ree():
    for path in (ROOT / "geo").rglob("*.py"):
        text = path.read_text(encoding="utf-8").lower()
        for word in ("rare earth", "rare-earth", "monazite", "deposit"):
            assert word not in text, f"{path.name} mentions {word!r}"
