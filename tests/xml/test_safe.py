from __future__ import annotations

import io
from pathlib import Path

import pytest
from lxml import etree

from cimmeter.xml.errors import XmlSecurityError, XmlSyntaxError
from cimmeter.xml.safe import XmlLimits, iterparse, make_parser, parse_document

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<r>&x;</r>"""

LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<lolz>&lol4;</lolz>"""

NETWORK_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE r SYSTEM "http://127.0.0.1:9/evil.dtd"><r/>"""


def nested(levels: int) -> bytes:
    return b"<a>" * levels + b"x" + b"</a>" * levels


@pytest.mark.parametrize("doc", [XXE, LAUGHS, NETWORK_DTD], ids=["xxe", "laughs", "external-dtd"])
def test_documents_with_a_dtd_are_refused_whole(doc: bytes) -> None:
    with pytest.raises(XmlSecurityError, match="DOCTYPE"):
        parse_document(doc)


@pytest.mark.parametrize("doc", [XXE, LAUGHS, NETWORK_DTD], ids=["xxe", "laughs", "external-dtd"])
def test_documents_with_a_dtd_are_refused_streaming(doc: bytes) -> None:
    with pytest.raises(XmlSecurityError, match="DOCTYPE"):
        list(iterparse(doc))


def test_the_parser_itself_never_resolves_external_entities() -> None:
    # second line of defence: even before our DOCTYPE refusal, nothing was read from disk
    root = etree.fromstring(XXE, make_parser())
    assert "root:" not in "".join(root.itertext())


def test_200_levels_of_nesting_are_refused_with_the_limit_named() -> None:
    with pytest.raises(XmlSecurityError, match="deeper than 64 levels") as err:
        parse_document(nested(200))
    assert err.value.expected == "at most 64 levels"
    with pytest.raises(XmlSecurityError, match="deeper than 64 levels"):
        list(iterparse(nested(200), tag="a"))
    with pytest.raises(XmlSecurityError, match="deeper than 64 levels"):
        list(iterparse(nested(200), tag="nothing-matches"))


def test_nesting_at_the_limit_is_accepted() -> None:
    assert parse_document(nested(64)).getroot().tag == "a"
    assert len(list(iterparse(nested(64)))) == 64
    with pytest.raises(XmlSecurityError):
        parse_document(nested(65))


def test_oversized_documents_are_refused(tmp_path: Path) -> None:
    limits = XmlLimits(max_bytes=1000, max_stream_bytes=5000)
    big = b"<r>" + b"<v>1</v>" * 1000 + b"</r>"
    with pytest.raises(XmlSecurityError, match="larger than 1000 bytes"):
        parse_document(big, limits)
    path = tmp_path / "big.xml"
    path.write_bytes(big)
    with pytest.raises(XmlSecurityError, match="larger than 1000 bytes"):
        parse_document(path, limits)
    with pytest.raises(XmlSecurityError, match="larger than 5000 bytes"):
        list(iterparse(path, tag="v", limits=limits))
    with pytest.raises(XmlSecurityError, match="larger than 5000 bytes"):
        list(iterparse(io.BytesIO(big), tag="v", limits=limits))


def test_not_well_formed_input_gives_the_line() -> None:
    with pytest.raises(XmlSyntaxError) as err:
        parse_document(b"<r>\n<a>\n</b></r>")
    assert err.value.line == 3
    assert "not well-formed XML" in str(err.value)
    with pytest.raises(XmlSyntaxError) as err2:
        list(iterparse(b"<r>\n<a>\n</b></r>"))
    assert err2.value.line == 3


def test_streaming_yields_wanted_elements_with_lines() -> None:
    doc = b"<r>\n<v>1</v>\n<w/>\n<v>2</v>\n</r>"
    got = [(el.text, el.sourceline) for _, el in iterparse(doc, tag="v")]
    assert got == [("1", 2), ("2", 4)]
