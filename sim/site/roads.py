"""Roads by name: the directed edges a drill means when it says "Yushan Bridge closed".

Why: a scenario names roads as people do, while the model closes graph edges. OSM gives an edge's ``name`` as
one string, a list of strings (an edge merged from differently named ways) or nothing; a name matches when it
equals one of them, ignoring case and surrounding blanks.
"""

from __future__ import annotations

import difflib

from sim.errors import ScenarioError
from sim.site.site import Site

Edge = tuple[int, int, int]  # (u, v, key) of the site's MultiDiGraph


def _names(value: object) -> list[str]:
    """An edge's names as a list (an edge may carry one, several or none)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [v for v in value if isinstance(v, str)]
    return []


def _key(name: str) -> str:
    return name.strip().casefold()


def road_names(site: Site) -> list[str]:
    """Every road name of the site's network, sorted, each once."""
    return sorted({n.strip() for *_, v in site.graph.edges(data="name") for n in _names(v) if n.strip()})


def edges_named(site: Site, name: str) -> list[Edge]:
    """The directed edges (u, v, key) of the road called ``name`` (case-insensitive, trimmed), both ways of a
    two-way road. A name no edge carries raises ScenarioError listing up to five close matches."""
    wanted = _key(name)
    found = [
        (u, v, k)
        for u, v, k, value in site.graph.edges(keys=True, data="name")
        if any(_key(n) == wanted for n in _names(value))
    ]
    if found:
        return found
    names = road_names(site)
    by_key = {_key(n): n for n in names}
    close = [by_key[k] for k in difflib.get_close_matches(wanted, list(by_key), n=5, cutoff=0.6)]
    hint = f"; close matches: {', '.join(close)}" if close else f"; the site has {len(names)} named roads"
    raise ScenarioError(f"no road named {name.strip()!r} on site {site.name!r}{hint}")
