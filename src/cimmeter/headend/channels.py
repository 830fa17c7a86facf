"""The measurement channels of the simulated meters and their ReadingType codes (digest 5.1).

| channel | meters | ReadingType |
|---|---|---|
| forward | electric | 15-min (the fleet's interval) delta energy delivered, kWh |
| reverse | electric with solar | delta energy received (exported), kWh |
| net | electric (on request) | delta energy net, kWh (negative when exporting) |
| forward_register | electric | bulk register delivered, kWh |
| reverse_register | electric with solar | bulk register received, kWh |
| max_demand | electric | billing-period maximum demand, fixed block = the interval, kW |
| gas_volume, gas_register | gas | hourly delta volume, register, m3 |
| water_volume, water_register | water | hourly delta volume, register, m3 |
"""

from __future__ import annotations

from dataclasses import dataclass

from cimmeter.headend import code_table as ct
from cimmeter.headend.fleet import ELECTRIC, GAS, WATER, FleetOptions
from cimmeter.model.readings import BlockKind


@dataclass(frozen=True, slots=True)
class Channel:
    name: str
    reading_type: str
    block_kind: BlockKind
    meter_kind: int
    solar_only: bool = False
    default: bool = True
    resolution: float = 0.001
    """Values are exact multiples of this (1 Wh, 1 litre), so registers and sums agree exactly."""


def fleet_channels(options: FleetOptions) -> tuple[Channel, ...]:
    """Every channel of a fleet with these options (interval codes follow its intervals)."""
    iv, vol = options.interval_seconds, options.volume_interval_seconds
    elec = (ct.COMMODITY_ELECTRICITY, ct.KIND_ENERGY, ct.MULT_KILO, ct.UNIT_WH)
    gas = (ct.COMMODITY_GAS, ct.KIND_VOLUME, ct.MULT_NONE, ct.UNIT_M3)
    water = (ct.COMMODITY_WATER, ct.KIND_VOLUME, ct.MULT_NONE, ct.UNIT_M3)
    fwd, rev, net = ct.FLOW_FORWARD, ct.FLOW_REVERSE, ct.FLOW_NET
    return (
        Channel("forward", ct.interval_reading_type(iv, fwd, *elec), "interval", ELECTRIC),
        Channel(
            "reverse",
            ct.interval_reading_type(iv, rev, *elec),
            "interval",
            ELECTRIC,
            solar_only=True,
        ),
        Channel(
            "net", ct.interval_reading_type(iv, net, *elec), "interval", ELECTRIC, default=False
        ),
        Channel("forward_register", ct.register_reading_type(fwd, *elec), "register", ELECTRIC),
        Channel(
            "reverse_register",
            ct.register_reading_type(rev, *elec),
            "register",
            ELECTRIC,
            solar_only=True,
        ),
        Channel("max_demand", ct.max_demand_reading_type(iv), "register", ELECTRIC, resolution=0.0),
        Channel("gas_volume", ct.interval_reading_type(vol, fwd, *gas), "interval", GAS),
        Channel("gas_register", ct.register_reading_type(fwd, *gas), "register", GAS),
        Channel("water_volume", ct.interval_reading_type(vol, fwd, *water), "interval", WATER),
        Channel("water_register", ct.register_reading_type(fwd, *water), "register", WATER),
    )
