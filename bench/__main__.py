"""`python -m bench`: every benchmark in turn (maps, then grids)."""
from bench import grid, maps

maps.main()
grid.main()
