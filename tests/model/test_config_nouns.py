"""The device and usage-point configuration nouns as messages (digest 3.6-3.8, 2.3).

MeterConfig (+ GetMeterConfig), EndDeviceConfig, ComModuleConfig, UsagePointConfig
(+ GetUsagePointConfig, M) and MasterDataLinkageConfig: what the registry says about them, a
hand-written sample of every message type (tests/data/<verb>-<Noun>.xml), and hypothesis round
trips of every message type through the framework's generic strategies, noun by noun.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from cimmeter.message import json as cim_json
from cimmeter.message.envelope import (
    EventMessage,
    Message,
    RequestMessage,
    ResponseMessage,
    read_xml,
    write_xml,
)
from cimmeter.message.registry import REGISTRY
from cimmeter.message.verbs import VERBS, Verb, VerbKind
from cimmeter.model.com_module_config import ComModuleConfig
from cimmeter.model.end_device_config import EndDeviceConfig
from cimmeter.model.get_meter_config import GetMeterConfig
from cimmeter.model.get_usage_point_config import GetUsagePointConfig
from cimmeter.model.master_data_linkage_config import MasterDataLinkageConfig
from cimmeter.model.meter_config import MeterConfig
from cimmeter.model.usage_point_config import UsagePointConfig
from cimmeter.xml import soap
from tests.conftest import DATA
from tests.message.strategies import messages_of

# noun -> (payload, query, gettable): digest 2.3 (verbs per noun), 3.6-3.8.
NOUNS = {
    "MeterConfig": (MeterConfig, GetMeterConfig, True),
    "EndDeviceConfig": (EndDeviceConfig, None, True),
    "ComModuleConfig": (ComModuleConfig, None, True),
    "UsagePointConfig": (UsagePointConfig, GetUsagePointConfig, True),
    "MasterDataLinkageConfig": (MasterDataLinkageConfig, None, False),
}
SAMPLES = {noun: sorted(DATA.glob(f"*-{noun}.*xml")) for noun in NOUNS}
"""Our hand-written samples: `<verb>-<Noun>[.soap11|.soap12].xml` (Connexo forms: connexo/)."""
PROPERTIES = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("noun", NOUNS)
def test_registry_knows_the_noun_its_query_and_namespaces(noun: str) -> None:
    payload, query, gettable = NOUNS[noun]
    entry = REGISTRY.noun(noun)
    assert (entry.payload, entry.query, entry.gettable) == (payload, query, gettable)
    assert entry.namespace == f"http://iec.ch/TC57/2011/{noun}#"
    assert entry.wrapper_namespace == f"http://iec.ch/TC57/2011/{noun}Message"
    if query is not None:
        assert entry.query_namespace == f"http://iec.ch/TC57/2011/Get{noun}#"
        assert REGISTRY.is_query(query) and not REGISTRY.is_query(payload)


def _kind(message: Message) -> str:
    """request / event / response / get: the message types a noun's samples must cover."""
    if isinstance(message, RequestMessage):
        return "get" if message.header.verb == Verb.get else "request"
    if isinstance(message, EventMessage):
        return "event"
    assert isinstance(message, ResponseMessage)
    return "response"


@pytest.mark.parametrize("noun", NOUNS)
def test_every_message_type_of_the_noun_has_a_sample(noun: str) -> None:
    kinds = set()
    for path in SAMPLES[noun]:
        message = read_xml(path).message
        assert message is not None
        kinds.add(_kind(message))
    expected = {"request", "event", "response"} | ({"get"} if NOUNS[noun][2] else set())
    assert kinds == expected


@pytest.mark.parametrize(
    ("noun", "sample"),
    [(noun, path) for noun, paths in SAMPLES.items() for path in paths],
    ids=lambda v: v.name if isinstance(v, Path) else "",
)
def test_sample_is_valid_and_round_trips(noun: str, sample: Path) -> None:
    first = read_xml(sample, strict=True)
    assert first.issues == []  # valid against our XSD, and nothing unknown or out of order
    message = first.message
    assert message is not None
    assert message.header.noun == noun  # type: ignore[attr-defined]
    document = message.document or getattr(message, "query", None)
    if document is not None:
        assert REGISTRY.entry_of(document).noun == noun
    if _kind(message) == "get" and NOUNS[noun][1] is not None:
        assert isinstance(message.query, NOUNS[noun][1])  # type: ignore[attr-defined]
    if _kind(message) in ("request", "event"):
        assert VERBS[message.header.verb].kind == (  # type: ignore[attr-defined]
            VerbKind.request if _kind(message) == "request" else VerbKind.event
        )
    # Written again in the form it came in (generic/typed, SOAP or not): the same message.
    root = soap.unwrap(etree.parse(str(sample)).getroot()).element
    get_ns = etree.QName(root).namespace == REGISTRY.noun(noun).get_wrapper_namespace
    again = read_xml(
        write_xml(
            message,
            form=first.form,  # type: ignore[arg-type]
            soap_version=first.soap,
            get_namespace=get_ns,
        ),
        strict=True,
    )
    assert again.issues == [] and again.message == message
    assert (again.form, again.soap, again.wrapper) == (first.form, first.soap, first.wrapper)
    assert cim_json.loads(cim_json.dumps(message)) == message


def _c14n(data: bytes) -> str:
    return etree.canonicalize(data.decode("utf-8").split("?>", 1)[1])


@pytest.mark.parametrize("noun", NOUNS)
def test_every_message_type_round_trips(noun: str) -> None:
    """object -> XML -> object in every form, XML -> JSON -> XML with the same infoset, and
    (for messages without vendor extensions) valid against our XSD. One generated message
    serves the three properties: generation is the costly part."""
    entry = REGISTRY.noun(noun)
    cases = st.booleans().flatmap(lambda ext: messages_of(entry, ext).map(lambda m: (ext, m)))

    @PROPERTIES
    @given(cases, st.sampled_from(["generic", "typed"]), st.sampled_from([None, "1.1", "1.2"]))
    def check(case: tuple[bool, Message], form: str, soap: str | None) -> None:
        extensions, message = case
        data = write_xml(message, form=form, soap_version=soap, noun=noun)  # type: ignore[arg-type]
        result = read_xml(data, strict=not extensions, collect=True)
        assert result.errors == []
        assert result.message == message
        xml = write_xml(message, pretty=False)
        again = cim_json.loads(cim_json.dumps(read_xml(xml).root))
        assert _c14n(write_xml(again, pretty=False)) == _c14n(xml)

    check()
