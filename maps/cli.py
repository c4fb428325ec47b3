"""The ``geo`` command: a thin layer over layers/ and maps/, one function per command."""
from __future__ import annotations

import sys
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import click
from rich.console import Console

from geo.catalog import load_catalog
from geo.errors import GeoError, one_line
from geo.files.paths import safe_user_path
from geo.text import snake_name
from layers import CATALOG_DIR
from layers.imports import IMPORTS_DIR, KINDS, check_encoding, check_file, check_name, with_imports, write_import
from layers.model.grid_styles import write_grid_styles
from layers.derived.admin import VIETNAM_AREA_LAYERS
from layers.load import load_layers, load_sources
from layers.derived.summary import occurrence_statement
from layers.derived.prospectivity import AUC, GRID_TABLES, VALIDATION, grid_tables, model_tables
from layers.model.overlay import GRIDS_DIR, grid_layers
from layers.model.record import MODEL_RECORD, build_spec, is_default, model_record
from layers.package import GPKG_NAME, write_package
from layers.model.prospectivity import run_grids
from maps.arguments import EXPLAIN_RESOLUTION, LATITUDE, LONGITUDE, RESOLUTION, cap_jobs, cap_scheduler, output_dir
from maps.composition import load_compositions
from maps.export import FORMATS, check_choices, export_layer
from maps.qgis_project import QGIS_PROJECT, composition_project
from geo.crs import EXPORT_CRS, WEB_CRS

err = Console(stderr=True)


class Context:
    def __init__(self, verbose: int, quiet: bool, catalog_dir: Path, imports_dir: Path):
        self.verbose, self.quiet, self.catalog_dir, self.imports_dir = verbose, quiet, catalog_dir, imports_dir

    def catalog(self, imports: bool = True):
        """The catalog, plus the layers imported into the imports directory (`geo import`)."""
        catalog = load_catalog(self.catalog_dir)
        return with_imports(catalog, self.imports_dir) if imports else catalog

    def say(self, text: str) -> None:
        if not self.quiet:
            click.echo(text)

    def note(self, text: str) -> None:
        """Human-readable results on stderr: stdout stays a list of the paths written."""
        if not self.quiet:
            click.echo(text, err=True)

    @contextmanager
    def step(self, text: str):
        """A rich spinner for a step (shown when it runs long enough to matter)."""
        start = time.perf_counter()
        if self.quiet:
            yield
            return
        with err.status(text):
            yield
        if self.verbose:
            err.print(f"{text}: {time.perf_counter() - start:.2f} s")


def _path(ctx, param, value):
    if value is not None and not str(value).strip():
        raise click.BadParameter("an empty path", ctx, param)
    return None if value is None else safe_user_path(value, f"--{param.name.replace('_', '-')}")


def build_option(help: str):
    """``--build DIR`` (default build/): the build a command reads, and whose grids' model it describes."""
    return click.option("--build", "build_dir", default="build", show_default=True, callback=_path, help=help)


def variant_option(fn):
    """--cdn (and the old --offline, now the default and a no-op), shared by `geo build` and `geo map`."""
    fn = click.option("--offline", "offline_alias", is_flag=True, hidden=True,
                      help="Accepted for old scripts: offline single files are the default.")(fn)
    return click.option("--cdn", is_flag=True,
                        help="Write the lighter variant that loads Leaflet and its plugins from CDNs and opens on "
                             "web tiles (needs a network). Default: one self-contained file that works from "
                             "file:// with no network, on the project's land layer.")(fn)


def _types(_ctx, _param, value):
    return [t.strip() for t in value.split(",") if t.strip()] if value else None


def grid_options(fn):
    """--resolution, --types, --evidence, --model, --jobs and --scheduler, shared by `geo grid` and `geo build`."""
    fn = click.option("--scheduler", default=None, metavar="ADDRESS",
                      help="Run the grid tiles on a dask.distributed cluster: local:N (N worker processes here) "
                           "or a scheduler address (tcp://host:8786); needs the extra 'cluster'.")(fn)
    fn = click.option("--model", "model", type=click.Path(dir_okay=False), default=None, callback=_path,
                      help="Model file (TOML) to run instead of layers/models/prospectivity.toml.")(fn)
    fn = click.option("--jobs", type=click.IntRange(min=1), default=None,
                      help="Worker threads for the grids (default: the CPUs this process may use).")(fn)
    fn = click.option("--evidence", type=click.Path(dir_okay=False), default=None, callback=_path,
                      help="Extra evidence raster (values = fuzzy membership 0-1, any CRS; reprojected).")(fn)
    fn = click.option("--types", "types", default=None, callback=_types,
                      help="Comma-separated deposit types (default: every modelled type).")(fn)
    return click.option("--resolution", type=RESOLUTION, default=250,
                        show_default=True, help="Grid cell size in metres (VN-2000 / UTM 48N).")(fn)


out_option = click.option("--out", "out", default="build", show_default=True, callback=output_dir,
                          help="Output directory (local path).")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More detail; full traceback on errors.")
@click.option("-q", "--quiet", is_flag=True, help="Print only errors.")
@click.option("--catalog", "catalog_dir", default=str(CATALOG_DIR), show_default=False, callback=_path,
              help="Catalog directory (default: the project's layers/catalog).")
@click.option("--imports", "imports_dir", default=IMPORTS_DIR, show_default=True, callback=_path,
              help="Directory of imported layers (`geo import`), added to the catalog when it exists.")
@click.pass_context
def cli(ctx, verbose: int, quiet: bool, catalog_dir: Path, imports_dir: Path):
    """National prospect map of Vietnam's rare-earth elements: build, check and export the layers."""
    ctx.obj = Context(verbose, quiet, catalog_dir, imports_dir)


def _grids(obj: Context, frames, out: Path, resolution: float, types, evidence, jobs, model=None, scheduler=None,
           explain: bool = False):
    """Run the prospectivity model, write OUT/grids/*.tif and OUT/reports/*.png, print the paths and
    the validation tables; return the run and its GeoPackage tables."""
    from layers.model.model_spec import load_spec
    from layers.model.reports import write_reports
    from layers.model.uncertainty import write_spread
    jobs, scheduler = cap_jobs(jobs, obj.note), cap_scheduler(scheduler, obj.note)
    spec = load_spec(model) if model else load_spec()
    with obj.step(f"Prospectivity grids at {resolution:g} m"):
        run = run_grids(frames, resolution, types, out / GRIDS_DIR, evidence, spec=spec, jobs=jobs,
                        scheduler=scheduler, explain=explain)
    # the ensemble's tiles (numpy, GDAL: they release the GIL) run beside the figures (matplotlib, in this
    # thread): 2.6 s of the 100 m run hidden on 2 cores; the paths are printed in the same order either way
    with obj.step("Parameter ensemble (score spread) and validation figures"), ThreadPoolExecutor(1) as side:
        spreading = side.submit(write_spread, frames, spec, types, out / GRIDS_DIR, evidence, jobs=jobs)
        try:
            tables = grid_tables(run)
            reports = write_reports(run, tables, out / "reports")
        finally:
            spread = spreading.result()  # the ensemble is awaited (and its error raised) even when a figure fails
    for tr in run.types.values():
        for path in tr.paths.values():
            obj.say(str(path))
    for path in (*spread, *run.model_paths):
        obj.say(str(path))
    for path in write_grid_styles(out, spec):  # QGIS's default style beside each COG
        obj.say(str(path))
    for path in reports:
        obj.say(str(path))
    if len(tables[VALIDATION]):
        obj.note(tables[VALIDATION][["deposit_type", "score", "top_pct", "area_pct", "n_sites", "n_in_top",
                                     "pct_sites_in_top"]].to_string(index=False))
    obj.note(tables[AUC][["deposit_type", "score", "n_sites", "n_scored", "n_snapped", "n_excluded", "success_auc",
                          "baseline_auc_p95", "null_auc_p95", "verdict", "note"]].to_string(index=False))
    return run, tables


def _build_model(obj: Context, out: Path):
    """The model that made the grids of the build in ``out`` (layers/model/record.py); a build whose grids
    record none (made before the record existed) is described by the project's model, with a warning."""
    if model_record(out) is None and any((Path(out) / GRIDS_DIR).glob("*.tif")):
        click.echo(f"warning: {Path(out) / GRIDS_DIR} records no model ({MODEL_RECORD}): its grids are described "
                   f"with the project's model; fix: rebuild them (geo grid --out {out})", err=True)
    return build_spec(out)


def _build_layers(catalog, out: Path, model):
    """The layers, with the prospectivity tables (validation verdicts, evidence) of ``model``, the model
    that made the grids of the build in ``out``: when it is not the project's own, run again at its
    ``table_resolution_m`` (as the builders run the project's), from the evidence files it read."""
    if is_default(model):
        return load_layers(catalog)
    frames = load_layers(catalog, skip=GRID_TABLES)
    frames.update(model_tables(frames, build_spec(out, open_files=True)))
    return frames


@cli.command()
@out_option
@variant_option
@grid_options
@click.pass_obj
def build(obj: Context, out: Path, cdn: bool, offline_alias: bool, resolution: float, types, evidence, jobs,
          model, scheduler):
    """Build every layer into OUT/vietnam_ree.gpkg, the grids into OUT/grids/ and every map into OUT/maps/."""
    catalog = obj.catalog()
    offline = not cdn
    from maps.web.render import render, save_map  # folium: imported only by the commands that draw maps
    comps = load_compositions(catalog)
    with obj.step("Reading and checking layers"):
        frames = load_layers(catalog, skip=GRID_TABLES)  # made from this build's own grid run below
    run, tables = _grids(obj, frames, out, resolution, types, evidence, jobs, model, scheduler,
                         explain=any(comp.explain for comp in comps.values()))  # a map shows the cell panel
    frames.update(tables)
    frames = {spec.name: frames[spec.name] for spec in catalog}  # catalog order
    target = out / GPKG_NAME
    projects = tuple(composition_project(comp, catalog, frames, target, out, run.spec)
                     for name, comp in comps.items() if name == QGIS_PROJECT)
    with obj.step("Writing GeoPackage"):
        gpkg = write_package(catalog, frames, target, projects)
    obj.say(str(gpkg))
    obj.note(occurrence_statement(frames))  # issue 12: provinces with cited occurrences against the minister's 21
    for name, comp in comps.items():
        with obj.step(f"Rendering map {name}"):
            path = save_map(render(comp, catalog, frames, offline, grids_dir=out, model=run.spec),
                            out / "maps" / f"{name}.html", offline)
        obj.say(str(path))
    from maps.stac import write_build_catalog
    with obj.step("Writing the STAC catalog"):
        obj.say(str(write_build_catalog(out, catalog, frames, comps, run.spec)))  # issue 23: an item per output file


@cli.command()
@out_option
@grid_options
@click.option("--explain", is_flag=True, help="Also write OUT/grids/explain/: each evidence's membership and value "
                                              "COGs, which the prospectivity map's click panel reads (geo build does).")
@click.pass_obj
def grid(obj: Context, out: Path, resolution: float, types, evidence, jobs, model, scheduler, explain: bool):
    """Write OUT/grids/{evidence,proximity}_<type>.tif, their uncertainty and spread COGs, and OUT/reports/*.png."""
    _grids(obj, load_layers(obj.catalog(), skip=GRID_TABLES), out, resolution, types, evidence, jobs, model,
           scheduler, explain)


@cli.command()
@click.option("--grids", "names", default=None, callback=_types,
              help="Comma-separated grids (file names in BUILD/grids without .tif, e.g. evidence_coastal_placer; "
                   "default: every evidence and proximity score with data).")
@click.option("--min-zoom", type=click.IntRange(0, 22), default=10, show_default=True,
              help="Shallowest zoom cut (the maps show the tiles from zoom 10).")
@click.option("--max-zoom", type=click.IntRange(0, 22), default=12, show_default=True,
              help="Deepest zoom cut; the maps scale its tiles up beyond it.")
@click.option("--out", "out", default="build/tiles", show_default=True, callback=_path,
              help="Tiles directory: OUT/<grid>/{z}/{x}/{y}.png and tilejson.json.")
@build_option("The build whose grids/ are tiled; its maps/ are redrawn to use tiles in BUILD/tiles.")
@click.option("--jobs", type=click.IntRange(min=1), default=None, help="Worker threads (default: the CPUs).")
@click.pass_obj
def tiles(obj: Context, names, min_zoom: int, max_zoom: int, out: Path, build_dir: Path, jobs):
    """Full-resolution XYZ PNG tiles of chosen grids, in the maps' colours, sparse; then redraw the maps."""
    from maps.web.tiles import TILES_DIR, write_grid_tiles
    if min_zoom > max_zoom:
        raise click.BadParameter(f"--min-zoom {min_zoom} is deeper than --max-zoom {max_zoom}", param_hint="--min-zoom")
    model = _build_model(obj, build_dir)
    layers = {gl.path.stem: gl for gl in grid_layers(build_dir, spec=model) if gl.kind != "spread"}
    present = {k: gl for k, gl in layers.items() if gl.path.exists()}
    if not present:
        raise click.BadParameter(f"no grids in {build_dir / 'grids'}; run `geo build` (or `geo grid`) first",
                                 param_hint="--build")
    chosen = names or [k for k, gl in present.items() if gl.kind == "score"]
    unknown = [n for n in chosen if n not in present]
    if unknown:
        raise click.BadParameter(f"unknown grid {', '.join(unknown)}; choose from {', '.join(present)}",
                                 param_hint="--grids")
    for name in chosen:
        with obj.step(f"Tiles of {name}"):
            ts = write_grid_tiles(present[name], out, min_zoom, max_zoom, jobs)
        obj.say(str(ts.path))
        obj.note(f"{name}: {ts.tiles} tiles, {ts.bytes / 1e6:.1f} MB, zooms {min_zoom}-{max_zoom}, {ts.seconds:.1f} s")
    if Path(out).resolve() != (Path(build_dir) / TILES_DIR).resolve():
        obj.note(f"the maps use tiles in {Path(build_dir) / TILES_DIR} only: maps not redrawn")
        return
    from maps.web.render import render, save_map
    from maps.stac import write_build_catalog
    catalog = obj.catalog()
    comps = load_compositions(catalog)
    drawn = [n for n, c in comps.items() if c.grids and (Path(build_dir) / "maps" / f"{n}.html").exists()]
    if not drawn:
        return
    frames = _build_layers(catalog, build_dir, model)
    for n in drawn:  # the maps of the build, redrawn with the tile layers
        with obj.step(f"Rendering map {n}"):
            obj.say(str(save_map(render(comps[n], catalog, frames, True, grids_dir=build_dir, model=model),
                                 Path(build_dir) / "maps" / f"{n}.html", True)))
    if (Path(build_dir) / "stac" / "catalog.json").exists():
        with obj.step("Writing the STAC catalog"):
            obj.say(str(write_build_catalog(build_dir, catalog, frames, comps, model)))


@cli.command()
@click.argument("deposit_type")
@click.argument("lon", type=LONGITUDE)
@click.argument("lat", type=LATITUDE)
@click.option("--resolution", type=EXPLAIN_RESOLUTION, default=250, show_default=True,
              help="Grid cell size in metres (as the grids it explains; at least 5).")
@click.option("--model", "model", type=click.Path(dir_okay=False), default=None, callback=_path,
              help="Model file (TOML) instead of layers/models/prospectivity.toml.")
@click.pass_obj
def explain(obj: Context, deposit_type: str, lon: float, lat: float, resolution: float, model):
    """Why is this cell high? Each evidence of DEPOSIT_TYPE at LON LAT (WGS 84): value, membership,
    score, mineral-system component and citation; then each score at the cell."""
    from layers.model.explain import explain as explain_cell
    from layers.model.model_spec import load_spec
    spec = load_spec(model) if model else load_spec()
    if deposit_type not in spec.types:
        raise click.BadParameter(f"no model for {deposit_type!r}; choose one of {', '.join(spec.types)}",
                                 param_hint="DEPOSIT_TYPE")
    scores, rows = explain_cell(load_layers(obj.catalog(), skip=GRID_TABLES), deposit_type, lon, lat, resolution, spec)

    def num(v):
        return "missing" if v is None else f"{v:.4g}"
    table = [("evidence", "score", "component", "value", "membership", "refs / basis")]
    table += [(r.evidence, r.score, r.component or "-", "-" if r.value is None and r.membership is not None else num(r.value),
               num(r.membership), r.basis) for r in rows]
    widths = [max(len(t[i]) for t in table) for i in range(5)]
    for t in table:
        click.echo("  ".join(c.ljust(w) for c, w in zip(t, widths)) + "  " + t[5])
    for s, v in scores.items():
        click.echo(f"{s} score: {num(v)}" + ("" if rows else " (the cell is at sea or abroad)"))


@cli.command("layers")
@click.pass_obj
def list_layers(obj: Context):
    """List the catalog: name, geometry, features and source of every layer."""
    catalog = obj.catalog()
    frames = load_layers(catalog)
    rows = [("layer", "geometry", "features", "source")]
    for spec in catalog:
        src = ", ".join(spec.source.files) or f"derived: {spec.source.builder}"
        rows.append((spec.name, spec.geometry or "table", str(len(frames[spec.name])), src))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for r in rows:
        click.echo("  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[3])


@cli.command()
@click.pass_obj
def validate(obj: Context):
    """Check the catalog, every source and every map composition, writing nothing."""
    catalog = obj.catalog()
    load_compositions(catalog)
    frames = load_layers(catalog)
    n = sum(len(f) for f in frames.values())
    obj.say(f"ok: {len(catalog.layers)} layers, {n} rows, {len(catalog.domains)} domains")


@cli.command("map")
@click.argument("name")
@out_option
@variant_option
@click.pass_obj
def map_(obj: Context, name: str, out: Path, cdn: bool, offline_alias: bool):
    """Render the map composition NAME to OUT/maps/NAME.html (offline single file unless --cdn)."""
    offline = not cdn
    from maps.web.render import render, save_map
    catalog = obj.catalog()
    comps = load_compositions(catalog)
    if name not in comps:
        raise click.BadParameter(f"unknown map {name!r}; choose one of {', '.join(comps)}", param_hint="NAME")
    model = _build_model(obj, out)
    frames = _build_layers(catalog, out, model) if comps[name].grids else load_layers(catalog)
    if comps[name].grids and not any(gl.path.exists() for gl in grid_layers(out, comps[name].grid_scores, model)):
        click.echo(f"warning: no prospectivity grids in {out / GRIDS_DIR}: the map draws no score overlays; "
                   f"fix: run `geo grid --out {out}` first", err=True)
    with obj.step(f"Rendering map {name}"):
        path = save_map(render(comps[name], catalog, frames, offline, grids_dir=out, model=model),
                        out / "maps" / f"{name}.html", offline)
    obj.say(str(path))


@cli.command("print")
@click.option("--out", "out", default="build/print", show_default=True, callback=output_dir,
              help="Output directory (local path).")
@click.option("--maps", "names", default="national,coastal", show_default=True, callback=_types,
              help="Comma-separated map sheets (compositions).")
@click.option("--lang", "langs", default="vi,en", show_default=True, callback=_types,
              help="Comma-separated languages of the sheets and figures.")
@click.option("--figures/--no-figures", default=True, show_default=True,
              help="Also the reserves-by-USGS-edition and occurrences-by-province figures.")
@click.pass_obj
def print_(obj: Context, out: Path, names, langs, figures: bool):
    """Static A3 map sheets and figures for reports (PDF with vector text, PNG at 300 dpi), no network."""
    from maps.print.figures import print_figures  # matplotlib: imported only when printing
    from maps.print.sheet import print_sheets
    catalog = obj.catalog()
    comps = load_compositions(catalog)
    unknown = [n for n in names if n not in comps] + [lang for lang in langs if lang not in ("vi", "en")]
    if unknown:
        raise click.BadParameter(f"unknown {', '.join(unknown)}; maps: {', '.join(comps)}; languages: vi, en")
    frames = load_layers(catalog)
    for n in names:
        if comps[n].grids and comps[n].explain:  # a map made to read the scores; sheets draw vector layers only
            click.echo(f"warning: the printed {n} sheet does not draw the prospectivity scores; they are in "
                       "build/maps/prospectivity.html and the COGs in build/grids/ (QGIS)", err=True)
    with obj.step("Printing map sheets"):
        paths = print_sheets(catalog, frames, comps, out, names, langs)
    if figures:
        with obj.step("Printing figures"):
            paths += print_figures(catalog, frames, out, langs)
    for p in paths:
        obj.say(str(p))


@cli.command()
@click.option("--format", "fmt", default="gpkg", show_default=True,
              help=f"One of: {', '.join(FORMATS)}.")
@click.option("--layers", "names", default=None, help="Comma-separated layer names (default: all).")
@click.option("--crs", default=WEB_CRS, show_default=True, help=f"One of: {', '.join(EXPORT_CRS)}.")
@click.option("--out", "out", default="build/export", show_default=True, callback=output_dir,
              help="Output directory (local path).")
@click.option("--raw", is_flag=True, help="CSV: keep text cells that begin with = + - @ tab or CR as they are "
                                           "(by default a ' is put before them, so that a spreadsheet shows "
                                           "them as text instead of running them as formulas).")
@build_option("The build whose model the prospectivity tables describe (that of its grids, "
              "BUILD/grids/model.toml; the project's model when it has none).")
@click.pass_obj
def export(obj: Context, fmt: str, names: str | None, crs: str, out: Path, raw: bool, build_dir: Path):
    """Export layers for GIS tools, one file per layer, in OUT."""
    catalog = obj.catalog()
    wanted = [n.strip() for n in names.split(",")] if names else list(catalog.layers)
    check_choices(catalog, fmt, wanted, crs)
    frames = _build_layers(catalog, build_dir, _build_model(obj, build_dir))
    for name in wanted:
        obj.say(str(export_layer(catalog, catalog[name], frames, fmt, crs, out, raw=raw)))


@cli.command("import")
@click.argument("file")
@click.option("--as", "kind", type=click.Choice(list(KINDS)), required=True,
              help="What the rows are: occurrences (id, name) or samples (id and numeric analyses).")
@click.option("--name", default=None, help="Layer name (default: the file name, lower_snake_case).")
@click.option("--crs", default=None, help="CRS of the coordinates, e.g. EPSG:4756 (VN-2000), EPSG:3405, EPSG:3406; "
                                         "required for CSV x/y and for files that state none.")
@click.option("--encoding", default=None, help="Text encoding of a CSV or Shapefile (default UTF-8; never guessed).")
@click.option("--lon", default=None, help="CSV longitude column (default: detected).")
@click.option("--lat", default=None, help="CSV latitude column (default: detected).")
@click.option("--x", "x", default=None, help="CSV projected x column (needs --crs).")
@click.option("--y", "y", default=None, help="CSV projected y column (needs --crs).")
@click.option("--dir", "directory", default=None, callback=_path,
              help="Where imported layers live (default: the global --imports, 'imports').")
@click.pass_obj
def import_(obj: Context, file: str, kind: str, name: str | None, crs: str | None, encoding: str | None,
            lon, lat, x, y, directory: Path | None):
    """Check FILE (CSV, GeoJSON, KML/KMZ, GeoPackage, zipped Shapefile) and keep it as a declared layer."""
    path = safe_user_path(file, "FILE")
    directory = directory or obj.imports_dir
    check_encoding(encoding)
    catalog = with_imports(obj.catalog(imports=False), directory)
    name = name or snake_name(path.stem)
    check_name(name, catalog)
    def frames():  # loaded once the file is read: a broken file is refused before this
        return load_sources(VIETNAM_AREA_LAYERS, obj.catalog(imports=False))  # land and sea only
    with obj.step(f"Checking {path}"):
        points, fields, fmt, crs_used = check_file(path, kind, frames, crs, encoding, lon, lat, x, y)
    for written in write_import(points, fields, name, kind, path, fmt, crs_used, directory):  # checked, then published
        obj.say(str(written))
    obj.note(f"{len(points)} {kind} imported as layer '{name}'; `geo build` carries it into the GeoPackage, "
             "the national map and the exports")


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; a project error prints one line and exits 2 (traceback only with -v)."""
    args = sys.argv[1:] if argv is None else argv
    verbose = any(a in ("-v", "--verbose") or (a.startswith("-v") and set(a[1:]) == {"v"}) for a in args)
    try:
        cli.main(args=args, prog_name="geo", standalone_mode=False)
    except GeoError as exc:
        if verbose:
            traceback.print_exc()
        click.echo(f"error: {exc}", err=True)
        return 2
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 130
    except click.UsageError as exc:  # a bad argument: one line, like every other refusal
        command = exc.ctx.command_path if exc.ctx is not None else "geo"
        click.echo(one_line(f"error: {exc.format_message().rstrip('.')}; see {command} --help"), err=True)
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
