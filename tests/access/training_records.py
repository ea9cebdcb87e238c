"""The demo's training records that the access matrix's training cases ask for (seed-demo,
portal_seed/data/demo_training.json), as paths tests/helpers/routes.py resolves, and the
roles that see each school's places.

Each is picked for who it belongs to: Oakfield's (the head teacher's and the staff
member's school), Riverside's (an academy of the Meadow trust: the academy head's and the
trust lead's), Dunchurch's (a school none of the demo's school roles is at), the draft
course (only those who manage training find it), and an id nobody has.
"""

from __future__ import annotations

CAF = "Early help assessment (CAF) awareness"
LEAD_PROFESSIONAL = "The Lead Professional role"
DSL = "Designated Safeguarding Lead refresher"
GOVERNORS = "Safeguarding for governors"
TEAM_AROUND = "Team Around the Family: working together"
DRAFT = "Domestic abuse and Operation Encompass"

COURSE = f"{{course:{CAF}}}"
DRAFT_COURSE = f"{{course:{DRAFT}}}"
UPCOMING = f"{{session:{CAF}|upcoming}}"
PAST = f"{{session:{DSL}|past}}"
FULL = f"{{session:{TEAM_AROUND}|upcoming}}"
NO_ID = "999999"

# Oakfield's places: one the staff member booked for themselves, one the head teacher booked
# for a colleague without an account (not the staff member's to change), one waiting for the
# head teacher's approval, one on the full session's waiting list, and the head teacher's own
# place that they attended and evaluated.
OAK_OWN = f"{{place:staff@oakfield.example|{CAF}|upcoming}}"
OAK_COLLEAGUE = f"{{place:tom.reid@oakfield.example|{LEAD_PROFESSIONAL}|upcoming}}"
OAK_AWAITING = "{booking:125601:awaiting_approval}"
OAK_WAITING = "{booking:125601:waiting}"
OAK_EVALUATED = f"{{place:head@oakfield.example|{DSL}|past}}"
# Riverside's: a governor's place its head teacher booked, a place offered from the waiting
# list, and its head teacher's own place, attended with no evaluation yet.
RIVERSIDE = f"{{place:glenys.ward@riverside.example|{GOVERNORS}|upcoming}}"
RIVERSIDE_OFFERED = "{booking:140201:offered}"
RIVERSIDE_ATTENDED = f"{{place:head@riverside.example|{DSL}|past}}"
# Dunchurch's, a school no demo school role is at.
DUNCHURCH = "{booking:125614:waiting}"

OAKFIELD_ROLES = ("head_teacher", "school_staff")
TRUST_ROLES = ("academy_head", "trust_lead")
# Those who manage training (Capability.MANAGE_TRAINING) see every school's places.
MANAGERS = ("la_admin", "training_coordinator")
# Signed in, but booking for no school: every place is outside their scope (404).
NO_SCHOOL = ("caf_officer", "publisher")
# Those refused pages for booking schools (Capability.BOOK_TRAINING) outright.
NOT_BOOKERS = ("caf_officer", "publisher", "la_admin", "training_coordinator")
