"""The app factory: wires the domains' routers to the shell's services."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from crm import api as crm_api
from crm import cases_api as crm_cases_api
from crm import categories as crm_categories
from crm import customers_api as crm_customers_api
from crm import escalations_api as crm_escalations_api
from crm import sla as crm_sla
from crm import tickets_api as crm_tickets_api
from crm import webhooks as crm_webhooks
from hotline import audit_api, health
from hotline.api_headers import ApiHeaders
from hotline.body_limit import BodyLimit
from hotline.clock import Clock
from hotline.context import Services
from hotline.db import check_migrated, session_scope
from hotline.errors import install_error_handlers
from hotline.jobs import use_services
from hotline.metrics import WebhookTimer, WebhookTimings
from hotline.pages import routes as pages
from hotline.redis import async_client
from hotline.settings import Settings, get_settings
from hotline.twilio_webhook import SignatureValidators
from ivr import callback_webhooks as ivr_callback_webhooks
from ivr import hold_webhooks as ivr_hold_webhooks
from ivr import webhooks as ivr_webhooks
from ivr.menu import load_menu
from ivr.runtime import Ivr
from ivr.session import SessionStore
from ivr.twiml import Documents
from recordings import api as recordings_api
from recordings import webhooks as recording_webhooks
from routing import access as routing_access
from routing import access_api as routing_access_api
from routing import alerts_api as routing_alerts_api
from routing import api as routing_api
from routing import console_api as routing_console_api
from routing import service as routing_service
from routing import stats_api as routing_stats_api
from routing import supervisor_api as routing_supervisor_api
from routing.config import routing_for
from routing.dispatch import Dispatch
from routing.engine import Router, SyncRouter

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or get_settings()
    # Read and check the menu and the queues now: a broken file stops start-up, not a caller.
    menu = load_menu(settings.ivr_menu_path)
    crm_categories.load_config()
    crm_sla.load_policy()
    routing = routing_for(
        settings.routing_path,
        ring_timeout_seconds=settings.ring_timeout_seconds,
        wrap_up_seconds=settings.wrapup_seconds,
        timezone=settings.timezone,
    )
    documents = Documents(
        menu,
        hold_music_url=settings.hold_music_url,
        voicemail_max_seconds=settings.voicemail_max_seconds,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = Services.build(settings, clock=clock)
        check_migrated(services.engine)
        with session_scope(services.engine) as session:
            crm_categories.ensure_categories(session=session)
        redis = async_client(services.settings.redis_url or "")
        router = Router(redis, routing)
        await router.configure()
        app.state.sync_router = SyncRouter(services.redis, routing)
        app.state.services = services
        app.state.redis = redis
        app.state.ivr = Ivr(
            menu=menu,
            docs=documents,
            store=SessionStore(redis, settings.ivr_session_ttl_seconds),
            calendar=services.calendar,
            clock=services.clock,
            engine=services.engine,
            region=settings.default_region,
            dispatch=Dispatch(router=router, jobs_redis=services.redis),
        )
        use_services(services)
        try:
            yield
        finally:
            await redis.aclose()
            services.close()

    app = FastAPI(
        title="Hotline",
        version="0.1.0",
        summary="A bank's customer-service hotline on Twilio.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.twilio_validators = SignatureValidators(
        settings.twilio_auth_token, settings.twilio_webhook_shared_key
    )
    # The shell checks bearer tokens; the routing domain keeps the records behind them.
    app.state.token_resolver = routing_access.principal_for_token
    # The CRM scopes agents by department and skills, kept by the routing domain.
    app.state.staff_lookup = routing_service.get_agent
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(ivr_webhooks.router)
    app.include_router(ivr_callback_webhooks.router)
    app.include_router(ivr_hold_webhooks.router)
    app.include_router(recording_webhooks.router)
    app.include_router(crm_webhooks.router)
    app.include_router(crm_tickets_api.router)
    app.include_router(crm_cases_api.router)
    app.include_router(crm_escalations_api.router)
    app.include_router(crm_customers_api.router)
    app.include_router(crm_api.router)
    app.include_router(audit_api.router)
    app.include_router(recordings_api.router)
    app.include_router(routing_access_api.router)
    app.include_router(routing_console_api.router)
    app.include_router(routing_api.router)
    app.include_router(routing_stats_api.router)
    app.include_router(routing_supervisor_api.router)
    app.include_router(routing_alerts_api.router)
    app.include_router(pages.router)
    app.state.webhook_timings = WebhookTimings()
    app.add_middleware(WebhookTimer, timings=app.state.webhook_timings)
    app.add_middleware(ApiHeaders)
    # Outermost: an oversized body is refused before any other layer sees it.
    app.add_middleware(BodyLimit)
    return app
