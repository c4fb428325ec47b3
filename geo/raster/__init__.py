"""Generic raster operations on grid windows, arrays in and arrays out (float32, NaN = no data):
resampling any GDAL raster onto a grid (:mod:`.resample`), terrain derivatives (:mod:`.derivative`),
distance to vector features (:mod:`.distance`), class rasterising (:mod:`.classes`) and gridding of
sample points (:mod:`.points`); fuzzy memberships and overlays (:mod:`.fuzzy`), per-zone statistics
accumulated tile by tile (:mod:`.zonal`), Cloud-Optimized GeoTIFF writing (:mod:`.cog`), coloured previews
(:mod:`.preview`) and XYZ tiles (:mod:`.tiles`)."""
