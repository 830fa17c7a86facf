"""Structure validation of a MeterReadings stream against an XSD, in-process or in parallel.

The XSD is a parameter (a path to a MeterReadings profile schema; our own under
`cimmeter/xml/xsd/` when it exists). To validate the payload whatever wraps it (61968-100
envelope, typed wrapper, SOAP), a small *driver* schema is made in memory: it declares every
accepted wrapper root with `xs:any processContents="lax"` content and imports the profile
schema, so libxml2 validates the `MeterReadings` element strictly wherever it sits and the
wrappers loosely (the envelope's own rules belong to the message layer).

Two ways to run it, same verdict:
- in-process: the extracting parser validates as it parses (`iterparse(schema=...)`);
- parallel (default on two or more CPUs): a second process validates the same bytes (it reads
  the file itself, or receives the bytes through a pipe as the extractor reads them), and the
  reader raises at the end of the iteration if that process found an error. The blocks yielded
  before are only good if the iteration ends without error: commit after it.

libxml2's streaming validator reports no line for its errors; the line and element path are
found from the partially built tree (the element being validated is its deepest last node).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import IO, Any

from lxml import etree

from cimmeter.xml.errors import XmlInputError, XmlSecurityError, XmlSyntaxError
from cimmeter.xml.namespaces import ACCEPTED_MESSAGE_NAMESPACES, SOAP11_NS, SOAP12_NS
from cimmeter.xml.safe import DEFAULT_LIMITS, XmlLimits, iterparse

XSD_NS = "http://www.w3.org/2001/XMLSchema"
NOUN = "MeterReadings"
_PACKAGED = Path(__file__).resolve().parent / "xsd" / "MeterReadings.xsd"

# typed wrapper elements of the MeterReadings noun (digest 2.1.3, 6.1, 6.9)
_VERBS = (
    "Create",
    "Created",
    "Change",
    "Changed",
    "Cancel",
    "Canceled",
    "Close",
    "Closed",
    "Delete",
    "Deleted",
    "Get",
    "Reply",
    "Execute",
    "Executed",
)
_WRAPPER_ELEMENTS = (
    *(f"{verb}{NOUN}" for verb in _VERBS),
    *(f"{NOUN}{kind}Message" for kind in ("Request", "Response", "Event", "Fault")),
)
_WRAPPER_NAMESPACES = tuple(
    f"http://{www}iec.ch/TC57/{year}/{NOUN}Message"
    for year in ("2011", "2017")
    for www in ("", "www.")
)
_MESSAGE_ELEMENTS = ("RequestMessage", "ResponseMessage", "EventMessage", "Message", "FaultMessage")


class _NoSchema(XmlInputError):
    pass


def default_schema_path() -> Path:
    """Our own MeterReadings XSD, shipped in the package (made from the typed models)."""
    if not _PACKAGED.exists():
        raise _NoSchema(
            f"no MeterReadings XSD at {_PACKAGED} in this build",
            expected="schema=<path to a MeterReadings profile XSD>",
        )
    return _PACKAGED


def _lax_root(name: str) -> str:
    return (
        f'<xs:element name="{name}"><xs:complexType><xs:sequence>'
        '<xs:any namespace="##any" processContents="lax" minOccurs="0" maxOccurs="unbounded"/>'
        '</xs:sequence><xs:anyAttribute namespace="##any" processContents="skip"/>'
        "</xs:complexType></xs:element>"
    )


def _schema_doc(namespace: str, elements: tuple[str, ...], imports: str = "") -> str:
    return (
        f'<xs:schema xmlns:xs="{XSD_NS}" targetNamespace="{namespace}" '
        f'elementFormDefault="qualified">{imports}'
        + "".join(_lax_root(e) for e in elements)
        + "</xs:schema>"
    )


class _Documents(etree.Resolver):
    """Serves the driver's generated schema documents from memory (no file, no network)."""

    def __init__(self, documents: dict[str, str]) -> None:
        super().__init__()
        self.documents = documents

    def resolve(self, system_url: str | None, public_id: str | None, context: Any) -> Any:
        text = self.documents.get(system_url or "")
        return None if text is None else self.resolve_string(text, context)


@cache
def target_namespace(schema_path: Path) -> str:
    root = etree.parse(str(schema_path), etree.XMLParser(no_network=True)).getroot()
    return root.get("targetNamespace") or ""


@cache
def driver_schema(schema_path: Path) -> etree.XMLSchema:
    """The driver: wrappers with lax content, importing the MeterReadings profile XSD."""
    documents: dict[str, str] = {}
    groups = [
        (SOAP11_NS, ("Envelope",)),
        (SOAP12_NS, ("Envelope",)),
        *((ns, _MESSAGE_ELEMENTS) for ns in ACCEPTED_MESSAGE_NAMESPACES),
        *((ns, _WRAPPER_ELEMENTS) for ns in _WRAPPER_NAMESPACES),
    ]
    for i, (namespace, elements) in enumerate(groups):
        documents[f"cimmeter-driver-{i}.xsd"] = _schema_doc(namespace, elements)
    imports = "".join(
        f'<xs:import namespace="{ns}" schemaLocation="cimmeter-driver-{i}.xsd"/>'
        for i, (ns, _) in enumerate(groups)
    )
    profile_ns = target_namespace(schema_path)
    imports += f'<xs:import namespace="{profile_ns}" schemaLocation="{schema_path.as_uri()}"/>'
    driver = f'<xs:schema xmlns:xs="{XSD_NS}" targetNamespace="urn:cimmeter:driver">{imports}'
    driver += "</xs:schema>"
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    parser.resolvers.add(_Documents(documents))
    doc = etree.parse(io.BytesIO(driver.encode()), parser, base_url="cimmeter-driver.xsd")
    return etree.XMLSchema(doc)


# -- locating and reporting errors ---------------------------------------------------------


def locate(root: Any, message: str) -> tuple[int | None, str | None]:
    """Line and path of the element a streaming validation error is about.

    The element being validated is the deepest last node of the partial tree; when the
    message names another element (e.g. a parent missing a child), go up to it."""
    if root is None:
        return None, None
    node = root
    while len(node):
        last = node[len(node) - 1]
        if not isinstance(last.tag, str):
            break
        node = last
    named = message.split("'", 2)[1] if message.startswith("Element '") else None
    if named:
        probe = node
        while probe is not None and probe.tag != named:
            probe = probe.getparent()
        if probe is not None:
            node = probe
    return node.sourceline, _path_of(node)


def _path_of(node: Any) -> str:
    parts = []
    while node is not None:
        local = etree.QName(node).localname
        parent = node.getparent()
        if parent is not None and parent.getparent() is not None:
            # position among same-named siblings (earlier ones may have been freed already)
            same = parent.findall(node.tag)
            parts.append(f"{local}[{same.index(node) + 1}]" if len(same) > 1 else local)
        else:
            parts.append(local)
        node = parent
    return "/" + "/".join(reversed(parts))


def schema_error_behind(exc: BaseException) -> str | None:
    """The libxml2 validation message behind a safe-parser syntax error, if it is one.

    `safe.iterparse` reports every libxml2 error as not well-formed; the original error
    (kept as the exception's context) tells a schema violation (domain SCHEMASV) apart."""
    original = exc.__context__
    if isinstance(original, etree.XMLSyntaxError):
        entries = [e for e in original.error_log if e.domain_name == "SCHEMASV"]
        if entries:
            return entries[-1].message
        message = original.msg or ""
        if message.startswith("Element '") or "No matching global" in message:
            return message
    return None


def schema_error(message: str, root: Any) -> XmlInputError:
    from cimmeter.xml.stream import StreamValidationError

    line, path = locate(root, message)
    text = message.strip()
    expected = None
    if "Expected is" in text:
        text, _, expected = text.partition("Expected is")
        expected = expected.strip(" .")
        text = text.strip(" .")
    return StreamValidationError(text, line=line, path=path, expected=expected)


# -- the plan: how a validating read runs ------------------------------------------------------


class _Tee(io.RawIOBase):
    """Hands what the extractor reads to the validator process as well."""

    def __init__(self, inner: IO[bytes], sink: IO[bytes]) -> None:
        super().__init__()
        self._inner = inner
        self._sink = sink

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._inner.read(len(buffer))
        if data:
            # a validator that stopped early has its verdict ready; finish() reports it
            with contextlib.suppress(BrokenPipeError):
                self._sink.write(data)
        else:
            self._sink.close()
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self._sink.closed:
            with contextlib.suppress(BrokenPipeError):
                self._sink.close()
        super().close()


@dataclass
class ValidationPlan:
    source: Any
    inline_schema: etree.XMLSchema | None
    schema_path: Path
    profile_namespace: str
    process: subprocess.Popen[bytes] | None = None
    opened: list[IO[bytes]] = field(default_factory=list)

    def close(self) -> None:
        """Stop the validator when the reader stops early (error or abandoned iteration)."""
        for f in self.opened:
            f.close()
        if self.process is not None and self.process.returncode is None:
            if self.process.poll() is None:
                self.process.kill()
            self.process.wait()

    def finish(self) -> None:
        """Wait for the parallel validator; raise its error if it found one."""
        if self.process is None:
            return
        for f in self.opened:
            f.close()  # closes the validator's stdin: the end of the document
        assert self.process.stdout is not None
        out = self.process.stdout.read()
        self.process.stdout.close()
        self.process.wait()
        self.process = None
        verdict = json.loads(out.decode() or "{}")
        if verdict.get("ok"):
            return
        raise _verdict_error(verdict)


def _verdict_error(verdict: dict[str, Any]) -> XmlInputError:
    from cimmeter.xml.stream import StreamValidationError

    kinds: dict[str, type[XmlInputError]] = {
        "schema": StreamValidationError,
        "syntax": XmlSyntaxError,
        "security": XmlSecurityError,
    }
    cls = kinds.get(verdict.get("kind", ""), XmlInputError)
    return cls(
        verdict.get("reason", "the validator process failed"),
        line=verdict.get("line"),
        path=verdict.get("path"),
        expected=verdict.get("expected"),
    )


def plan(
    source: Any,
    schema: str | Path | None,
    parallel: bool | None,
    limits: XmlLimits = DEFAULT_LIMITS,
) -> ValidationPlan:
    schema_path = Path(schema).resolve() if schema is not None else default_schema_path()
    profile_ns = target_namespace(schema_path)
    if parallel is None:
        parallel = (os.cpu_count() or 1) >= 2
    if not parallel:
        return ValidationPlan(source, driver_schema(schema_path), schema_path, profile_ns)
    is_path = isinstance(source, str | Path)
    command = [
        sys.executable,
        "-m",
        "cimmeter.xml.stream_validate",
        str(schema_path),
        str(Path(source).resolve()) if is_path else "-",
        str(limits.max_stream_bytes),
        str(limits.max_depth),
    ]
    process = subprocess.Popen(
        command,
        stdin=None if is_path else subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    result = ValidationPlan(source, None, schema_path, profile_ns, process)
    if not is_path:
        assert process.stdin is not None
        inner: IO[bytes] = io.BytesIO(source) if isinstance(source, bytes) else source
        result.source = io.BufferedReader(_Tee(inner, process.stdin), 1 << 16)
        result.opened.append(result.source)
    return result


# -- the validator process ------------------------------------------------------------------------


def validate_stream(
    source: Any, schema_path: Path, limits: XmlLimits = DEFAULT_LIMITS
) -> dict[str, Any]:
    """Validate a whole document, streaming; the verdict as a small JSON-able dict."""
    schema = driver_schema(schema_path)
    root: Any = None
    try:
        for event, el in iterparse(
            source,
            events=("start", "end"),
            tag=("{*}MeterReadings", "{*}MeterReading"),
            limits=limits,
            schema=schema,
        ):
            if root is None:
                root = el.getroottree().getroot()
            if event == "end" and etree.QName(el).localname == "MeterReading":
                el.clear(keep_tail=False)
                previous = el.getprevious()
                while previous is not None and previous.tag == el.tag:
                    el.getparent().remove(previous)
                    previous = el.getprevious()
    except XmlSyntaxError as exc:
        behind = schema_error_behind(exc)
        if behind is not None:
            error = schema_error(behind, root)
            return {
                "ok": False,
                "kind": "schema",
                "reason": error.reason,
                "line": error.line,
                "path": error.path,
                "expected": error.expected,
            }
        return {"ok": False, "kind": "syntax", "reason": exc.reason, "line": exc.line}
    except XmlSecurityError as exc:
        return {
            "ok": False,
            "kind": "security",
            "reason": exc.reason,
            "line": exc.line,
            "expected": exc.expected,
        }
    return {"ok": True}


def main(argv: list[str]) -> int:
    schema, target, max_bytes, max_depth = argv
    limits = XmlLimits(max_stream_bytes=int(max_bytes), max_depth=int(max_depth))
    source: Any = sys.stdin.buffer if target == "-" else target
    verdict = validate_stream(source, Path(schema), limits)
    if target == "-":
        # drain what the extractor still sends, so that it never blocks on a full pipe
        while sys.stdin.buffer.read(1 << 16):
            pass
    sys.stdout.write(json.dumps(verdict))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
