"""Run by Debian's /usr/bin/python3 (python3-qgis), headless: open a project stored in a GeoPackage,
describe every layer, render the project to PNG and look at the pixels around given points.

Usage: check_project.py GPKG PROJECT_NAME PNG POINTS_JSON -> JSON on stdout.
POINTS_JSON: [[layer_id, lon, lat, "#rrggbb"], ...] points whose colour should appear nearby.
"""
import json
import sys

from qgis.core import (Qgis, QgsApplication, QgsCoordinateReferenceSystem, QgsCoordinateTransform, QgsMapRendererParallelJob,
                       QgsMapSettings, QgsPointXY, QgsProject, QgsRasterLayer)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor

gpkg, name, png, points_json = sys.argv[1:5]
app = QgsApplication([], False)
app.initQgis()
project = QgsProject.instance()
uri = f"geopackage:{gpkg}?projectName={name}"
ok = project.read(uri)
root = project.layerTreeRoot()
layers = []
for node in root.findLayers():
    lyr = node.layer()
    info = {"id": node.layerId(), "name": node.name(), "group": node.parent().name(), "valid": bool(lyr and lyr.isValid()),
            "visible": node.isVisible(), "source": lyr.source() if lyr else None}
    if isinstance(lyr, QgsRasterLayer):
        ren = lyr.renderer()
        info["renderer"] = ren.type()
        try:
            items = ren.shader().rasterShaderFunction().colorRampItemList()
            info["ramp"] = [[i.value, i.color.name()] for i in items]
        except AttributeError:
            info["ramp"] = None
        info["nodata"] = lyr.dataProvider().sourceNoDataValue(1) if lyr.dataProvider().sourceHasNoDataValue(1) else None
        info["unit"] = lyr.dataProvider().dataType(1) and lyr.bandName(1)
    elif lyr is not None:
        info["renderer"] = lyr.renderer().type() if lyr.renderer() else None
        info["features"] = lyr.featureCount()
        info["labels"] = bool(lyr.labelsEnabled())
    layers.append(info)
groups = [g.name() for g in root.children()]

settings = QgsMapSettings()
visible = [n.layer() for n in root.findLayers() if n.isVisible() and n.layer() is not None]
settings.setLayers(visible)
settings.setDestinationCrs(project.crs())
settings.setBackgroundColor(QColor(255, 255, 255))
settings.setOutputSize(QSize(900, 1200))
points = json.loads(points_json)
wgs = QgsCoordinateReferenceSystem("EPSG:4326")
to_map = QgsCoordinateTransform(wgs, project.crs(), project)
ext = None
for lyr in visible:
    if lyr.id().startswith("land_"):
        ext = QgsCoordinateTransform(lyr.crs(), project.crs(), project).transformBoundingBox(lyr.extent())
if ext is not None:
    settings.setExtent(ext)
job = QgsMapRendererParallelJob(settings)
job.start()
job.waitForFinished()
image = job.renderedImage()
image.save(png, "PNG")
m2p = settings.mapToPixel()
hits = []
for layer_id, lon, lat, colour in points:
    p = m2p.transform(to_map.transform(QgsPointXY(lon, lat)))
    want = QColor(colour)
    best = 999
    for dx in range(-6, 7):
        for dy in range(-6, 7):
            x, y = int(p.x()) + dx, int(p.y()) + dy
            if 0 <= x < image.width() and 0 <= y < image.height():
                c = QColor(image.pixel(x, y))
                best = min(best, abs(c.red() - want.red()) + abs(c.green() - want.green()) + abs(c.blue() - want.blue()))
    hits.append({"layer": layer_id, "lon": lon, "lat": lat, "colour": colour, "pixel": [p.x(), p.y()], "distance": best})
# the same view with the first grid switched on: its pseudocolour must show on land
raster_node = next(n for n in root.findLayers() if isinstance(n.layer(), QgsRasterLayer))
raster_node.setItemVisibilityChecked(True)
settings.setLayers([n.layer() for n in root.findLayers() if n.isVisible() and n.layer() is not None])
job = QgsMapRendererParallelJob(settings)
job.start()
job.waitForFinished()
with_grid = job.renderedImage()
with_grid.save(png.replace(".png", "_grid.png"), "PNG")
ramp = [QColor(c).getRgb()[:3] for _, c in next(l["ramp"] for l in layers if l["id"] == raster_node.layerId())]


def ramp_distance(rgb):
    """RGB distance from the ramp's polyline (its interpolated colours)."""
    best = 1e9
    for a, b in zip(ramp, ramp[1:]):
        ab = [bb - aa for aa, bb in zip(a, b)]
        t = max(0.0, min(1.0, sum((c - aa) * d for c, aa, d in zip(rgb, a, ab)) / (sum(d * d for d in ab) or 1)))
        best = min(best, sum((c - aa - t * d) ** 2 for c, aa, d in zip(rgb, a, ab)) ** 0.5)
    return best


grid_pixels = 0
for x in range(0, image.width(), 3):
    for y in range(0, image.height(), 3):
        if with_grid.pixel(x, y) != image.pixel(x, y) and ramp_distance(QColor(with_grid.pixel(x, y)).getRgb()[:3]) < 12:
            grid_pixels += 1
print(json.dumps({"qgis": Qgis.QGIS_VERSION, "read": ok, "crs": project.crs().authid(), "groups": groups, "layers": layers, "hits": hits, "grid": raster_node.layerId(), "grid_pixels": grid_pixels,
                  "size": [image.width(), image.height()]}))
app.exitQgis()
