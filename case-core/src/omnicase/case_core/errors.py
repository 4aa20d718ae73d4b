"""case-core's domain errors (rendered as problem+json by the kit)."""

from typing import ClassVar

from omnicase.kit.errors import Conflict, NotFound, ServiceError


class CaseNotFound(NotFound):
    slug = "case-not-found"


class ContactNotFound(NotFound):
    slug = "contact-not-found"


class OptOutNotFound(NotFound):
    slug = "csat-opt-out-not-found"


class OrganizationNotFound(NotFound):
    slug = "organization-not-found"


class CustomFieldNotFound(NotFound):
    slug = "custom-field-not-found"


class BrandNotFound(NotFound):
    slug = "brand-not-found"


class DynamicContentNotFound(NotFound):
    slug = "dynamic-content-not-found"


class MessageNotFound(NotFound):
    slug = "message-not-found"


class AttachmentNotFound(NotFound):
    slug = "attachment-not-found"


class CaseClosed(Conflict):
    slug = "case-closed"


class NoRecipient(Conflict):
    """A public reply to a case with no requester to send it to: the case as it is now refuses it."""

    slug = "no-recipient"


class IdentityTaken(Conflict):
    slug = "identity-taken"


class DomainTaken(Conflict):
    slug = "domain-taken"


class StillInUse(Conflict):
    slug = "still-in-use"


class PreconditionRequired(ServiceError):
    """PATCH without If-Match: a blind overwrite could lose someone else's change."""

    status: ClassVar[int] = 428
    slug: ClassVar[str] = "precondition-required"
    title: ClassVar[str] = "Precondition required"


class SurveyLinkUnknown(NotFound):
    """A survey link this service never made (forged, cut short, or its survey gone)."""

    slug = "csat-link-unknown"


class SurveyClosed(ServiceError):
    """A survey that can no longer be answered: its case closed, or 28 days passed."""

    status, slug, title = 410, "csat-survey-closed", "Survey closed"
