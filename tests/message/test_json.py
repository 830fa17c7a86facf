"""The JSON form: shape (digest 6.10), JSON Schema, errors."""

from __future__ import annotations

import json

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings

from cimmeter.message import json as cim_json
from cimmeter.message.envelope import EventMessage, Header, Payload, Reply, ResponseMessage
from cimmeter.model.end_device_controls import EndDeviceControl, EndDeviceControls
from cimmeter.xml.issues import DocumentError
from tests.message.strategies import any_document, any_message

CONTROLS = EndDeviceControls(
    end_device_control=(EndDeviceControl(mrid="c1", end_device_control_type="3.31.0.23"),)
)


def test_shape_mirrors_xml_names_with_arrays_and_kind() -> None:
    message = EventMessage(
        header=Header(verb="created", noun="EndDeviceControls"), payload=Payload(document=CONTROLS)
    )
    data = cim_json.to_json(message)
    assert data == {
        "messageKind": "EventMessage",
        "Header": {"Verb": "created", "Noun": "EndDeviceControls"},
        "Payload": {
            "EndDeviceControls": {
                "EndDeviceControl": [{"mRID": "c1", "EndDeviceControlType": {"ref": "3.31.0.23"}}]
            }
        },
    }
    assert cim_json.from_json(data) == message


def test_input_leniency_kind_guessed_and_at_ref() -> None:
    data = {
        "Header": {"Verb": "reply", "Noun": "EndDeviceControls"},
        "Reply": {"Result": "OK"},
        "Payload": {
            "EndDeviceControls": {
                "EndDeviceControl": [{"EndDeviceControlType": {"@ref": "3.31.0.18"}}]
            }
        },
    }
    message = cim_json.from_json(data)
    assert isinstance(message, ResponseMessage)
    assert message.reply == Reply(result="OK")
    doc = message.document
    assert isinstance(doc, EndDeviceControls)
    control_type = doc.end_device_control[0].end_device_control_type
    assert control_type is not None and control_type.ref == "3.31.0.18"


def test_errors_name_the_path() -> None:
    with pytest.raises(DocumentError) as caught:
        cim_json.from_json({"messageKind": "EventMessage", "Header": {"Noun": "X"}})
    assert caught.value.issues[0].path == "/EventMessage/Header/Verb"
    with pytest.raises(cim_json.JsonInputError, match="unknown document 'Nope'"):
        cim_json.from_json({"Nope": {}})
    with pytest.raises(cim_json.JsonInputError, match="not valid JSON"):
        cim_json.loads("{")


def test_timestamps_need_a_zone_in_json_too() -> None:
    with pytest.raises(DocumentError, match="timezone"):
        cim_json.from_json(
            {
                "messageKind": "EventMessage",
                "Header": {"Verb": "created", "Noun": "X", "Timestamp": "2024-01-01T00:00:00"},
            }
        )


_SCHEMA = cim_json.json_schema()
_VALIDATOR = jsonschema.Draft202012Validator(_SCHEMA)


def test_schema_is_a_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(_SCHEMA)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(any_message(extensions=True))
def test_every_generated_message_matches_the_json_schema(case) -> None:  # type: ignore[no-untyped-def]
    _, message = case
    _VALIDATOR.validate(json.loads(cim_json.dumps(message)))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(any_document())
def test_every_generated_document_matches_the_json_schema(document) -> None:  # type: ignore[no-untyped-def]
    _VALIDATOR.validate(cim_json.to_json(document))


def test_schema_rejects_a_wrong_kind() -> None:
    with pytest.raises(jsonschema.ValidationError):
        _VALIDATOR.validate({"messageKind": "Nope", "Header": {"Verb": "get", "Noun": "X"}})
