"""`lamella ui` and `ln.ui()`: browse an instance in a web browser, read-only, on this machine.

A Starlette app with server-rendered Jinja2 templates (every value escaped) and a little client code
shipped in `static/` (htmx for in-page updates, cytoscape + dagre for the lineage graph); no CDN, no
build step. The pages read the instance through the public API and the query layer only: the same
QuerySets, keyset pages (`QuerySet.after`) and lineage data as Python code. Only GET and HEAD are
served, on 127.0.0.1 unless another address is given explicitly.
"""

from __future__ import annotations

from lamella._ui.server import DEFAULT_HOST, DEFAULT_PORT, UIServer, serve, ui

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "UIServer", "serve", "ui"]
