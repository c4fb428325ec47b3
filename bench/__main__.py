"""`python -m bench`: every benchmark in turn (maps, then grids, then large and hostile imports)."""
from bench import grid, imports, maps

maps.main()
grid.main()
imports.main()
