"""Safe XML parsing: hostile input is refused by construction (DESIGN.md rule 8).

- No DTDs at all: a document with a DOCTYPE is refused, so no entity can be declared, expanded
  (billion laughs) or fetched (XXE). The parser is also configured never to load a DTD, resolve
  entities or touch the network, as a second line of defence.
- Bounded depth (CIM messages are ~15 levels deep even in SOAP; the default allows 64) and
  bounded size (a whole-document parse refuses more than `max_bytes`; streams count as they read).
- Errors say what was refused and where (`XmlSecurityError`, `XmlSyntaxError` with line).

Every XML read in cimmeter goes through `parse_document` or `iterparse`.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from lxml import etree

from cimmeter.xml.errors import XmlSecurityError, XmlSyntaxError


@dataclass(frozen=True, slots=True)
class XmlLimits:
    """Limits applied to every XML input; configurable per server or command."""

    max_bytes: int = 128 * 1024 * 1024
    """Largest document parsed whole (bigger MeterReadings go through the streaming reader)."""
    max_stream_bytes: int = 64 * 1024 * 1024 * 1024
    """Largest document read by streaming."""
    max_depth: int = 64
    """Deepest element nesting accepted (the root element is at depth 1)."""


DEFAULT_LIMITS = XmlLimits()


def make_parser(schema: etree.XMLSchema | None = None) -> etree.XMLParser:
    """An lxml parser with the safe options, optionally validating against `schema`."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        schema=schema,
    )


def parse_document(
    source: bytes | str | Path | IO[bytes], limits: XmlLimits = DEFAULT_LIMITS
) -> etree._ElementTree:
    """Parse a whole document safely. `str` is a file path, `bytes` the document itself."""
    data = _read_bounded(source, limits.max_bytes)
    try:
        root = etree.fromstring(data, make_parser())
    except etree.XMLSyntaxError as exc:
        raise _syntax_error(exc) from None
    tree = root.getroottree()
    _refuse_doctype(tree)
    _check_depth(root, limits.max_depth, base_depth=1)
    return tree


def iterparse(
    source: bytes | str | Path | IO[bytes],
    *,
    events: tuple[str, ...] = ("end",),
    tag: str | tuple[str, ...] | None = None,
    limits: XmlLimits = DEFAULT_LIMITS,
    schema: etree.XMLSchema | None = None,
    remove_comments: bool = False,
    remove_pis: bool = False,
) -> Iterator[tuple[str, Any]]:
    """Stream `(event, element)` pairs like `lxml.etree.iterparse`, safely and fast.

    Filtering by `tag` happens in C (no Python work per skipped element). The DOCTYPE check runs
    at the first event; the byte count is enforced as data is read; the depth of each yielded
    element's subtree is checked on its `end` event, and what is left of the whole tree at the
    end of the document (callers clear the elements they are done with, to keep memory
    constant). libxml2's own nesting cap (256 without XML_PARSE_HUGE) bounds the stack meanwhile.
    """
    stream = _open_stream(source, limits.max_stream_bytes)
    context = etree.iterparse(
        stream,
        events=events,  # type: ignore[arg-type]
        tag=tag,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        schema=schema,
        remove_comments=remove_comments,  # dropped comments/PIs leave each text in one node
        remove_pis=remove_pis,
    )
    checked_doctype = False
    root: Any = None
    try:
        for event, element in context:
            if not checked_doctype:
                tree = element.getroottree()
                _refuse_doctype(tree)
                root = tree.getroot()
                checked_doctype = True
            if event == "end":
                depth = sum(1 for _ in element.iterancestors()) + 1
                _check_depth(element, limits.max_depth, base_depth=depth)
            yield event, element
        if root is None:
            root = context.root
            if root is not None:
                _refuse_doctype(root.getroottree())
        if root is not None:
            _check_depth(root, limits.max_depth, base_depth=1)
    except etree.XMLSyntaxError as exc:
        raise _syntax_error(exc) from None
    except _TooBig as exc:
        raise XmlSecurityError(
            f"document larger than {exc.limit} bytes",
            expected=f"at most {exc.limit} bytes (raise the limit for bigger documents)",
        ) from None
    finally:
        stream.close()


# -- internals ---------------------------------------------------------------------------------


class _TooBig(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.limit = limit


class _BoundedReader(io.RawIOBase):
    """Counts bytes as the parser reads them and stops past the limit."""

    def __init__(self, inner: IO[bytes], limit: int, *, owned: bool = False) -> None:
        super().__init__()
        self._inner = inner
        self._limit = limit
        self._count = 0
        self._owned = owned

    def close(self) -> None:
        if self._owned and not self._inner.closed:
            self._inner.close()
        super().close()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self._inner.read(size if size is not None and size >= 0 else 1 << 16)
        self._count += len(data)
        if self._count > self._limit:
            raise _TooBig(self._limit)
        return data


def _open_stream(source: bytes | str | Path | IO[bytes], limit: int) -> io.RawIOBase | io.BytesIO:
    if isinstance(source, bytes):
        if len(source) > limit:
            raise XmlSecurityError(
                f"document of {len(source)} bytes is larger than {limit} bytes",
                expected=f"at most {limit} bytes",
            )
        return io.BytesIO(source)
    if isinstance(source, str | Path):
        return _BoundedReader(open(source, "rb"), limit, owned=True)
    return _BoundedReader(source, limit)


def _read_bounded(source: bytes | str | Path | IO[bytes], limit: int) -> bytes:
    if isinstance(source, bytes):
        data = source
    elif isinstance(source, str | Path):
        size = Path(source).stat().st_size
        if size > limit:
            raise XmlSecurityError(
                f"document of {size} bytes is larger than {limit} bytes",
                expected=f"at most {limit} bytes (use the streaming reader for big documents)",
            )
        data = Path(source).read_bytes()
    else:
        data = source.read(limit + 1)
    if len(data) > limit:
        raise XmlSecurityError(
            f"document larger than {limit} bytes",
            expected=f"at most {limit} bytes (use the streaming reader for big documents)",
        )
    return data


def _refuse_doctype(tree: etree._ElementTree) -> None:
    info = tree.docinfo
    if info.doctype or info.internalDTD is not None or info.externalDTD is not None:
        raise XmlSecurityError(
            "a DOCTYPE (DTD) is not allowed: it can declare entities (XXE, entity expansion)",
            line=1,
            expected="a document without <!DOCTYPE>",
        )


def _depth_probe(levels: int) -> etree.XPath:
    return etree.XPath("boolean(" + "/".join(["*"] * levels) + ")")


_PROBES: dict[int, etree.XPath] = {}


def _check_depth(element: etree._Element, max_depth: int, *, base_depth: int) -> None:
    """Refuse a subtree that reaches deeper than `max_depth` (the element is at `base_depth`).

    Evaluated in C by an XPath probe `boolean(*/*/.../*)` with one step per level allowed."""
    levels = max_depth - base_depth + 1
    if levels <= 0:
        raise XmlSecurityError(f"element nesting deeper than {max_depth} levels")
    probe = _PROBES.get(levels)
    if probe is None:
        probe = _PROBES[levels] = _depth_probe(levels)
    if probe(element):
        deepest = element
        for _ in range(levels):
            deepest = next(iter(deepest.iterchildren("*")), deepest)
        raise XmlSecurityError(
            f"element nesting deeper than {max_depth} levels",
            line=deepest.sourceline,
            expected=f"at most {max_depth} levels",
        )


def _syntax_error(exc: etree.XMLSyntaxError) -> XmlSyntaxError:
    line, column = exc.position if exc.position else (exc.lineno, None)
    message = (exc.msg or str(exc)).strip()
    return XmlSyntaxError(f"not well-formed XML: {message}", line=line, column=column)
