"""The codes other modules use most, as constants (each is also `<Kind>.named("<id>")`).

The full lists are the data files `named_end_device_codes.csv`, `named_reading_types.csv` and
`named_quality_codes.csv`; a constant here is `named()` of the camel-case id of its name
(`REMOTE_DISCONNECT` is `EndDeviceControlType.named("remoteDisconnect")`).
"""

from __future__ import annotations

from cimmeter.codes.end_device_event_type import EndDeviceControlType, EndDeviceEventType
from cimmeter.codes.reading_quality_type import ReadingQualityType
from cimmeter.codes.reading_type import ReadingType

_event = EndDeviceEventType.named
_control = EndDeviceControlType.named
_quality = ReadingQualityType.named

# -- EndDeviceControlType (digest 4.7-4.9, 5.2.5) -------------------------------------------------
REMOTE_DISCONNECT = _control("remoteDisconnect")  # 3.31.0.23
REMOTE_CONNECT = _control("remoteConnect")  # 3.31.0.18
ARM_FOR_CLOSURE = _control("armForClosure")  # 3.31.0.5
ARM_FOR_OPEN = _control("armForOpen")  # 3.31.0.6
DEMAND_RESET = _control("demandReset")  # 3.8.0.214
LOAD_CONTROL_START = _control("loadControlStart")  # 3.15.0.54
LOAD_CONTROL_STOP = _control("loadControlStop")  # 3.15.0.55

# -- EndDeviceEventType (digest 4.5-4.7, 5.2.5) ---------------------------------------------------
POWER_OFF = _event("powerOff")  # 3.26.0.85
POWER_RESTORED = _event("powerRestored")  # 3.26.0.216
LAST_GASP = _event("lastGasp")  # 3.26.136.47
PHASE_FAILURE = _event("phaseFailure")  # 3.26.25.85
TAMPER = _event("tamper")  # 3.12.0.257
TAMPER_CLEARED = _event("tamperCleared")  # 3.12.0.291
COVER_REMOVED = _event("coverRemoved")  # 3.12.29.212
REVERSE_ROTATION = _event("reverseRotation")  # 3.12.93.219
REVERSE_ENERGY_FLOW = _event("reverseEnergyFlow")  # 3.12.48.219
LOW_BATTERY = _event("lowBattery")  # 3.2.22.150
CLOCK_ERROR = _event("clockError")  # 3.36.0.79
CONFIGURATION_CHANGED = _event("configurationChanged")  # 3.7.0.24
SWITCH_DISCONNECTED = _event("switchDisconnected")  # 3.31.0.68
SWITCH_CONNECTED = _event("switchConnected")  # 3.31.0.42
DISCONNECT_FAILED = _event("disconnectFailed")  # 3.31.0.84
CONNECT_FAILED = _event("connectFailed")  # 3.31.0.67
SWITCH_ARMED_FOR_CLOSURE = _event("switchArmedForClosure")  # 3.31.0.11
DEMAND_RESET_OCCURRED = _event("demandResetOccurred")  # 3.8.0.215

# -- ReadingQualityType: the VEE set (digest 5.3.4); 3 = MDM, 2 = head-end, 1 = device ---------
MDM_VALID = _quality("mdmValid")  # 3.0.0
MDM_VALIDATED = _quality("mdmValidated")  # 3.0.1
MDM_VALIDATION_FAILED = _quality("mdmValidationFailed")  # 3.6.0 (3.6.n: rule n)
MDM_EDITED = _quality("mdmEdited")  # 3.7.0
MDM_ADDED = _quality("mdmAdded")  # 3.7.1
MDM_REJECTED = _quality("mdmRejected")  # 3.7.3
MDM_ESTIMATED = _quality("mdmEstimated")  # 3.8.0 (3.8.n: method n)
MDM_ACCEPTED = _quality("mdmAccepted")  # 3.10.1
MDM_DERIVED = _quality("mdmDerived")  # 3.11.0
MDM_INFERRED = _quality("mdmInferred")  # 3.11.1
DEVICE_POWER_FAIL = _quality("devicePowerFail")  # 1.2.32
DEVICE_COVER_OPENED = _quality("deviceCoverOpened")  # 1.3.1
DEVICE_REVERSE_ROTATION = _quality("deviceReverseRotation")  # 1.3.4
DEVICE_PARTIAL_INTERVAL = _quality("devicePartialInterval")  # 1.4.2
DEVICE_LONG_INTERVAL = _quality("deviceLongInterval")  # 1.4.3
DEVICE_SKIPPED_INTERVAL = _quality("deviceSkippedInterval")  # 1.4.4
DEVICE_CLOCK_CHANGED = _quality("deviceClockChanged")  # 1.4.9
DEVICE_CLOCK_SET_FORWARD = _quality("deviceClockSetForward")  # 1.4.64
DEVICE_CLOCK_SET_BACKWARD = _quality("deviceClockSetBackward")  # 1.4.128
HEAD_END_SKIPPED_INTERVAL = _quality("headEndSkippedInterval")  # 2.4.4
HEAD_END_KNOWN_MISSING_READ = _quality("headEndKnownMissingRead")  # 2.5.259

# -- ReadingType (digest 5.1.17) ------------------------------------------------------------------
FIFTEEN_MINUTE_DELTA_FORWARD_KWH = ReadingType.named("fifteenMinuteDeltaForwardKWh")
DAILY_REGISTER_FORWARD_KWH = ReadingType.named("dailyRegisterForwardKWh")
