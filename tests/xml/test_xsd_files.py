"""Our XSD files are generated from the models and never drift from them."""

from __future__ import annotations

from lxml import etree

from cimmeter.message.schemas import differences, generate
from cimmeter.xml.validation import XSD_DIR, schema_set


def test_committed_schema_files_equal_the_generator_output() -> None:
    assert differences() == [], "run: python -m cimmeter.message.schemas --write"


def test_every_schema_compiles_and_declares_2011_namespaces() -> None:
    assert schema_set() is not None
    files = generate()
    assert "Message.xsd" in files and "MeterReadSchedule.xsd" in files
    for name in files:
        root = etree.parse(str(XSD_DIR / name)).getroot()
        target = root.get("targetNamespace") or ""
        assert target.startswith("http://iec.ch/TC57/2011/"), name
        assert root.get("elementFormDefault") == "qualified"
