"""Demo data: the offices of lokal willkommen with plausible hours, and one staff account
(an administrator, so that a newcomer sees the whole workspace). No residents' data."""
from datetime import time

from sqlalchemy import select

from ..extensions import db
from ..models import Office, StaffAccount, WeeklyHours
from . import slots, staff

# The demo's staff login, printed by seed-demo and demo. Never used outside the demo data.
STAFF_EMAIL = "team@lokal-willkommen.example"
STAFF_PASSWORD = "willkommen-demo"

MON, TUE, WED, THU, FRI = range(5)

# (slug, name, address, staff languages, [(weekday, start, end, slot minutes, seats)])
OFFICES = [
    ("brackel-aplerbeck", "Brackel/Aplerbeck", "Brackeler Hellweg 146, 44309 Dortmund",
     "de,en,ar,tr", [(TUE, "09:00", "12:00", 30, 2), (THU, "13:00", "16:00", 30, 2)]),
    ("mengede-huckarde", "Mengede/Huckarde", "Dortmund-Mengede",
     "de,en,ru,uk", [(MON, "09:00", "12:00", 30, 1), (WED, "13:00", "15:00", 30, 1)]),
    ("hoerde-hombruch", "Hörde/Hombruch", "Dortmund-Hörde",
     "de,en,fa,ar", [(TUE, "13:00", "16:00", 30, 1), (FRI, "09:00", "12:00", 30, 1)]),
    ("eving-scharnhorst", "Eving/Scharnhorst", "Dortmund-Eving",
     "de,en,ar,fa,tr", [(MON, "09:00", "12:00", 30, 2), (WED, "09:00", "12:00", 30, 2)]),
    ("lanstrop", "Lanstrop", "Nadlerweg 1, 44329 Dortmund",
     "de,en,ar", [(THU, "08:30", "11:30", 30, 2)]),
    ("luetgendortmund", "Lütgendortmund", "Dortmund-Lütgendortmund",
     "de,en,ro,bg", [(TUE, "09:00", "12:00", 30, 1), (THU, "14:00", "17:00", 30, 1)]),
    ("innenstadt", "Innenstadt-West/Ost", "Dortmund-Innenstadt (with Projekt Ankommen e.V.)",
     "de,en,ar,uk,ru", [(MON, "13:00", "16:00", 30, 2), (THU, "09:00", "12:00", 30, 2)]),
    ("nordstadt", "Nordstadt", "Dortmund-Nordstadt",
     "de,en,ar,bg,ro,tr", [(WED, "09:00", "13:00", 30, 2), (FRI, "09:00", "12:00", 30, 2)]),
]


def seed(now):
    """Create the demo offices and their hours where missing, then their slots."""
    created = 0
    for slug, name, address, languages, hours in OFFICES:
        if db.session.scalar(select(Office.id).where(Office.slug == slug)) is not None:
            continue
        office = Office(slug=slug, name=name, address=address, languages=languages)
        office.hours = [
            WeeklyHours(
                weekday=weekday, start_time=time.fromisoformat(start),
                end_time=time.fromisoformat(end), slot_minutes=minutes, seats=seats,
            )
            for weekday, start, end, minutes, seats in hours
        ]
        db.session.add(office)
        created += 1
    db.session.flush()
    if db.session.scalar(select(StaffAccount.id).where(StaffAccount.email == STAFF_EMAIL)) is None:
        offices = list(db.session.scalars(select(Office).order_by(Office.name)))
        staff.create_account(STAFF_EMAIL, STAFF_PASSWORD, offices=offices, admin=True,
                             name="Demo", actor=None, now=now)
    return created, slots.materialise(now)
