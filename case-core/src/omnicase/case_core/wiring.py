"""The services of one app instance, built in ``create_app`` and shared by routes and consumers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from omnicase.case_core.articles import ArticleSuggester
from omnicase.case_core.auto_responses.service import AutoResponseService
from omnicase.case_core.brands.service import BrandService
from omnicase.case_core.cases.service import CaseService
from omnicase.case_core.contacts.service import ContactService
from omnicase.case_core.csat.service import CsatService
from omnicase.case_core.custom_fields.service import CustomFieldService
from omnicase.case_core.directory import StaffDirectory
from omnicase.case_core.dynamic_content.service import DynamicContentService
from omnicase.case_core.held.service import HeldMessageService
from omnicase.case_core.intake.consumer import IntakeConsumer
from omnicase.case_core.languages import CaseLanguages
from omnicase.case_core.macros.service import MacroService
from omnicase.case_core.models import outbox
from omnicase.case_core.notifications.service import NotificationService
from omnicase.case_core.organizations.service import OrganizationService
from omnicase.case_core.settings import CaseCoreSettings
from omnicase.case_core.triggers.service import TriggerService
from omnicase.case_core.webhooks.service import WebhookService
from omnicase.kit.outbox import Outbox


@dataclass
class Services:
    settings: CaseCoreSettings
    cases: CaseService
    brands: BrandService
    dynamic_content: DynamicContentService
    contacts: ContactService
    organizations: OrganizationService
    custom_fields: CustomFieldService
    webhooks: WebhookService
    triggers: TriggerService
    macros: MacroService
    notifications: NotificationService
    auto_responses: AutoResponseService
    csat: CsatService
    directory: StaffDirectory
    suggester: ArticleSuggester
    held: HeldMessageService
    intake: IntakeConsumer


def build_services(settings: CaseCoreSettings) -> Services:
    brands = BrandService()
    content = DynamicContentService(brands)
    cases = CaseService(Outbox(outbox), brands, content)
    notifications = NotificationService(settings, Outbox(outbox))
    webhooks = WebhookService(settings, notifications=notifications)
    triggers = TriggerService(cases, webhooks, notifications)
    cases.automation = triggers.after_change
    contacts = ContactService(cases, settings.default_phone_region)
    suggester = ArticleSuggester(
        settings.knowledge_url or settings.service_url("knowledge"),
        settings.internal_secret,
        timeout_seconds=settings.knowledge_timeout_seconds,
    )
    auto_responses = AutoResponseService(Outbox(outbox), suggester, content)
    csat = CsatService(settings, cases)
    cases.solved = csat.solved
    held = HeldMessageService(settings, Outbox(outbox), cases)
    return Services(
        settings=settings,
        cases=cases,
        brands=brands,
        dynamic_content=content,
        contacts=contacts,
        organizations=OrganizationService(cases),
        custom_fields=CustomFieldService(),
        webhooks=webhooks,
        triggers=triggers,
        macros=MacroService(cases),
        notifications=notifications,
        auto_responses=auto_responses,
        csat=csat,
        directory=StaffDirectory(
            settings.routing_url or settings.service_url("routing"),
            settings.internal_secret,
            timeout_seconds=settings.routing_timeout_seconds,
            ttl_seconds=settings.staff_directory_ttl_seconds,
        ),
        suggester=suggester,
        held=held,
        intake=IntakeConsumer(
            cases,
            contacts,
            notifications,
            auto_responses,
            held,
            CaseLanguages(brands, settings.detect_languages, settings.language_min_confidence),
        ),
    )


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(_services)]
