"""GeoPackage and QGIS writers: the file itself (``write``), its schema, metadata, relations and styles
extensions, the QML/SLD styles and the QGIS project stored inside it."""
