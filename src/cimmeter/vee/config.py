"""Rules, their parameters and where they apply: the VEE configuration.

A rule is named, has parameters with defaults and a quality code (digest 5.3). A configuration
overrides parameters at four levels, the later winning: the defaults, a reading type, a usage
point group, a (group, reading type) pair. It loads from TOML or JSON:

    [rules.spike]            # every reading type, every group
    factor = 6.0
    [reading_types."0.0.2.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0".zero_run]
    min_run = 12
    [groups.commercial.high_limit]
    max_value = 500.0
    [groups.commercial.reading_types."0.0.2.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0".spike]
    enabled = false
    [settings]
    raw_replaces_edit = false

Unknown rules or parameters are errors that name the file, the place and what is known.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

Param = float | int | bool | str


class VeeConfigError(ValueError):
    """A configuration that names an unknown rule or parameter, or a value of the wrong type."""


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """One validation rule or estimation method and its parameters."""

    name: str
    kind: str
    """`validation` or `estimation`."""
    applies_to: str
    """`interval`, `register` or `both`."""
    quality: str
    """The code it writes (validation: the failure; estimation: the method's 3.8.n)."""
    description: str
    params: Mapping[str, Param] = field(default_factory=dict)


def _rule(name: str, applies: str, quality: str, text: str, **params: Param) -> RuleSpec:
    return RuleSpec(name, "validation", applies, quality, text, {"enabled": True, **params})


def _method(name: str, quality: str, text: str, **params: Param) -> RuleSpec:
    return RuleSpec(name, "estimation", "interval", quality, text, {"enabled": True, **params})


RULES: Final[dict[str, RuleSpec]] = {
    r.name: r
    for r in (
        _rule("gap", "interval", "3.5.259", "missing intervals on the grid", estimate=True),
        _rule(
            "incomplete_day",
            "interval",
            "3.5.259",
            "a local day with fewer intervals than it should have",
        ),
        _rule(
            "duplicate",
            "both",
            "3.6.0",
            "two readings with the same timestamp (the last received is kept)",
        ),
        _rule(
            "off_grid",
            "interval",
            "3.4.2",
            "a timestamp not on the interval grid, or a partial/long interval flag",
        ),
        _rule(
            "spike",
            "interval",
            "3.5.256",
            "value above factor x the larger of the rolling median of its neighbours and the "
            "typical_quantile of the block's non-zero values",
            factor=4.0,
            window=9,
            typical_quantile=0.75,
            min_value=0.0,
            estimate=True,
        ),
        _rule("high_limit", "interval", "3.6.3", "value above an absolute maximum", max_value=-1.0),
        _rule(
            "low_limit", "interval", "3.6.4", "value below an absolute minimum", min_value="none"
        ),
        _rule(
            "history_high",
            "interval",
            "3.6.5",
            "value above factor x the mean of the same weekday and time over recent weeks",
            factor=10.0,
            margin=1.0,
            weeks=4,
            min_weeks=2,
        ),
        _rule(
            "history_low",
            "interval",
            "3.6.6",
            "value below factor x the mean of the same weekday and time over recent weeks",
            factor=0.0,
            weeks=4,
            min_weeks=2,
        ),
        _rule(
            "zero_run",
            "interval",
            "3.6.1",
            "min_run or more consecutive zeros while the relay was closed, where that time of "
            "day is usually non-zero (only_unexpected)",
            min_run=8,
            only_unexpected=True,
        ),
        _rule(
            "negative",
            "interval",
            "3.6.4",
            "negative value where the flow direction forbids it (all but net flows)",
        ),
        _rule(
            "flat_line",
            "interval",
            "3.3.5",
            "min_run or more consecutive identical non-zero values",
            min_run=8,
        ),
        _rule(
            "register_decrease",
            "register",
            "3.5.256",
            "a register read lower than the one before (not a rollover)",
        ),
        _rule(
            "rollover",
            "register",
            "3.4.1",
            "a register that wrapped past its dials (advance + 10^k is plausible)",
            max_advance_per_hour=1000.0,
        ),
        _rule(
            "demand_jump",
            "register",
            "3.5.256",
            "a demand/power register read that rose by more than max(factor x its usual rise, "
            "min_jump) since the read before",
            factor=20.0,
            min_jump=100.0,
        ),
        _rule(
            "register_advance",
            "register",
            "3.6.0",
            "register advance differs from the sum of the intervals between the reads",
            tolerance=0.01,
            relative=0.001,
        ),
        _rule(
            "unit",
            "both",
            "3.5.258",
            "unit or multiplier do not fit the commodity, or values are implausible for them",
            max_per_hour_base=1.0e6,
        ),
        _rule(
            "future",
            "both",
            "3.5.258",
            "timestamp later than now (plus a tolerance)",
            tolerance_seconds=300,
        ),
        _rule(
            "prolonged_estimation",
            "interval",
            "3.10.0",
            "more than max_run consecutive estimated values",
            max_run=96,
        ),
        _rule("stale", "both", "3.4.7", "no data for max_hours up to now", max_hours=48.0),
        _rule(
            "event_taint",
            "interval",
            "3.10.0",
            "an outage, tamper or clock event (or device flag) during the interval",
            outage_hours=24.0,
        ),
        _method("zero_fill", "3.8.5", "0 while the relay was open or the usage point inactive"),
        _method("check_meter", "3.8.6", "the check meter's value for the interval"),
        _method("linear", "3.8.1", "straight line between the neighbours", max_intervals=4),
        _method(
            "proration",
            "3.8.4",
            "the register advance not covered by actuals, spread by the like-day profile",
            resolution=0.001,
            max_factor=5.0,
        ),
        _method(
            "like_day",
            "3.8.2",
            "mean of the same weekday over recent weeks, scaled to the day's actuals",
            weeks=4,
            min_weeks=1,
        ),
        _method(
            "proxy_day",
            "3.8.3",
            "the same time of the nearest day of the same kind (weekday/weekend) with data",
            max_days=14,
        ),
    )
}
METHOD_ORDER: Final[tuple[str, ...]] = (
    "zero_fill",
    "check_meter",
    "proration",  # before linear: where a register brackets the gap, its advance is exact
    "linear",
    "like_day",
    "proxy_day",
)

SETTINGS_DEFAULTS: Final[dict[str, Param]] = {
    "raw_replaces_edit": False,
    "timezone_offset_minutes": 0,
}


def _check_params(rule: str, params: Mapping[str, Any], where: str) -> dict[str, Param]:
    spec = RULES.get(rule)
    if spec is None:
        raise VeeConfigError(f"{where}: unknown rule {rule!r}; known: {', '.join(sorted(RULES))}")
    if not isinstance(params, Mapping):
        raise VeeConfigError(f"{where}.{rule}: expected a table of parameters")
    out: dict[str, Param] = {}
    for key, value in params.items():
        if key not in spec.params:
            known = ", ".join(sorted(spec.params))
            raise VeeConfigError(f"{where}.{rule}: unknown parameter {key!r}; known: {known}")
        default = spec.params[key]
        if isinstance(default, bool) != isinstance(value, bool) or not isinstance(
            value, (bool, int, float, str)
        ):
            raise VeeConfigError(
                f"{where}.{rule}.{key}: expected {type(default).__name__}, got {value!r}"
            )
        numeric = isinstance(default, (int, float)) and not isinstance(default, bool)
        if numeric and isinstance(value, str) and value != "none":
            raise VeeConfigError(f"{where}.{rule}.{key}: expected a number, got {value!r}")
        out[key] = value
    return out


Overrides = dict[str, dict[str, Param]]


@dataclass(frozen=True, slots=True)
class VeeConfig:
    """Parameter overrides at each level; `params(rule, reading_type, groups)` resolves them."""

    rules: Overrides = field(default_factory=dict)
    reading_types: dict[str, Overrides] = field(default_factory=dict)
    groups: dict[str, Overrides] = field(default_factory=dict)
    group_reading_types: dict[tuple[str, str], Overrides] = field(default_factory=dict)
    settings: dict[str, Param] = field(default_factory=lambda: dict(SETTINGS_DEFAULTS))

    def params(
        self, rule: str, reading_type: str = "", groups: Sequence[str] = ()
    ) -> dict[str, Param]:
        """The parameters of `rule` for that reading type and those usage point groups."""
        out = dict(RULES[rule].params)
        out.update(self.rules.get(rule, {}))
        out.update(self.reading_types.get(reading_type, {}).get(rule, {}))
        for group in groups:
            out.update(self.groups.get(group, {}).get(rule, {}))
            out.update(self.group_reading_types.get((group, reading_type), {}).get(rule, {}))
        return out

    def setting(self, name: str) -> Param:
        return self.settings.get(name, SETTINGS_DEFAULTS[name])

    # -- loading ------------------------------------------------------------------------------

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], where: str = "config") -> VeeConfig:
        known = {"rules", "reading_types", "groups", "settings"}
        for key in data:
            if key not in known:
                raise VeeConfigError(f"{where}: unknown section {key!r}; known: {sorted(known)}")

        def level(table: Any, at: str) -> Overrides:
            if not isinstance(table, Mapping):
                raise VeeConfigError(f"{at}: expected a table of rules")
            return {r: _check_params(r, p, at) for r, p in table.items()}

        rules = level(data.get("rules", {}), f"{where}: rules")
        rts = {
            rt: level(t, f"{where}: reading_types.{rt}")
            for rt, t in _table(data.get("reading_types", {}), f"{where}: reading_types").items()
        }
        groups: dict[str, Overrides] = {}
        pairs: dict[tuple[str, str], Overrides] = {}
        for g, table in _table(data.get("groups", {}), f"{where}: groups").items():
            table = dict(_table(table, f"{where}: groups.{g}"))
            inner = _table(table.pop("reading_types", {}), f"{where}: groups.{g}.reading_types")
            groups[g] = level(table, f"{where}: groups.{g}")
            for rt, t in inner.items():
                pairs[(g, rt)] = level(t, f"{where}: groups.{g}.reading_types.{rt}")
        settings = dict(SETTINGS_DEFAULTS)
        for key, value in _table(data.get("settings", {}), f"{where}: settings").items():
            if key not in SETTINGS_DEFAULTS:
                raise VeeConfigError(
                    f"{where}: settings: unknown setting {key!r}; "
                    f"known: {sorted(SETTINGS_DEFAULTS)}"
                )
            settings[key] = value
        return cls(rules, rts, groups, pairs, settings)

    @classmethod
    def load(cls, path: str | Path) -> VeeConfig:
        """From a `.toml` or `.json` file."""
        path = Path(path)
        text = path.read_bytes()
        try:
            if path.suffix.lower() == ".json":
                data = json.loads(text)
            else:
                data = tomllib.loads(text.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as error:
            raise VeeConfigError(f"{path}: not valid {path.suffix or 'TOML'}: {error}") from error
        return cls.from_mapping(data, str(path))

    def to_mapping(self) -> dict[str, Any]:
        """The overrides as plain data (the inverse of `from_mapping`)."""
        groups: dict[str, Any] = {g: dict(t) for g, t in self.groups.items()}
        for (g, rt), t in self.group_reading_types.items():
            groups.setdefault(g, {}).setdefault("reading_types", {})[rt] = t
        return {
            "rules": self.rules,
            "reading_types": self.reading_types,
            "groups": groups,
            "settings": self.settings,
        }


def _table(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise VeeConfigError(f"{where}: expected a table")
    return value
