"""The rule configuration: levels, files, and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cimmeter.codes import ReadingQualityType
from cimmeter.vee import RULES, VeeConfig, VeeConfigError
from tests.vee.helpers import FWD, NET

TOML = f"""
[rules.spike]
factor = 6.0
[reading_types."{FWD}".zero_run]
min_run = 12
[groups.commercial.zero_run]
min_run = 20
[groups.commercial.reading_types."{FWD}".spike]
enabled = false
[settings]
raw_replaces_edit = true
"""


def test_levels_resolve_later_wins(tmp_path: Path) -> None:
    path = tmp_path / "vee.toml"
    path.write_text(TOML)
    config = VeeConfig.load(path)
    assert config.params("spike")["factor"] == 6.0
    assert config.params("spike", NET)["window"] == RULES["spike"].params["window"]
    assert config.params("zero_run", FWD)["min_run"] == 12
    assert config.params("zero_run", NET)["min_run"] == 8
    assert config.params("zero_run", FWD, ("commercial",))["min_run"] == 20
    assert config.params("spike", FWD, ("commercial",))["enabled"] is False
    assert config.params("spike", NET, ("commercial",))["enabled"] is True
    assert config.setting("raw_replaces_edit") is True
    again = tmp_path / "vee.json"
    again.write_text(json.dumps(config.to_mapping()))
    assert VeeConfig.load(again) == config


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"rules": {"spikes": {}}}, "unknown rule 'spikes'"),
        ({"rules": {"spike": {"factr": 2}}}, "unknown parameter 'factr'"),
        ({"rules": {"spike": {"factor": "high"}}}, "expected a number"),
        ({"rules": {"spike": {"enabled": 1}}}, "expected bool"),
        ({"rulez": {}}, "unknown section 'rulez'"),
        ({"settings": {"colour": 1}}, "unknown setting 'colour'"),
    ],
)
def test_bad_config_says_what_and_where(data: dict[str, object], message: str) -> None:
    with pytest.raises(VeeConfigError, match=message):
        VeeConfig.from_mapping(data, "vee.toml")


def test_bad_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[rules.spike\n")
    with pytest.raises(VeeConfigError, match=r"broken\.toml"):
        VeeConfig.load(path)


def test_every_quality_code_is_a_known_mdm_code() -> None:
    for spec in RULES.values():
        code = ReadingQualityType.parse(spec.quality)
        assert code.system_id == 3, spec.name
        assert "unknown" not in code.describe().lower() or spec.kind == "estimation", spec.name
