"""The hand-written samples of tests/data: valid, and unchanged through XML -> JSON -> XML."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from cimmeter.message import json as cim_json
from cimmeter.message.envelope import read_xml, write_xml
from cimmeter.message.registry import REGISTRY
from cimmeter.message.validate import check
from tests.conftest import DATA

# flat samples (`create-EndDeviceControls.soap11.xml`) and per-noun folders
# (`MeterConfig/create.xml`);
# `invalid/`, `lenient/` and `connexo/` (vendor forms) have their own tests
SAMPLES = sorted(
    p
    for p in DATA.rglob("*.*")
    if p.suffix in (".xml", ".json")
    and not {"invalid", "lenient", "connexo"} & set(p.relative_to(DATA).parts)
)


def test_every_noun_has_samples() -> None:
    names = " ".join(str(p.relative_to(DATA)) for p in SAMPLES)
    for entry in REGISTRY:
        assert entry.noun in names, f"no sample for {entry.noun} in tests/data"


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: str(p.relative_to(DATA)))
def test_sample_is_valid_without_findings(path: Path) -> None:
    if path.suffix == ".json":
        obj = cim_json.loads(path.read_bytes())
        assert check(obj) == []
        assert read_xml(write_xml(obj), strict=True).root == obj
        return
    result = read_xml(path, strict=True)
    assert result.issues == []
    assert check(result.root, result.source_map) == []


@pytest.mark.parametrize(
    "path", [p for p in SAMPLES if p.suffix == ".xml"], ids=lambda p: str(p.relative_to(DATA))
)
def test_sample_survives_json_and_back(path: Path) -> None:
    result = read_xml(path)
    again = cim_json.loads(cim_json.dumps(result.root))
    assert again == result.root
    form = "typed" if result.form == "typed" else "generic"
    rewritten = write_xml(again, form=form, soap_version=result.soap, noun="EndDeviceControls")
    original = _message_element(etree.parse(str(path)).getroot())
    written = _message_element(etree.fromstring(rewritten))
    assert etree.canonicalize(original, strip_text=True, rewrite_prefixes=True) == (
        etree.canonicalize(written, strip_text=True, rewrite_prefixes=True)
    )


def _message_element(root: etree._Element) -> etree._Element:
    """The 61968-100 element, inside a SOAP Body (and Fault detail) when there is one."""
    if root.tag.endswith("}Envelope"):
        root = next(iter(root.iter("{*}Body")))[0]
    if root.tag.endswith("}Fault"):
        root = next(iter(root.iter("detail")))[0]
    return root
