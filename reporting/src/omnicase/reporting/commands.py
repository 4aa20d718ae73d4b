"""``omnicase reporting rebuild``: reporting's operator command (entry point ``omnicase.commands``)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any


async def _rebuild() -> int:
    import httpx

    from omnicase.kit.db import Database, create_engine
    from omnicase.kit.peers import PeerUnavailable
    from omnicase.kit.settings import load_settings
    from omnicase.reporting.business_hours.schedules import ScheduleSource
    from omnicase.reporting.business_hours.service import BusinessHoursService
    from omnicase.reporting.rebuild.owners import Owners
    from omnicase.reporting.rebuild.service import rebuild
    from omnicase.reporting.settings import ReportingSettings

    settings = load_settings(ReportingSettings)
    sla_engine = settings.sla_engine_url or settings.service_url("sla-engine")
    database = Database(create_engine(settings.database_url, pool_size=2, application_name="reporting-rebuild"))
    schedules = ScheduleSource(sla_engine, settings.internal_secret, ttl_seconds=settings.schedule_ttl_seconds)
    try:
        async with httpx.AsyncClient(timeout=30.0, trust_env=False) as client:
            owners = Owners(
                settings.service_url("case-core"),
                sla_engine,
                settings.internal_secret,
                client,
                intake_web_url=settings.service_url("intake-web"),
            )
            count = await rebuild(database, owners, BusinessHoursService(database, schedules))
    except PeerUnavailable as error:
        print(f"omnicase reporting rebuild: {error}; run it again once they answer", file=sys.stderr)
        return 1
    finally:
        await schedules.aclose()
        await database.engine.dispose()
    print(f"rebuilt the read model from {count} cases and their calls")
    return 0


def _run_rebuild(_: argparse.Namespace) -> int:
    return asyncio.run(_rebuild())


def add_commands(commands: argparse._SubParsersAction[Any]) -> None:
    """Add ``reporting rebuild`` to the ``omnicase`` command line."""
    reporting = commands.add_parser("reporting", help="reporting's read model")
    actions = reporting.add_subparsers(dest="reporting_command", required=True)
    rebuild = actions.add_parser(
        "rebuild", help="empty the read model and compute it again from case-core's, sla-engine's and intake-web's APIs"
    )
    rebuild.set_defaults(run=_run_rebuild)
