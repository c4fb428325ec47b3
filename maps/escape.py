"""Make source text safe for folium, which escapes nothing.

Folium puts popup, tooltip and layer-name text into HTML and into JavaScript template literals,
where ``${…}`` runs and a backtick or ``</script>`` breaks out. HTML-escaping alone is not enough.
"""
from __future__ import annotations

import html

_JS = str.maketrans({"`": "&#96;", "$": "&#36;", "\\": "&#92;"})


def safe(value: object) -> str:
    """``value`` as text that shows literally in HTML and inside JS template literals."""
    return html.escape("" if value is None else str(value), quote=True).translate(_JS)
