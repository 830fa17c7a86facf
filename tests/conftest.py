"""Shared fixtures: where the shared reference folder is, and the policy for missing servers.

With `CI` set, a test that needs PostgreSQL or RabbitMQ fails when the server is missing;
without it, it skips with a clear reason (DECISIONS.md, "Tests, CI and benchmarks").
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# No test may depend on timing (DESIGN.md: speed is measured in bench/, never in tests): the
# machine can be loaded, so hypothesis's per-example deadline and too-slow checks are off.
settings.register_profile(
    "cimmeter",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "cimmeter"))

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


def shared_dir() -> Path:
    return Path(os.environ.get("CIMMETER_SHARED", REPO.parent / "shared")).resolve()


def need_server(what: str, reason: str) -> None:
    """Fail in CI, skip elsewhere, when a real server the test needs is not there."""
    message = f"{what} is not available: {reason}"
    if os.environ.get("CI"):
        pytest.fail(f"{message} (CI must run against the real server)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def shared() -> Path:
    """The shared reference folder (`CIMMETER_SHARED`, default ../shared)."""
    path = shared_dir()
    if not (path / "reference").is_dir():
        need_server("the shared reference folder", f"{path}/reference does not exist")
    return path
