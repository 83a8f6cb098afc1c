"""The settings a run changed from the defaults, and a short label for its result folder.

Why: two comparisons with different overrides (``policy.coordination=strict``, ``incidents=stress``,
``fleet.echelons_per_grid=2``) otherwise read and are named alike; only config.yaml told them apart.

A *group choice* (``incidents=festival_restart``: another file of a config group) is one setting; the keys
that file sets are not listed one by one, since the file changed as a whole. A *key* is listed when its
value differs from the one the chosen files give it (``incidents=stress incidents.rate_multiplier=100``
lists the group, and the multiplier against stress's 60). ``results_dir``, ``cache_dir`` and ``choices``
say where files go, not what was simulated, and ``run.workers`` how many processes simulate: never listed.

Everything here is pure: the configs to compare with are composed by the caller
(``sim.config.reference_config``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sim.config import GROUPS, EchelonConfig

NOT_COMPARED = ("results_dir", "cache_dir", "choices")
NOT_COMPARED_KEYS = ("run.workers",)  # how many processes simulate: never changes a result
LABEL_MAX = 48  # characters (incidents=festival_restart+echelons_per_grid=2 is 46); longer: cut, hashed
HASH_CHARS = 6


@dataclass(frozen=True)
class Setting:
    """One setting that differs from the default: a dotted key (or a config group's name) and both values.

    ``policies``: in a comparison, the policies this setting changes when it does not change all of them
    (``policy.coordination=strict`` changes echelon_135's ``county``, while police_only is strict already);
    empty when it applies to every policy compared."""

    key: str
    default: Any
    value: Any
    policies: tuple[str, ...] = ()

    @property
    def is_group(self) -> bool:
        return self.key in GROUPS

    def as_dict(self) -> dict[str, Any]:
        """Plain data for config.yaml and the report: ``{key, default, value}`` (and ``policies`` if any)."""
        out = {"key": self.key, "default": self.default, "value": self.value}
        if self.policies:
            out["policies"] = list(self.policies)
        return out


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings to dotted keys; lists (of values or records) stay whole, as one value."""
    out: dict[str, Any] = {}
    for name, value in data.items():
        key = f"{prefix}{name}"
        if isinstance(value, Mapping) and value:
            out.update(flatten(value, key + "."))
        else:
            out[key] = value
    return out


def _values(cfg: EchelonConfig) -> dict[str, Any]:
    data = {k: v for k, v in dataclasses.asdict(cfg).items() if k not in NOT_COMPARED}
    return {k: v for k, v in flatten(data).items() if k not in NOT_COMPARED_KEYS}


def _under(key: str, prefixes: Iterable[str]) -> bool:
    return any(key == p or key.startswith(p + ".") for p in prefixes)


def changed_settings(
    cfg: EchelonConfig,
    default_cfg: EchelonConfig,
    reference_cfg: EchelonConfig | None = None,
    *,
    vary: Sequence[str] = (),
    ignore: Sequence[str] = (),
) -> list[Setting]:
    """What ``cfg`` changed from ``default_cfg``: group choices first (in config order), then keys.

    ``reference_cfg``: the config composed from ``cfg``'s group choices and nothing else; keys are compared
    with it, so an override on top of another file is listed too. Without it keys are compared with
    ``default_cfg`` and keys inside a changed group are left out (the group's line says it changed).
    ``vary``: groups whose *choice* is not a setting (a comparison varies ``policy`` on purpose; the keys
    inside it still count). ``ignore``: dotted keys or prefixes the caller does not use (``ladder`` in a
    comparison)."""
    settings = []
    changed_groups = set()
    for group in GROUPS:
        was, now = default_cfg.choices.get(group), cfg.choices.get(group)
        if was != now:
            changed_groups.add(group)
            if group not in vary and not _under(group, ignore):
                settings.append(Setting(group, was, now))
    reference = reference_cfg if reference_cfg is not None else default_cfg
    before, after = _values(reference), _values(cfg)
    for key in [*after, *(k for k in before if k not in after)]:
        if _under(key, ignore) or (reference_cfg is None and _under(key, changed_groups)):
            continue
        if before.get(key) != after.get(key):
            settings.append(Setting(key, before.get(key), after.get(key)))
    return settings


def merge_settings(per_config: Mapping[str, Sequence[Setting]]) -> list[Setting]:
    """One list for the labelled configs of a comparison: a setting every config shares is listed once;
    one only some configs have (their policy files differ) names them in ``policies`` (a group choice never
    does: it is the run's, as a ladder's target policy)."""
    groups: dict[tuple[str, str, str], list[str]] = {}
    first: dict[tuple[str, str, str], Setting] = {}
    for label, settings in per_config.items():
        for s in settings:
            ident = (s.key, repr(s.default), repr(s.value))
            first.setdefault(ident, s)
            groups.setdefault(ident, []).append(label)
    everyone = list(per_config)
    merged = [
        dataclasses.replace(
            first[i], policies=() if labels == everyone or first[i].is_group else tuple(labels)
        )
        for i, labels in groups.items()
    ]
    return sorted(merged, key=_config_order)


_FIELDS = [f.name for f in dataclasses.fields(EchelonConfig)]


def _config_order(setting: Setting) -> tuple[int, int]:
    """Group choices first, in GROUPS order; then keys in the order of the config's sections."""
    if setting.is_group:
        return (0, GROUPS.index(setting.key))
    top = setting.key.split(".", 1)[0]
    return (1, _FIELDS.index(top) if top in _FIELDS else len(_FIELDS))


def _short_key(key: str) -> str:
    """``fleet.echelons_per_grid`` -> ``echelons_per_grid``; deeper keys keep their parent, which names
    what they belong to (``delays.mobilise_echelon.dist`` -> ``mobilise_echelon.dist``)."""
    parts = key.split(".")
    return ".".join(parts[-2:]) if len(parts) > 2 else parts[-1]


def _text(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "null"}[value]
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list | tuple):
        return ",".join(_text(v) for v in value)
    if isinstance(value, Mapping):
        return ",".join(f"{k}:{_text(v)}" for k, v in value.items())
    return str(value)


def _safe(text: str) -> str:
    """Letters of any script, digits and ``=+._-``; anything else becomes '-' (runs of it, one)."""
    return re.sub(r"-{2,}", "-", re.sub(r"[^\w=+.\-]", "-", text)).strip("-.")


def short_label(settings: Iterable[Setting], skip: Sequence[str] = ()) -> str:
    """A short, filesystem-safe label for folder names: ``incidents=festival_restart+echelons_per_grid=2``.

    ``skip``: keys the folder name says already (the site, a run's policy). A label longer
    than LABEL_MAX characters keeps the settings that fit and ends in a hash of the whole, so two different
    runs never share a label; '' when nothing changed."""
    parts = [f"{_short_key(s.key)}={_text(s.value)}" for s in settings if s.key not in skip]
    safe = [p for p in (_safe(p) for p in parts) if p]
    label = "+".join(safe)
    if len(label) <= LABEL_MAX:
        return label
    digest = hashlib.sha256("+".join(parts).encode("utf-8")).hexdigest()[:HASH_CHARS]
    room = LABEL_MAX - HASH_CHARS - 1
    kept = ""
    for part in safe:  # whole settings while they fit, so none reads as another value
        if len(kept) + len(part) + bool(kept) > room:
            break
        kept = f"{kept}+{part}" if kept else part
    cut = kept or safe[0][:room].rstrip("=+._-")  # not even one fits: cut the first
    return f"{cut}-{digest}"
