"""Business rules: required elements, code syntax, time ranges, references (with path/line)."""

from __future__ import annotations

from datetime import UTC, datetime

from cimmeter.message.envelope import (
    Header,
    Reply,
    Request,
    RequestMessage,
    ResponseMessage,
    read_xml,
)
from cimmeter.message.validate import check, check_code
from cimmeter.model.common import DateTimeInterval
from cimmeter.model.end_device_controls import EndDeviceControl, EndDeviceControls
from cimmeter.model.end_device_events import EndDeviceEvent, EndDeviceEvents
from cimmeter.model.meter_readings import Meter, MeterReading, MeterReadings, Reading
from tests.conftest import DATA

T0 = datetime(2024, 3, 1, tzinfo=UTC)
T1 = datetime(2024, 3, 2, tzinfo=UTC)


def test_code_syntax_per_system() -> None:
    assert check_code("ReadingType", "0.0.0.1.1.1.12.0.0.0.0.0.0.0.0.-3.72.0") is None
    assert check_code("ReadingType", "0.0.0.1.1.1.12.0.0.0.0.0.0.0.0.3.72.-1") is not None
    assert check_code("ReadingType", "0.0.0.1.1.1.12.0.0.0.0.0.0.0.0.3.70000.0") is not None
    assert check_code("EndDeviceEventType", "3.26.0.85") is None
    assert check_code("EndDeviceControlType", "3.31.0") is not None
    assert check_code("ReadingQualityType", "3.8.0") is None
    assert check_code("ReadingQualityType", "3. 8.0") is not None


def test_sample_with_broken_codes_and_times_names_each_place() -> None:
    result = read_xml(DATA / "invalid" / "bad-codes-and-times.xml", collect=True)
    findings = result.issues + check(result.root, result.source_map)
    errors = sorted((i.line, i.path) for i in findings if i.severity == "error")
    assert errors == [
        (
            9,
            "/MeterReadings/MeterReading[1]/IntervalBlocks[1]/IntervalReadings[1]/ReadingQualities[1]/ReadingQualityType/@ref",
        ),
        (12, "/MeterReadings/MeterReading[1]/IntervalBlocks[1]/ReadingType/@ref"),
        (15, "/MeterReadings/MeterReading[1]/Readings[1]/timeStamp"),
        (20, "/MeterReadings/MeterReading[1]/valuesInterval"),
    ]


def test_missing_required_elements_and_empty_refs() -> None:
    events = EndDeviceEvents(end_device_event=(EndDeviceEvent(end_device_event_type=""),))
    messages = [(i.path, i.message) for i in check(events)]
    assert messages == [
        ("/EndDeviceEvents/EndDeviceEvent[1]", "missing required element createdDateTime"),
        ("/EndDeviceEvents/EndDeviceEvent[1]/EndDeviceEventType", "empty reference"),
    ]


def test_receiver_warnings() -> None:
    docs = MeterReadings(
        meter_reading=(
            MeterReading(
                readings=(Reading(value="ON", reading_type="0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0"),)
            ),
        )
    )
    assert [i.severity for i in check(docs)] == ["warning", "warning"]
    control = EndDeviceControls(
        end_device_control=(EndDeviceControl(end_device_control_type="3.31.0.23"),)
    )
    assert [i.message for i in check(control)] == ["EndDeviceControl has no target"]
    failed = ResponseMessage(header=Header(verb="reply", noun="X"), reply=Reply(result="FAILED"))
    assert [i.message for i in check(failed)] == ["Result FAILED without any Error"]


def test_time_ranges_must_end_after_they_start() -> None:
    get = RequestMessage(
        header=Header(verb="get", noun="MeterReadings"), request=Request(start_time=T1, end_time=T0)
    )
    messages = [i.message for i in check(get)]
    assert "EndTime is not after StartTime" in messages
    assert "get MeterReadings without a GetMeterReadings query" in messages
    ok = MeterReadings(
        meter_reading=(
            MeterReading(meter=Meter(mrid="m"), values_interval=DateTimeInterval(start=T0, end=T1)),
        )
    )
    assert check(ok) == []
