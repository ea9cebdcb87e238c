"""The council as the Open Referral feed names it, and the ids it gives records that have none."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Publisher:
    organisation_id: uuid.UUID
    council_name: str
    website: str
    email: str
    service_name: str

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Publisher:
        return cls(
            organisation_id=uuid.UUID(str(config["COUNCIL_ORGANISATION_ID"])),
            council_name=config["COUNCIL_NAME"],
            website=config["COUNCIL_WEBSITE"],
            email=config["COUNCIL_CONTACT_EMAIL"],
            service_name=config["SERVICE_NAME"],
        )

    def derived_id(self, *path: object) -> str:
        """A UUID for a record that has no public id of its own (a price, a link).

        Made from the council's id and the record's place, so it is the same on every
        request and every app server, and no two councils' feeds share one.
        """
        return str(uuid.uuid5(self.organisation_id, "/".join(str(part) for part in path)))

    @property
    def taxonomy_id(self) -> str:
        return self.derived_id("taxonomy", "service-categories")

    @property
    def taxonomy_name(self) -> str:
        return f"{self.service_name} service categories"
