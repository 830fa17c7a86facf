"""Helpers of the head-end tests: a quiet simulated fleet, the head-end over it, requests.

Requests are built as typed messages and handed to the service as XML bytes (messages as
data: the service parses them with the real codecs).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from cimmeter.headend.events import EventRates
from cimmeter.headend.fleet import FleetOptions
from cimmeter.headend.generation import Realism
from cimmeter.headend.network import SimulatedNetwork
from cimmeter.headend.simulation import Simulation
from cimmeter.message.envelope import (
    ID,
    Header,
    Message,
    Option,
    Payload,
    Request,
    RequestMessage,
    read_xml,
    write_xml,
)
from cimmeter.message.verbs import Verb
from cimmeter.model.base import CimDocument
from cimmeter.model.common import DateTimeInterval
from cimmeter.model.end_device_controls import (
    EndDevice as ControlDevice,
)
from cimmeter.model.end_device_controls import (
    EndDeviceControl,
    EndDeviceControls,
    EndDeviceTiming,
)
from cimmeter.model.get_meter_readings import EndDevice, GetMeterReadings, Reading
from cimmeter.model.get_meter_readings import ReadingType as QueryReadingType
from cimmeter.model.identity import ObjectRef
from cimmeter.service.config import ServiceConfig
from cimmeter.service.core import Outgoing
from cimmeter.service.headend import HeadEndOptions, HeadEndService
from tests.service.conftest import T0, Ids

FLEET_START = T0 - timedelta(days=7)
REPLY_TO = "http://127.0.0.1:8080/mdm/replies"
MDM = "MDM-1"

FWD = "0.0.2.4.1.1.12.0.0.0.0.0.0.0.0.3.72.0"
FWD_REG = "0.0.0.1.1.1.12.0.0.0.0.0.0.0.0.3.72.0"
MAX_DEMAND = "8.8.53.12.1.1.8.0.0.0.0.0.0.0.0.3.38.0"
UNKNOWN = "00000000-0000-4000-8000-000000000000"


def quiet_sim(n: int = 12, seed: int = 3) -> Simulation:
    """Nothing random happens and nothing is lost: the tests make what happens."""
    return Simulation(
        FleetOptions(n_meters=n, seed=seed, start=FLEET_START, load_control_share=0.5),
        rates=EventRates.none(),
        realism=Realism.clean(),
        customer_presses_button=False,
    )


def headend(
    sim: Simulation, ids: Ids, options: HeadEndOptions | None = None, **config: Any
) -> HeadEndService:
    settings = ServiceConfig(role="headend", source="HES-1", **config)
    return HeadEndService(settings, SimulatedNetwork(sim), options, new_id=ids)


def meter(sim: Simulation, index: int) -> str:
    mrid = sim.fleet.meter_ref(index).mrid
    assert mrid is not None
    return mrid


def electric(sim: Simulation, *, enrolled: bool | None = None, skip: int = 0) -> int:
    found = [
        m
        for m in range(sim.fleet.n)
        if sim.fleet.kind[m] == 0 and (enrolled is None or bool(sim.fleet.enrolled[m]) == enrolled)
    ]
    return found[skip]


_counter = iter(range(1, 1_000_000))


def request(
    verb: str,
    noun: str,
    *,
    query: CimDocument | None = None,
    document: CimDocument | None = None,
    correlation: str | None = None,
    asynchronous: bool = False,
    reply_to: str | None = REPLY_TO,
    options: Sequence[tuple[str, str]] = (),
    ids: Sequence[str] = (),
    start: datetime | None = None,
    end: datetime | None = None,
) -> bytes:
    """A RequestMessage from the MDM, as XML bytes."""
    n = next(_counter)
    req = None
    if query is not None or options or ids or start or end:
        req = Request(
            query=query,
            options=tuple(Option(name=k, value=v) for k, v in options),
            ids=tuple(ID(value=i) for i in ids),
            start_time=start,
            end_time=end,
        )
    message = RequestMessage(
        header=Header(
            verb=Verb(verb),
            noun=noun,
            timestamp=T0,
            source=MDM,
            async_reply_flag=True if asynchronous else None,
            reply_address=reply_to if asynchronous else None,
            message_id=f"m-{n}",
            correlation_id=correlation or f"c-{n}",
        ),
        request=req,
        payload=Payload(document=document) if document is not None else None,
    )
    return write_xml(message)


def get_readings(
    devices: Sequence[str],
    reading_types: Sequence[str] = (),
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    **kwargs: Any,
) -> bytes:
    query = GetMeterReadings(
        end_device=tuple(EndDevice(mrid=d) for d in devices),
        reading=(Reading(time_period=DateTimeInterval(start=start, end=end)),)
        if start or end
        else (),
        reading_type=tuple(QueryReadingType(mrid=rt) for rt in reading_types),
    )
    return request("get", "MeterReadings", query=query, **kwargs)


def control(
    code: str,
    devices: Sequence[str],
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    duration: float | None = None,
    mrid: str | None = None,
    **kwargs: Any,
) -> EndDeviceControls:
    timing = None
    if start or end or duration:
        timing = EndDeviceTiming(
            duration=duration,
            interval=DateTimeInterval(start=start, end=end) if start or end else None,
        )
    return EndDeviceControls(
        end_device_control=(
            EndDeviceControl.model_validate(
                {
                    "mrid": mrid,
                    "end_device_control_type": {"ref": code},
                    "end_devices": tuple(ControlDevice(mrid=d) for d in devices),
                    "primary_device_timing": timing,
                    **kwargs,
                }
            ),
        )
    )


def parsed(out: Outgoing) -> Message:
    result = read_xml(out.body)
    assert result.message is not None
    return result.message


def to(outgoing: Sequence[Outgoing], destination: str) -> list[Outgoing]:
    return [o for o in outgoing if o.destination == destination]


def ref(mrid: str) -> ObjectRef:
    return ObjectRef(mrid=mrid)
