"""What the audit log's codes mean, in the words council staff use.

Every kind of event the code records (``audit.record("contact.updated", ...)``) has its plain
words here, under the topic its prefix names. tests/admin/test_audit_log.py finds every kind
recorded anywhere in ``portal/`` and fails for one without words: a new kind is one line below.
"""

from __future__ import annotations

# The part before the dot: what the event is about. The filter offers each topic as a whole.
TOPICS: dict[str, str] = {
    "auth": "Signing in",
    "account": "People's accounts",
    "contact": "Local contacts",
    "service": "Services",
    "offer": "Service offers",
    "price_option": "Prices",
    "buyback": "Buy-back",
    "register": "Schools register",
    "support": "CAF requests",
    "training": "Training",
}

KINDS: dict[str, str] = {
    # Signing in
    "auth.sign_in": "Signed in",
    "auth.sign_in_failed": "Sign-in failed",
    "auth.sign_in_refused_locked": "Sign-in refused: account locked",
    "auth.sign_in_refused_inactive": "Sign-in refused: account deactivated",
    "auth.second_factor_failed": "Wrong security code given",
    "auth.security_code_reused": "Security code refused: already used",
    "auth.recovery_code_used": "Recovery code used",
    "auth.two_factor_enrolled": "Authenticator app set up",
    "auth.two_factor_reset": "Authenticator app taken away",
    "auth.locked_out": "Account locked after failed sign-ins",
    "auth.browser_locked_out": "Browser locked out after failed sign-ins",
    "auth.session_expired": "Signed out: session too old",
    "auth.second_factor_missing": "Signed out: security code not given",
    "auth.sign_out": "Signed out",
    # People's accounts
    "account.invited": "Person invited",
    "account.invitation_accepted": "Invitation accepted",
    "account.invitation_declined": "Invitation declined",
    "account.invitation_withdrawn": "Invitation withdrawn",
    "account.membership_removed": "Role taken away",
    "account.deactivated": "Account deactivated",
    "account.reactivated": "Account reactivated",
    "account.password_reset_requested": "Password reset asked for",
    "account.password_reset": "Password reset",
    "account.password_changed": "Password changed",
    "account.password_change_failed": "Password change refused: wrong current password",
    "account.unlock_link_sent": "Unlock link e-mailed",
    "account.unlock_link_used": "Account unlocked by its e-mailed link",
    "account.unlocked": "Account unlocked by whoever manages it",
    # Local contacts
    "contact.created": "Contact added",
    "contact.updated": "Contact changed",
    "contact.checked": "Contact checked",
    "contact.retired": "Contact retired",
    "contact.reinstated": "Contact put back in the directory",
    "contact.letters_sent": "Annual letters e-mailed to head teachers",
    # Services, offers and prices
    "service.created": "Service added",
    "service.updated": "Service changed",
    "offer.created": "Service offer drafted",
    "offer.updated": "Service offer changed",
    "offer.published": "Service offer published",
    "offer.withdrawn": "Service offer withdrawn",
    "offer.year_copied": "A year's offers copied to the next",
    "price_option.created": "Price option added",
    "price_option.updated": "Price option changed",
    "price_option.deleted": "Price option removed",
    # Buy-back
    "buyback.saved": "Buy-back choice saved",
    "buyback.submitted": "Buy-back choice submitted",
    "buyback.window_opened": "Buy-back window set up",
    "buyback.window_changed": "Buy-back window changed before it opened",
    "buyback.deadline_extended": "Buy-back deadline extended",
    "buyback.window_closed_early": "Buy-back window closed early",
    "buyback.window_reminders_changed": "Buy-back reminders changed",
    # Schools register
    "register.import_uploaded": "Register file uploaded",
    "register.import_applied": "Register import applied",
    "register.trust_added": "Trust added from the register",
    "register.trust_renamed": "Trust renamed from the register",
    "register.school_added": "School added from the register",
    "register.school_changed": "School's details changed",
    "register.school_closed": "School closed",
    "register.review_flagged": "School flagged for review",
    "register.review_cleared": "School's review flag cleared",
    "register.area_districts_changed": "Area's districts changed",
    "register.areas_assigned": "Schools put in their districts' areas",
    # CAF requests
    "support.submitted": "CAF request sent",
    "support.updated": "CAF request updated",
    "support.assigned": "CAF request given to an officer",
    "support.anonymised": "Old CAF requests anonymised",
    # Training: booking a place, and the school's approval
    "training.booked": "Training place booked",
    "training.approved": "Training place approved by the school",
    "training.refused": "Training place refused by the school",
    "training.approval_set": "Who approves a school's training bookings changed",
    # Training: changes to a booked place
    "training.booking_cancelled": "Training booking cancelled",
    "training.attendee_swapped": "Training place given to a colleague",
    "training.place_offered": "Training place offered from the waiting list",
    "training.offer_accepted": "Offered training place accepted",
    "training.offer_declined": "Offered training place declined",
    "training.offer_lapsed": "Offered training place not taken in time",
    # Training: the coordinator's courses, sessions and registers
    "training.course_created": "Training course added",
    "training.course_updated": "Training course changed",
    "training.course_published": "Training course published",
    "training.course_withdrawn": "Training course withdrawn",
    "training.session_created": "Training session added",
    "training.session_updated": "Training session changed",
    "training.session_moved": "Training session moved",
    "training.session_cancelled": "Training session cancelled",
    "training.register_taken": "Training register taken",
    # Training: supply cover paid from a fund
    "training.fund_created": "Supply-cover fund set up",
    "training.fund_changed": "Supply-cover fund changed",
    "training.fund_allocated": "Supply-cover fund allocated to schools",
    "training.claim_submitted": "Supply-cover claim made",
    "training.claim_decided": "Supply-cover claim decided",
    "training.payment_batch_made": "Supply-cover payment batch made",
    "training.payment_batch_paid": "Supply-cover payment batch paid",
}

# The kinds of record an event can be about (the model's class name), as people call them.
RECORDS: dict[str, str] = {
    "User": "Person",
    "MembershipInvitation": "Invitation",
    "Contact": "Contact",
    "Service": "Service",
    "ServiceOffer": "Service offer",
    "PriceOption": "Price option",
    "BuybackWindow": "Buy-back window",
    "BuybackChoice": "Buy-back choice",
    "School": "School",
    "Trust": "Trust",
    "Area": "Area",
    "RegisterImport": "Register import",
    "SupportRequest": "CAF request",
    "Booking": "Training booking",
    "Course": "Training course",
    "SupplyFund": "Supply-cover fund",
    "SupplyClaim": "Supply-cover claim",
    "PaymentBatch": "Supply-cover payment batch",
    "CourseSession": "Training session",
}


def kind_words(kind: str) -> str:
    """The plain words for ``kind``: a kind nobody has named yet shows as its code (and
    fails tests/admin/test_audit_log.py), never as an error."""
    return KINDS.get(kind, kind)


def topic_words(kind: str) -> str:
    topic = kind.partition(".")[0]
    return TOPICS.get(topic, topic)


def record_words(subject_type: str) -> str:
    return RECORDS.get(subject_type, subject_type)
