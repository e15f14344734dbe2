"""The persistent model. Models keep small invariants and never commit.

No column default reads a clock: every time comes from the ``now`` of the service that
writes the row, so a moved clock (tests, ``scheduler tick --now``) moves everything.
"""

from .audit import AuditEntry
from .booking import Booking, BookingSource, BookingStatus, CancelledBy
from .lease import SchedulerLease
from .message import Message, MessageStatus
from .offer import Offer, OfferKind, OfferStatus
from .office import Closure, Office, WeeklyHours
from .slot import Slot
from .sms import InboundMessage, OptOut
from .staff import ApiToken, StaffAccount, staff_office
from .waitlist import EVERY_WEEKDAY, FRONT, UNCONFIRMED_WAITS, WaitlistEntry, WaitlistStatus

__all__ = [
    "ApiToken",
    "AuditEntry",
    "Booking",
    "BookingSource",
    "BookingStatus",
    "CancelledBy",
    "Closure",
    "EVERY_WEEKDAY",
    "FRONT",
    "UNCONFIRMED_WAITS",
    "InboundMessage",
    "Message",
    "MessageStatus",
    "Offer",
    "OfferKind",
    "OfferStatus",
    "Office",
    "OptOut",
    "SchedulerLease",
    "Slot",
    "StaffAccount",
    "WaitlistEntry",
    "WaitlistStatus",
    "WeeklyHours",
    "staff_office",
]
