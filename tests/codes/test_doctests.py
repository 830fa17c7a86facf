"""The examples in the code systems' docstrings run and hold."""

from __future__ import annotations

import doctest

import pytest

from cimmeter.codes import end_device_event_type, reading_quality_type, reading_type


@pytest.mark.parametrize(
    "module", [reading_type, end_device_event_type, reading_quality_type], ids=lambda m: m.__name__
)
def test_docstring_examples(module: object) -> None:
    result = doctest.testmod(module)  # type: ignore[arg-type]
    assert result.attempted >= 2
    assert result.failed == 0
