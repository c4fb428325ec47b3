"""Files in and out, safely: atomic writes (:mod:`.atomic`), checks of a user's file before GDAL opens it
(:mod:`.userfiles`, :mod:`.paths`), the one TOML reader (:mod:`.tomlfile`) and the declared CSV table reader
(:mod:`.table`)."""
