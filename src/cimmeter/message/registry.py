"""The noun registry: Noun -> profile, namespaces, payload model, Get query model, wrappers.

Everything the envelope, the codecs, the XSD generator and the JSON form need to know about a
noun is derived from one `NounEntry` line in `REGISTRY` below.

How to add a noun (e.g. MeterConfig):

1. Write `src/cimmeter/model/meter_config.py`: the profile's classes as `CimModel`s, fields in
   XSD sequence order with the CIM element names as aliases (see `cimmeter.model.base`), reusing
   `cimmeter.model.common` for Name, Status, DateTimeInterval, ref elements ...; the root class
   subclasses `CimDocument` with `profile: ClassVar[str] = "MeterConfig"`. Mark unverified
   structures with `# digest X.Y (M)`. Do the same for the Get query profile if there is one
   (`get_meter_config.py`, root `GetMeterConfig`).
2. Add one line here: `NounEntry("MeterConfig", MeterConfig, query=GetMeterConfig)`.
   Use `has_get=True` for a noun that can be read with `get` but has no query profile,
   `aliases=(...)` for other spellings to accept on input.
3. Regenerate the schemas: `python -m cimmeter.message.schemas --write` (writes
   `src/cimmeter/xml/xsd/<Profile>.xsd` and the wrapper schemas; a test fails while the
   committed files differ from the generator's output).
4. Add hand-written samples to `tests/data/` (file names containing the noun, e.g.
   `create-MeterConfig.xml`; a test fails for a registered noun without one). The hypothesis
   strategies (`tests/message/strategies.py`) are derived from the registry and the model
   declarations, so the round-trip and schema properties cover the new noun by themselves.

Nothing else changes: reading, writing (generic, typed, SOAP), JSON, JSON Schema, XSD
validation and `cimmeter validate`/`convert` are all driven by the registry.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from cimmeter.model.base import CimDocument
from cimmeter.model.com_module_config import ComModuleConfig
from cimmeter.model.customer_account_config import CustomerAccountConfig
from cimmeter.model.customer_agreement_config import CustomerAgreementConfig
from cimmeter.model.customer_config import CustomerConfig
from cimmeter.model.end_device_config import EndDeviceConfig
from cimmeter.model.end_device_controls import EndDeviceControls
from cimmeter.model.end_device_events import EndDeviceEvents
from cimmeter.model.end_device_groups import EndDeviceGroups
from cimmeter.model.get_end_device_events import GetEndDeviceEvents
from cimmeter.model.get_meter_config import GetMeterConfig
from cimmeter.model.get_meter_readings import GetMeterReadings
from cimmeter.model.get_usage_point_config import GetUsagePointConfig
from cimmeter.model.master_data_linkage_config import MasterDataLinkageConfig
from cimmeter.model.meter_config import MeterConfig
from cimmeter.model.meter_read_schedule import MeterReadSchedule
from cimmeter.model.meter_readings import MeterReadings
from cimmeter.model.meter_service_requests import MeterServiceRequests
from cimmeter.model.pricing_structure_config import PricingStructureConfig
from cimmeter.model.service_category_config import ServiceCategoryConfig
from cimmeter.model.service_location_config import ServiceLocationConfig
from cimmeter.model.service_supplier_config import ServiceSupplierConfig
from cimmeter.model.usage_point_config import UsagePointConfig
from cimmeter.model.usage_point_groups import UsagePointGroups
from cimmeter.model.usage_point_location_config import UsagePointLocationConfig
from cimmeter.xml.namespaces import profile_ns, profile_of, wrapper_ns


@dataclass(frozen=True, slots=True)
class NounEntry:
    """One noun of 61968-9 as messages carry it (digest 2.1, 2.3)."""

    noun: str
    """The Header Noun and the typed wrapper suffix (`MeterReadings`)."""
    payload: type[CimDocument]
    """The data profile in Payload (its root element name is `payload.profile`)."""
    query: type[CimDocument] | None = None
    """The Get query profile carried in Request (digest fact 1), if the noun has one."""
    has_get: bool | None = None
    """Whether `get <Noun>` exists; default: when there is a query profile."""
    aliases: tuple[str, ...] = ()
    """Other names accepted on input for the noun and its profile (`MeterReadSchedules`)."""

    @property
    def profile(self) -> str:
        return self.payload.profile

    @property
    def namespace(self) -> str:
        return profile_ns(self.profile)

    @property
    def query_namespace(self) -> str | None:
        return profile_ns(self.query.profile) if self.query else None

    @property
    def wrapper_namespace(self) -> str:
        return wrapper_ns(self.noun)

    @property
    def get_wrapper_namespace(self) -> str:
        return wrapper_ns(self.noun, get=True)

    @property
    def gettable(self) -> bool:
        return self.has_get if self.has_get is not None else self.query is not None

    def names(self) -> tuple[str, ...]:
        return (self.noun, *self.aliases)


class UnknownNounError(KeyError):
    """A noun the registry does not hold."""


class Registry:
    """Looks nouns and documents up by name, namespace and class."""

    def __init__(self, entries: tuple[NounEntry, ...]) -> None:
        self.entries = entries
        self._by_noun: dict[str, NounEntry] = {}
        self._by_root: dict[str, tuple[NounEntry, type[CimDocument]]] = {}
        self._by_class: dict[type[CimDocument], NounEntry] = {}
        for entry in entries:
            for name in entry.names():
                self._by_noun[name] = entry
            docs = [entry.payload] + ([entry.query] if entry.query else [])
            for doc in docs:
                self._by_class[doc] = entry
                self._by_root[doc.profile] = (entry, doc)
            for alias in entry.aliases:
                self._by_root.setdefault(alias, (entry, entry.payload))

    def __iter__(self) -> Iterator[NounEntry]:
        return iter(self.entries)

    def noun(self, name: str) -> NounEntry:
        """The entry of a Header Noun (or an accepted alias)."""
        try:
            return self._by_noun[name]
        except KeyError:
            raise UnknownNounError(name) from None

    def find_noun(self, name: str) -> NounEntry | None:
        return self._by_noun.get(name)

    def entry_of(self, document: CimDocument | type[CimDocument]) -> NounEntry:
        cls = document if isinstance(document, type) else type(document)
        return self._by_class[cls]

    def is_query(self, document: CimDocument | type[CimDocument]) -> bool:
        cls = document if isinstance(document, type) else type(document)
        return self._by_class[cls].query is cls

    def document_class(
        self, namespace: str, local: str
    ) -> tuple[type[CimDocument], str | None] | None:
        """The document class of a root element, with a warning for a variant spelling.

        Accepted (digest 2.1.1, 2.1.2; DECISIONS.md): the 2011 profile namespace, the same with
        `www.` or another year (2009, later editions: read as 2011 with a warning), no
        namespace at all (a warning), and the aliases of a noun (MeterReadSchedules)."""
        found = self._by_root.get(local)
        if found is None:
            return None
        _, cls = found
        warning: str | None = None
        if local != cls.profile:
            warning = f"{local} read as {cls.profile} (digest 2.1.1)"
        if namespace == "":
            return cls, _join(
                warning, f"{local} has no namespace; read as {profile_ns(cls.profile)}"
            )
        decoded = profile_of(namespace)
        if decoded is None or decoded.profile not in (local, cls.profile):
            return None
        if not decoded.canonical:
            return cls, _join(
                warning,
                f"profile namespace {namespace} read as {profile_ns(cls.profile)} "
                "(digest 2.1.2: emit 2011 without www.)",
            )
        return cls, warning

    def resolver(self, namespace: str, local: str) -> tuple[type[CimDocument], str | None] | None:
        """`document_class` in the shape the XML codec takes (cimmeter.xml.codec)."""
        return self.document_class(namespace, local)


def _join(a: str | None, b: str) -> str:
    return f"{a}; {b}" if a else b


REGISTRY = Registry(
    (
        # digest 2.1.1 (M): MeterReadSchedule is singular on output, both accepted on input.
        NounEntry("MeterReadings", MeterReadings, query=GetMeterReadings),
        NounEntry(
            "MeterReadSchedule", MeterReadSchedule, has_get=True, aliases=("MeterReadSchedules",)
        ),
        NounEntry("EndDeviceEvents", EndDeviceEvents, query=GetEndDeviceEvents),
        NounEntry("EndDeviceControls", EndDeviceControls),
        # Master data (digest 2.3: every one is read with `get`; no Get query profile is known).
        NounEntry(
            "MeterServiceRequests",
            MeterServiceRequests,
            has_get=True,
            aliases=("MeterServiceRequest",),
        ),
        NounEntry("EndDeviceGroups", EndDeviceGroups, has_get=True),
        NounEntry("UsagePointGroups", UsagePointGroups, has_get=True),
        NounEntry("ServiceLocationConfig", ServiceLocationConfig, has_get=True),
        NounEntry("UsagePointLocationConfig", UsagePointLocationConfig, has_get=True),
        NounEntry("ServiceCategoryConfig", ServiceCategoryConfig, has_get=True),
        NounEntry("ServiceSupplierConfig", ServiceSupplierConfig, has_get=True),
        NounEntry("CustomerConfig", CustomerConfig, has_get=True),
        NounEntry("CustomerAccountConfig", CustomerAccountConfig, has_get=True),
        NounEntry("CustomerAgreementConfig", CustomerAgreementConfig, has_get=True),
        NounEntry("PricingStructureConfig", PricingStructureConfig, has_get=True),
        NounEntry("MeterConfig", MeterConfig, query=GetMeterConfig),
        # digest 2.3 (M): `get EndDeviceConfig` is in no public WSDL.
        NounEntry("EndDeviceConfig", EndDeviceConfig, has_get=True),
        # digest 3.6.4 (V-weak): SmenCim's GetComModuleConfig has no query profile.
        NounEntry("ComModuleConfig", ComModuleConfig, has_get=True),
        # digest 3.7.2 (M): the GetUsagePointConfig query profile.
        NounEntry("UsagePointConfig", UsagePointConfig, query=GetUsagePointConfig),
        NounEntry("MasterDataLinkageConfig", MasterDataLinkageConfig),
    )
)
"""Every noun cimmeter reads and writes. One line per noun (see the module docstring)."""


__all__ = ["REGISTRY", "NounEntry", "Registry", "UnknownNounError"]
