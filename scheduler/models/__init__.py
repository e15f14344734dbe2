"""The persistent model. Models keep small invariants and never commit.

No column default reads a clock: every time comes from the ``now`` of the service that
writes the row, so a moved clock (tests, ``scheduler tick --now``) moves everything.
"""
from .booking import Booking, BookingStatus
from .message import Message, MessageStatus
from .offer import Offer, OfferKind, OfferStatus
from .office import Closure, Office, WeeklyHours
from .slot import Slot
from .sms import InboundMessage, OptOut, SchedulerLease
from .waitlist import EVERY_WEEKDAY, WaitlistEntry, WaitlistStatus

__all__ = [
    "Booking", "BookingStatus", "Closure", "EVERY_WEEKDAY", "InboundMessage", "Message",
    "MessageStatus", "Offer", "OfferKind", "OfferStatus", "Office", "OptOut", "SchedulerLease",
    "Slot", "WaitlistEntry", "WaitlistStatus", "WeeklyHours",
]
