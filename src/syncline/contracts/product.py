"""Product: an item of the catalog, mastered in the ERP and published to CRM and billing."""

from __future__ import annotations

from enum import StrEnum

from syncline.contracts.common import (
    CanonicalId,
    CanonicalModel,
    ExternalIds,
    LongText,
    NonEmptyStr,
    Sku,
    UtcDateTime,
)


class RevenueClass(StrEnum):
    """How revenue is recognised; decides the ERP revenue rule and the billing price type."""

    SUBSCRIPTION = "subscription"
    USAGE = "usage"
    PROFESSIONAL_SERVICES = "professional_services"
    ONE_TIME = "one_time"
    HARDWARE = "hardware"


class Product(CanonicalModel):
    """A sellable item; `sku` is the code all systems share."""

    id: CanonicalId
    sku: Sku
    name: NonEmptyStr
    description: LongText | None = None
    family: NonEmptyStr
    active: bool = True
    revenue_class: RevenueClass
    unit_of_measure: NonEmptyStr = "each"
    external_ids: ExternalIds = {}
    updated_at: UtcDateTime


__all__ = ["Product", "RevenueClass"]
