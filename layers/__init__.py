"""Vietnam's REE layers: their declarations (``catalog/``), plain-text sources and builders."""
from pathlib import Path

ROOT = Path(__file__).resolve().parent
CATALOG_DIR = ROOT / "catalog"
