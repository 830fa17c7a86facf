"""Validate Green Button (ESPI Atom) documents against the ESPI 4.0 schema, offline.

The ESPI schema imports Atom, which imports the W3C `xml.xsd` by URL; a resolver hands lxml
our local declaration of the xml: attributes instead, and the parser never touches the network
(docs/greenbutton.md). The schemas ship in `xsd/` with their notices (NOTICE.txt).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import IO, Any

from lxml import etree

XSD_DIR = Path(__file__).resolve().parent / "xsd"
_XML_XSD_URLS = (
    "https://www.w3.org/2001/03/xml.xsd",
    "http://www.w3.org/2001/03/xml.xsd",
    "http://www.w3.org/2001/xml.xsd",
)


class _LocalXml(etree.Resolver):
    def resolve(self, system_url: str | None, public_id: str | None, context: Any) -> Any:
        if system_url is None:
            return None
        if system_url in _XML_XSD_URLS or system_url.endswith("/xml.xsd"):
            return self.resolve_filename(str(XSD_DIR / "xml.xsd"), context)
        return None


@cache
def espi_schema() -> etree.XMLSchema:
    """The compiled ESPI schema (with Atom), built once."""
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    parser.resolvers.add(_LocalXml())
    doc = etree.parse(str(XSD_DIR / "espi-4.0.xsd"), parser)
    return etree.XMLSchema(doc)


class FeedInvalid(ValueError):
    """A document that does not validate: the first errors with their lines."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__(
            "; ".join(errors[:5]) + (f" (+{len(errors) - 5} more)" if len(errors) > 5 else "")
        )
        self.errors = errors


def validation_errors(source: str | Path | IO[bytes] | bytes) -> list[str]:
    """`line N: message` for every schema violation (empty when valid)."""
    parser = etree.XMLParser(
        no_network=True, resolve_entities=False, huge_tree=True, remove_blank_text=False
    )
    if isinstance(source, bytes):
        doc = etree.fromstring(source, parser).getroottree()
    else:
        doc = etree.parse(source if not isinstance(source, Path) else str(source), parser)
    schema = espi_schema()
    if schema.validate(doc):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]


def validate_feed(source: str | Path | IO[bytes] | bytes) -> None:
    """Raise `FeedInvalid` unless the document validates against ESPI + Atom."""
    errors = validation_errors(source)
    if errors:
        raise FeedInvalid(errors)


__all__ = ["FeedInvalid", "espi_schema", "validate_feed", "validation_errors"]
