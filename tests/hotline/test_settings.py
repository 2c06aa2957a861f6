from __future__ import annotations

import pytest
from pydantic import ValidationError

from hotline.settings import (
    DEV_API_KEY_SECRET,
    DEV_API_KEY_SID,
    DEV_AUTH_TOKEN,
    DEV_TWIML_APP_SID,
    Environment,
    Settings,
)


def production(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "environment": Environment.production,
        "twilio_account_sid": "AC" + "2" * 32,
        "twilio_auth_token": "a-real-token-from-the-console",
        "admin_token": "x" * 32,
        "redis_url": "redis://127.0.0.1:6379/0",
        "twilio_api_key_sid": "SK" + "3" * 32,
        "twilio_api_key_secret": "a-real-api-key-secret",
        "twilio_twiml_app_sid": "AP" + "4" * 32,
        "public_url": "https://hotline.bank.example",
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def test_production_accepts_real_secrets() -> None:
    assert production().environment is Environment.production


@pytest.mark.parametrize(
    "overrides",
    [
        {"twilio_auth_token": DEV_AUTH_TOKEN},
        {"admin_token": "short"},
        {"twilio_account_sid": "AC00000000000000000000000000000000"},
        {"redis_url": None},
        {"twilio_api_key_sid": DEV_API_KEY_SID},
        {"twilio_api_key_secret": DEV_API_KEY_SECRET},
        {"twilio_twiml_app_sid": DEV_TWIML_APP_SID},
    ],
)
def test_production_refuses_placeholders(overrides: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        production(**overrides)


def test_production_needs_the_public_url_webhooks_are_signed_for() -> None:
    values = production().model_dump(exclude={"public_url"})
    with pytest.raises(ValidationError, match="HOTLINE_PUBLIC_URL"):
        Settings(**values)


def test_twilio_names_come_from_twilios_own_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "from-the-environment")
    monkeypatch.setenv("TWILIO_API_KEY_SID", "SK" + "5" * 32)
    monkeypatch.setenv("TWILIO_TWIML_APP_SID", "AP" + "6" * 32)
    monkeypatch.setenv("HOTLINE_PUBLIC_URL", "https://hotline.bank.example/")
    settings = Settings()
    assert settings.twilio_auth_token == "from-the-environment"
    assert settings.twilio_api_key_sid == "SK" + "5" * 32
    assert settings.twilio_twiml_app_sid == "AP" + "6" * 32
    assert settings.public_url == "https://hotline.bank.example"


def test_unknown_time_zone_is_refused() -> None:
    with pytest.raises(ValidationError):
        Settings(timezone="Mars/Olympus_Mons")


def test_demo_gateway_without_credentials() -> None:
    assert not Settings().twilio_is_live
    assert Settings(twilio_api_base="http://127.0.0.1:8070").twilio_is_live
    assert not Settings(twilio_auth_token="a-real-token", twilio_outbox=True).twilio_is_live
