"""The interactive web maps: the page (:mod:`.render`), its controls, features and popups, the grid
overlays and tiles, the click panel, density grids, place labels, risk symbols, search and the offline
page (scripts and styles inlined)."""
