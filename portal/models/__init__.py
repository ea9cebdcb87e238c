"""The portal's records, a module per capability. Names follow the council's and the DfE's
own words.

Everything is imported from here (``from portal.models import School``), whichever module
defines it; importing this package registers every table on ``Base.metadata``, which
Alembic's environment (portal/migrations/env.py) relies on. Relationships name classes of
other modules by their class name, resolved once every module here has been imported.
"""

from __future__ import annotations

from portal.models.accounts import (
    ROLE_LABELS,
    AccountToken,
    Membership,
    MembershipInvitation,
    Role,
    RoleInOrganisation,
    SignInDevice,
    TokenPurpose,
    User,
)
from portal.models.audit import (
    AuditEvent,
)
from portal.models.buyback import (
    BuybackChoice,
    BuybackLine,
    BuybackReminder,
    BuybackSubmission,
    BuybackSubmissionAnswer,
    BuybackWindow,
    BuybackWindowFigures,
    ChoiceStatus,
    Cohort,
    submission_answers,
)
from portal.models.contacts import (
    CONTACT_ROLE_LABELS,
    CONTACT_SEARCH_TEXT,
    Contact,
    ContactGroup,
    ContactRole,
    contact_area,
    contact_directory,
)
from portal.models.outbox import (
    OutboxMessage,
    OutboxStatus,
)
from portal.models.register import (
    ImportStatus,
    RegisterImport,
)
from portal.models.schools import (
    SPECIAL_MAINTAINED,
    Area,
    EstablishmentGroup,
    EstablishmentType,
    Phase,
    School,
    SchoolRoll,
    SchoolStatus,
    Trust,
)
from portal.models.services import (
    Audience,
    Eligibility,
    OfferStatus,
    PriceOption,
    PricingBasis,
    Service,
    ServiceCategory,
    ServiceKind,
    ServiceOffer,
    TradingDecision,
    available_to,
    catalogue_version,
    eligibility_of,
    financial_year_label,
    open_to,
)
from portal.models.support import (
    OPEN_SUPPORT_REQUESTS,
    SUPPORT_KIND_LABELS,
    LevelOfNeed,
    RedirectReason,
    SupportEvent,
    SupportKind,
    SupportOutcome,
    SupportRequest,
    SupportStatus,
    Urgency,
    support_request_count,
)

__all__ = [
    "CONTACT_ROLE_LABELS",
    "CONTACT_SEARCH_TEXT",
    "OPEN_SUPPORT_REQUESTS",
    "ROLE_LABELS",
    "SPECIAL_MAINTAINED",
    "SUPPORT_KIND_LABELS",
    "AccountToken",
    "Area",
    "Audience",
    "AuditEvent",
    "BuybackChoice",
    "BuybackLine",
    "BuybackReminder",
    "BuybackSubmission",
    "BuybackSubmissionAnswer",
    "BuybackWindow",
    "BuybackWindowFigures",
    "ChoiceStatus",
    "Cohort",
    "Contact",
    "ContactGroup",
    "ContactRole",
    "Eligibility",
    "EstablishmentGroup",
    "EstablishmentType",
    "ImportStatus",
    "LevelOfNeed",
    "Membership",
    "MembershipInvitation",
    "OfferStatus",
    "OutboxMessage",
    "OutboxStatus",
    "Phase",
    "PriceOption",
    "PricingBasis",
    "RedirectReason",
    "RegisterImport",
    "Role",
    "RoleInOrganisation",
    "School",
    "SchoolRoll",
    "SchoolStatus",
    "Service",
    "ServiceCategory",
    "ServiceKind",
    "ServiceOffer",
    "SignInDevice",
    "SupportEvent",
    "SupportKind",
    "SupportOutcome",
    "SupportRequest",
    "SupportStatus",
    "TokenPurpose",
    "TradingDecision",
    "Trust",
    "Urgency",
    "User",
    "available_to",
    "catalogue_version",
    "contact_area",
    "contact_directory",
    "eligibility_of",
    "financial_year_label",
    "open_to",
    "submission_answers",
    "support_request_count",
]
