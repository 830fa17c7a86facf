"""Billing determinants in the utility's local time (issue 11).

`run_billing(source, config, "2024-03")` computes, per usage point and billing period, the
energy delivered/received/net, energy per TOU period, maximum demand (overall and per TOU
period), coincident demand and the count of estimated/edited/missing intervals. The TOU
calendar, time zone, demand window and billing cycles are data (`load_billing_config`).
`cimmeter.billing.publish` turns determinants into 61968-9 Readings.
"""

from cimmeter.billing.calendar import CalendarError, TouCalendar, TouGrid, load_calendar
from cimmeter.billing.determinants import (
    BillingConfig,
    DemandSpec,
    Determinants,
    Peak,
    TouDeterminant,
    compute_determinants,
    load_billing_config,
    run_billing,
)
from cimmeter.billing.periods import BillingCycle, BillingCycles, BillingPeriod
from cimmeter.billing.source import BillingSource, StoreSource

__all__ = [
    "BillingConfig",
    "BillingCycle",
    "BillingCycles",
    "BillingPeriod",
    "BillingSource",
    "CalendarError",
    "DemandSpec",
    "Determinants",
    "Peak",
    "StoreSource",
    "TouCalendar",
    "TouDeterminant",
    "TouGrid",
    "compute_determinants",
    "load_billing_config",
    "load_calendar",
    "run_billing",
]
