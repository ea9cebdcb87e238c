"""The e-mails of supply-cover claims: their bodies are templates under
portal/templates/email/training/claims/."""

from __future__ import annotations

from portal.clock import long_date
from portal.models import ClaimStatus, SupplyClaim
from portal.outbox import email_body, queue_email
from portal.pricing import format_pence
from portal.training.claims import session_day


def claim_decided(claim: SupplyClaim) -> None:
    """Tell whoever made the claim what was decided (nobody, if their account is gone)."""
    if claim.claimed_by is None:
        return
    session = claim.booking.session
    queue_email(
        claim.claimed_by.email,
        f"Supply cover claim {claim.id} for {claim.school.name}: {claim.status.label}",
        email_body(
            "email/training/claims/decided.txt",
            claim=claim,
            course=session.course.title,
            session_day=long_date(session_day(session)),
            cost=format_pence(claim.cost_pence),
            approved=format_pence(claim.approved_pence or 0),
            refused=claim.status is ClaimStatus.REFUSED,
        ),
    )
