"""The portal's records in the shapes of Open Referral UK 3.0 (HSDS 3.0 with the UK profile).

Each builder returns a record passed through ``compact``: fields without a value are left
out, as ORUK asks, so a builder lists every field it knows and need not check for blanks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from math import ceil
from typing import Any

from portal.api.compact import compact
from portal.api.costs import cost_options, latest_published
from portal.api.publisher import Publisher
from portal.clock import LONDON
from portal.models import Service, ServiceCategory

API_DETAILS = {
    "version": "HSDS-UK-3.0",
    "profile": "https://github.com/OpenReferralUK/uk-profile/blob/main/docs/index.md",
    "openapi_url": "https://openreferraluk.org/specifications/3.0/openapi.json",
}


def timestamp(moment: datetime) -> str:
    """UTC with milliseconds, as ORUK's ``last_modified`` examples are written."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def organisation(publisher: Publisher) -> dict[str, Any]:
    return compact(
        {
            "id": str(publisher.organisation_id),
            "name": publisher.council_name,
            "description": (
                f"{publisher.council_name} is the local authority. It provides these services "
                f"to the schools and academies in its area through the {publisher.service_name}."
            ),
            "email": publisher.email,
            "website": publisher.website,
        }
    )


def taxonomy(publisher: Publisher, terms: Iterable[ServiceCategory] = ()) -> dict[str, Any]:
    return compact(
        {
            "id": publisher.taxonomy_id,
            "name": publisher.taxonomy_name,
            "description": (
                f"The categories {publisher.council_name} groups its services for schools "
                f"under in the {publisher.service_name}."
            ),
            "taxonomy_terms": [taxonomy_term(term, publisher) for term in terms],
        }
    )


def taxonomy_term(category: ServiceCategory, publisher: Publisher) -> dict[str, Any]:
    return compact(
        {
            "id": category.public_id,
            "name": category.name,
            "term": category.name,
            # Required by the schema, and a category need not have one of its own.
            "description": category.description or category.name,
            "taxonomy": publisher.taxonomy_name,
            "taxonomy_id": publisher.taxonomy_id,
        }
    )


def service_summary(
    service: Service, last_changed: datetime, publisher: Publisher
) -> dict[str, Any]:
    """A service's one-to-one fields and its organisation: an item of ``/services``."""
    return compact(
        {
            "id": service.public_id,
            "organization_id": str(publisher.organisation_id),
            "name": service.name,
            "description": "\n\n".join(
                filter(None, (text.strip() for text in (service.summary, service.included)))
            ),
            # No ``url``: a service has no public page of its own (the catalogue needs sign-in).
            "email": service.contact_email,
            # Only services with a published offer are in the feed at all.
            "status": "active",
            # Publishing an offer is the council checking the service, so the day its record
            # last changed is the day it was last assured (a date in England's calendar).
            "assured_date": last_changed.astimezone(LONDON).date().isoformat(),
            "last_modified": timestamp(last_changed),
            "organization": organisation(publisher),
        }
    )


def service_record(
    service: Service, last_changed: datetime, publisher: Publisher
) -> dict[str, Any]:
    """A fully nested service: ``/services/{id}``. Its offers must be loaded already."""
    offer = latest_published(list(service.offers))
    category = service.category
    return compact(
        {
            **service_summary(service, last_changed, publisher),
            "contacts": [
                {
                    "id": publisher.derived_id("service", service.public_id, "contact"),
                    "name": service.provider_team,
                }
            ],
            "cost_options": [] if offer is None else cost_options(service, offer, publisher),
            "attributes": [
                {
                    "id": publisher.derived_id("service", service.public_id, "category"),
                    "link_id": service.public_id,
                    "link_entity": "service",
                    "link_type": "service_category",
                    "taxonomy_term_id": category.public_id,
                    "taxonomy_term": taxonomy_term(category, publisher),
                }
            ],
        }
    )


def page(
    contents: Sequence[dict[str, Any]], number: int, per_page: int, total: int
) -> dict[str, Any]:
    """The ORUK page envelope. ``contents`` stays even when empty: it is the page itself."""
    total_pages = max(1, ceil(total / per_page))
    return {
        "total_items": total,
        "total_pages": total_pages,
        "page_number": number,
        "size": len(contents),
        "first_page": number == 1,
        "last_page": number >= total_pages,
        "empty": not contents,
        "contents": list(contents),
    }
