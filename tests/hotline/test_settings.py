from __future__ import annotations

import pytest
from pydantic import ValidationError

from hotline.settings import DEV_AUTH_TOKEN, Environment, Settings


def production(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "environment": Environment.production,
        "twilio_account_sid": "AC" + "2" * 32,
        "twilio_auth_token": "a-real-token-from-the-console",
        "admin_token": "x" * 32,
        "redis_url": "redis://127.0.0.1:6379/0",
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
    ],
)
def test_production_refuses_placeholders(overrides: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        production(**overrides)


def test_twilio_names_come_from_twilios_own_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "from-the-environment")
    monkeypatch.setenv("HOTLINE_PUBLIC_URL", "https://hotline.bank.example/")
    settings = Settings()
    assert settings.twilio_auth_token == "from-the-environment"
    assert settings.public_url == "https://hotline.bank.example"


def test_unknown_time_zone_is_refused() -> None:
    with pytest.raises(ValidationError):
        Settings(timezone="Mars/Olympus_Mons")


def test_demo_gateway_without_credentials() -> None:
    assert not Settings().twilio_is_live
    assert Settings(twilio_api_base="http://127.0.0.1:8070").twilio_is_live
    assert not Settings(twilio_auth_token="a-real-token", twilio_outbox=True).twilio_is_live
