"""The persistent model. Models keep small invariants and never commit."""
from .booking import Booking, BookingStatus
from .message import Message, MessageStatus
from .office import Closure, Office, WeeklyHours
from .slot import Slot

__all__ = [
    "Booking", "BookingStatus", "Closure", "Message", "MessageStatus", "Office", "Slot",
    "WeeklyHours",
]
