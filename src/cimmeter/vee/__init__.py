"""cimmeter.vee: validation, estimation and editing of readings (issue 10).

Raw readings stay as received; VEE writes the final series beside them (series `final` in the
store), every value with its ReadingQuality codes (digest 5.3) and every change explained by a
finding: the rule, the intervals, the reason, the code. `run_channel` is the pure, vectorized
core; `cimmeter.vee.runner` reads and writes the store around it.
"""

from cimmeter.vee.config import METHOD_ORDER, RULES, RuleSpec, VeeConfig, VeeConfigError
from cimmeter.vee.engine import run_channel
from cimmeter.vee.model import ChannelInput, ChannelResult, Finding, Taint, spans

__all__ = [
    "METHOD_ORDER",
    "RULES",
    "ChannelInput",
    "ChannelResult",
    "Finding",
    "RuleSpec",
    "Taint",
    "VeeConfig",
    "VeeConfigError",
    "run_channel",
    "spans",
]
