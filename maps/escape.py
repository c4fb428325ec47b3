"""Make source text safe for folium, which escapes nothing.

Folium puts popup, tooltip and layer-name text into HTML and into JavaScript template literals,
where ``${…}`` runs and a backtick or ``</script>`` breaks out. HTML-escaping alone is not enough.
"""
from __future__ import annotations

import html
import json

# `{` and `}` too: branca re-parses every rendered script and HTML block as a Jinja template, where
# "{{ … }}" and "{% … %}" in source text would run
_JS = str.maketrans({"`": "&#96;", "$": "&#36;", "\\": "&#92;", "{": "&#123;", "}": "&#125;"})


def safe(value: object) -> str:
    """``value`` as text that shows literally in HTML and inside JS template literals."""
    return html.escape("" if value is None else str(value), quote=True).translate(_JS)


def script_json(value: object) -> str:
    """Compact JSON that is safe inside an HTML ``<script>`` (no ``<``, ``>``, ``&`` left raw)."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    # branca renders this text again as a Jinja template: break "{{", "{%" and "{#" (only possible
    # inside JSON strings) with a JSON escape
    return text.replace("{{", "{\\u007b").replace("{%", "{\\u0025").replace("{#", "{\\u0023")
