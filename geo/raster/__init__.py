"""Generic raster operations on grid windows, arrays in and arrays out (float32, NaN = no data):
resampling any GDAL raster onto a grid (:mod:`.resample`), terrain derivatives (:mod:`.derivative`),
distance to vector features (:mod:`.distance`), class rasterising (:mod:`.classes`) and gridding of
sample points (:mod:`.points`)."""
