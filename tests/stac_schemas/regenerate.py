"""Extract the STAC extension JSON schemas the catalog uses from pinned PyPI source distributions.

The pystac extension packages record, in their test cassettes (vcrpy YAML), the schema documents their
tests validate against. This script downloads those sdists with pip (never at build or test time),
reads the recorded responses and writes each schema here as ``<name>-<version>.json``, byte for byte
as recorded. Run from the repository root: ``python tests/stac_schemas/regenerate.py``.
The STAC core schemas are not copied: pystac-core ships them (pystac/validation/jsonschemas/).
"""
from __future__ import annotations

import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import yaml

HERE = Path(__file__).parent
SDISTS = ["pystac-ext-projection==2.0.1", "pystac-ext-raster==1.1.1", "pystac-ext-file==2.1.1",
          "pystac-ext-scientific==1.0.1"]
WANTED = {  # schema URI -> file written here
    "https://stac-extensions.github.io/projection/v2.0.0/schema.json": "projection-v2.0.0.json",
    "https://stac-extensions.github.io/raster/v1.1.0/schema.json": "raster-v1.1.0.json",
    "https://stac-extensions.github.io/file/v2.1.0/schema.json": "file-v2.1.0.json",
    "https://stac-extensions.github.io/scientific/v1.0.0/schema.json": "scientific-v1.0.0.json",
    # proj.org answers the projection schema's $ref with a redirect to this address
    "https://proj.org/en/latest/schemas/v0.7/projjson.schema.json": "projjson-v0.7.json",
}


def main() -> int:
    found: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "-q",
                        "-d", tmp, *SDISTS], check=True)
        for sdist in sorted(Path(tmp).glob("*.tar.gz")):
            with tarfile.open(sdist) as tar:
                for member in tar.getmembers():
                    if "/tests/cassettes/" not in member.name or not member.name.endswith(".yaml"):
                        continue
                    for inter in yaml.safe_load(tar.extractfile(member))["interactions"]:
                        uri, resp = inter["request"]["uri"], inter["response"]
                        if uri in WANTED and resp["status"]["code"] == 200 and uri not in found:
                            found[uri] = resp["body"]["string"]
    missing = sorted(set(WANTED) - set(found))
    if missing:
        print("not found in the cassettes: " + ", ".join(missing), file=sys.stderr)
        return 1
    for uri, text in found.items():
        (HERE / WANTED[uri]).write_text(text, encoding="utf-8")
        print(HERE / WANTED[uri])
    return 0


if __name__ == "__main__":
    sys.exit(main())
