"""Map compositions (``compositions/*.toml``) and their Folium rendering."""
from pathlib import Path

COMPOSITIONS_DIR = Path(__file__).resolve().parent / "compositions"
