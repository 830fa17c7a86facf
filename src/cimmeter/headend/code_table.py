"""The codes the simulated head-end emits, as literal tables citing the digest.

A stop-gap until `cimmeter.codes` carries named constants: the lead will switch these names to
that package. Every code here is a plain dotted string; where the digest marks a code **C**
(composed from verified enumerations, never seen whole) or **M**, the comment says so.
"""

from __future__ import annotations

from typing import Final

# -- ReadingType (digest 5.1) ----------------------------------------------------------------

MEASURING_PERIOD_BY_SECONDS: Final[dict[int, int]] = {
    # digest 5.1.3: MeasuringPeriodKind, interval length in seconds -> code
    60: 3,
    120: 10,
    180: 14,
    300: 6,
    600: 1,
    900: 2,
    1200: 31,
    1800: 5,
    3600: 7,
    86400: 4,
}

FIXED_BLOCK_BY_SECONDS: Final[dict[int, int]] = {
    # digest 5.1.3: fixedBlockNMin demand windows (50..56), keyed by the block length
    60: 56,
    300: 55,
    600: 54,
    900: 53,
    1200: 52,
    1800: 51,
    3600: 50,
}


def interval_reading_type(
    seconds: int, flow: int, commodity: int, kind: int, mult: int, unit: int
) -> str:
    """A delta interval ReadingType: `0.0.<measuringPeriod>.4.<flow>.<commodity>.<kind>...`.

    digest 5.1.16/5.1.17: accumulation 4 = deltaData, macroPeriod 0, aggregate 0.
    """
    period = MEASURING_PERIOD_BY_SECONDS[seconds]
    return f"0.0.{period}.4.{flow}.{commodity}.{kind}.0.0.0.0.0.0.0.0.{mult}.{unit}.0"


def register_reading_type(flow: int, commodity: int, kind: int, mult: int, unit: int) -> str:
    """A register (bulk) ReadingType: `0.0.0.1.<flow>.<commodity>.<kind>...` (digest 5.1.4,
    1 = bulkQuantity; 5.1.17 example 8 without a TOU rate). Used for scheduled and on-demand
    reads alike, so the register advance check needs no join of two types."""
    return f"0.0.0.1.{flow}.{commodity}.{kind}.0.0.0.0.0.0.0.0.{mult}.{unit}.0"


def max_demand_reading_type(block_seconds: int) -> str:
    """Billing-period maximum demand, fixed block, delivered, kW (digest 5.1.17 example 7)."""
    block = FIXED_BLOCK_BY_SECONDS[block_seconds]
    return f"8.8.{block}.12.1.1.8.0.0.0.0.0.0.0.0.3.38.0"


# digest 5.1.5 flowDirection, 5.1.6 commodity, 5.1.7 measurementKind, 5.1.12/13 multiplier/unit
FLOW_FORWARD: Final = 1
FLOW_NET: Final = 4
FLOW_REVERSE: Final = 19
COMMODITY_ELECTRICITY: Final = 1
COMMODITY_GAS: Final = 7
COMMODITY_WATER: Final = 9
KIND_ENERGY: Final = 12
KIND_VOLUME: Final = 58
MULT_KILO: Final = 3
MULT_NONE: Final = 0
UNIT_WH: Final = 72
UNIT_M3: Final = 42

# -- EndDeviceType (digest 5.2.1) ------------------------------------------------------------

DEVICE_TYPE_BY_KIND: Final[dict[str, int]] = {"electric": 3, "gas": 4, "water": 24}

# -- EndDeviceEventType: what the simulated meters report (digest 5.2.5, 4.0) ----------------
# Written as `domain.subdomain.eventOrAction`; the device type digit is prefixed per meter kind
# (digest 4.0: when cimmeter originates a code it writes the real device type).

EVENTS: Final[dict[str, str]] = {
    "power_off": "26.0.85",  # digest 5.2.5 V: Power.NA.Failed; the last gasp as OMS sees it (4.6)
    "power_restored": "26.0.216",  # digest 5.2.5 V: Power.NA.Restored
    "tamper": "12.0.257",  # digest 5.2.5 V: Security.NA.TamperDetected
    "reverse_energy": "12.48.219",  # digest 5.2.5 V: Security.Flow.Reversed
    "low_battery": "2.22.150",  # digest 5.2.5 V: Battery.Charge.MinLimitReached
    "clock_error": "36.0.79",  # digest 5.2.5 V: Clock.NA.Error
    "clock_set": "36.116.24",  # digest 5.2.5 V: Clock.TimeSync.Changed
    "disconnected": "31.0.68",  # digest 5.2.5 C: RCDSwitch.NA.Disconnected
    "connected": "31.0.42",  # digest 5.2.5 C: RCDSwitch.NA.Connected
    "armed_for_closure": "31.0.11",  # digest 5.2.5 C: RCDSwitch.NA.ArmedForClosure
    "demand_reset_occurred": "8.0.215",  # digest 5.2.5 V: Demand.NA.ResetOccurred
    "load_control_started": "15.0.242",  # digest 4.8 M: composed LoadControl.NA.Started
    "load_control_stopped": "15.0.243",  # digest 4.8 M: composed LoadControl.NA.Stopped
    "tou_programmed": "20.121.58",  # digest 5.2.5 V [UPL]: Billing.TOU.Succeeded
    "tou_activated": "20.121.4",  # digest 5.2.5 V [UPL]: Billing.TOU.Activated
    "firmware_ready": "11.283.280",  # digest 5.2.5 V [UPL]: Firmware.Activation.ReadyForActivation
    "firmware_activated": "11.283.4",  # digest 5.2.5 V [UPL]: Firmware.Activation.Activated
}

# -- EndDeviceControlType: what the simulated meters obey (digest 5.2.5, 4.7-4.9) -------------

CONTROLS: Final[dict[str, str]] = {
    "31.0.23": "disconnect",  # digest 5.2.5 V
    "31.0.18": "connect",  # digest 5.2.5 V
    "31.0.5": "arm_for_closure",  # digest 5.2.5 V
    "8.0.214": "demand_reset",  # digest 5.2.5 V
    "15.0.54": "load_control_start",  # digest 5.2.5 V
    "15.0.55": "load_control_stop",  # digest 5.2.5 V
    "20.121.13": "tou_change",  # digest 5.2.5 C: Billing.TOU.Change
    "20.97.13": "tou_change",  # digest 5.2.5 V: Billing.Holiday.Change (special-day calendar)
    # digest 4.13 (M): no firmware control code is known; Firmware.Program.Change, composed
    # from verified enumerations (11 Firmware, 83 Program, 13 Change)
    "11.83.13": "firmware_upgrade",
}

# Outcome of a control (digest 4.7 step 6, 5.2 intro): switch controls answer with the
# switch-specific event, all others with the generic one (last field 44 Processed / 79 Error).
SWITCH_OUTCOMES: Final[dict[tuple[str, bool], str]] = {
    ("disconnect", True): "68",  # Disconnected
    ("disconnect", False): "84",  # DisconnectFailed (C)
    ("connect", True): "42",  # Connected
    ("connect", False): "67",  # ConnectFailed (C)
    ("arm_for_closure", True): "11",  # ArmedForClosure (C)
    ("arm_for_closure", False): "226",  # ArmForClosureFailed (C)
}
GENERIC_OUTCOME: Final[dict[bool, str]] = {True: "44", False: "79"}

# -- ReadingQualityType (digest 5.3) ---------------------------------------------------------
# The flags the simulated meter and head-end attach to interval readings. The order is the bit
# order of the per-reading flag mask the generator carries (bit i = QUALITY_FLAGS[i]).

QUALITY_FLAGS: Final[tuple[str, ...]] = (
    "1.2.32",  # device: power failure in the interval (5.3.3, 5.3.4)
    "1.2.3",  # device: service disconnect switch operated in the interval
    "1.4.10",  # device: load control active in the interval
    "1.3.0",  # device: revenue protection (tamper) flag
    "1.3.4",  # device: reverse rotation
    "1.1.9",  # device: clock error
    "1.1.1",  # device: battery low
    "2.5.259",  # head-end: known missing read (placeholder value sent, 5.3.4)
)
QUALITY_BIT: Final[dict[str, int]] = {code: 1 << i for i, code in enumerate(QUALITY_FLAGS)}


def event_code(device_kind: str, event: str) -> str:
    """The 4-part event code a meter of `device_kind` emits for `event` (a key of EVENTS)."""
    return f"{DEVICE_TYPE_BY_KIND[device_kind]}.{EVENTS[event]}"


def control_action(control_type: str) -> str | None:
    """The action of a control code, matched on domain.subdomain.eventOrAction whatever the
    device type digit (digest 4.0: accept any device type digit); None when not supported."""
    _, _, rest = control_type.partition(".")
    return CONTROLS.get(rest)


def outcome_code(control_type: str, action: str, succeeded: bool) -> str:
    """The outcome event code for a control (digest 4.7 step 6)."""
    prefix = control_type.rsplit(".", 1)[0]
    last = SWITCH_OUTCOMES.get((action, succeeded)) or GENERIC_OUTCOME[succeeded]
    return f"{prefix}.{last}"
