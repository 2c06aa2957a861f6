"""docker-compose.yml and the Dockerfile: validated by Compose itself, and checked for what a
production deployment needs (migrations before the API, persistence, health checks)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]

SECRETS = {
    "POSTGRES_PASSWORD": "compose-test-password",
    "HOTLINE_PUBLIC_URL": "https://hotline.example.cn",
    "HOTLINE_ADMIN_TOKEN": "a-long-admin-token-for-the-compose-test",
    "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
    "TWILIO_AUTH_TOKEN": "compose-test-auth-token",
    "TWILIO_API_KEY_SID": "SK" + "0" * 32,
    "TWILIO_API_KEY_SECRET": "compose-test-key-secret",
    "TWILIO_TWIML_APP_SID": "AP" + "0" * 32,
    "HOTLINE_TWILIO_PHONE_NUMBER": "+864008895555",
}


def compose_command() -> list[str] | None:
    docker = shutil.which("docker")
    if docker:
        probe = subprocess.run(
            [docker, "compose", "version"], capture_output=True, text=True, check=False
        )
        if probe.returncode == 0:
            return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy else None


def run_config(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = compose_command()
    if command is None:
        if os.environ.get("HOTLINE_TEST_REQUIRE_COMPOSE"):
            pytest.fail("neither `docker compose` nor `docker-compose` is installed")
        pytest.skip("Docker Compose is not installed (.ci/run installs it)")
    clean = {key: value for key, value in os.environ.items() if key not in SECRETS}
    return subprocess.run(
        [*command, "-f", str(ROOT / "docker-compose.yml"), "config"],
        env={**clean, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def rendered() -> dict[str, Any]:
    result = run_config(SECRETS)
    assert result.returncode == 0, result.stderr
    config: dict[str, Any] = yaml.safe_load(result.stdout)
    return config


def test_compose_validates_the_file(rendered: dict[str, Any]) -> None:
    assert set(rendered["services"]) == {"postgres", "redis", "migrate", "api", "worker"}


def test_compose_refuses_to_start_without_the_secrets() -> None:
    missing = {key: value for key, value in SECRETS.items() if key != "TWILIO_AUTH_TOKEN"}
    result = run_config(missing)
    assert result.returncode != 0
    assert "TWILIO_AUTH_TOKEN" in result.stderr


def test_migrations_run_once_before_the_api_and_workers(rendered: dict[str, Any]) -> None:
    services = rendered["services"]
    assert services["migrate"]["command"] == ["hotline", "migrate"]
    for name in ("api", "worker"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert depends["redis"]["condition"] == "service_healthy"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_redis_keeps_an_append_only_file_on_a_volume(rendered: dict[str, Any]) -> None:
    redis = rendered["services"]["redis"]
    assert "--appendonly" in redis["command"]
    assert redis["command"][redis["command"].index("--appendonly") + 1] == "yes"
    assert any("/data" in str(volume) for volume in redis["volumes"])


def test_every_long_running_service_has_a_health_check(rendered: dict[str, Any]) -> None:
    for name in ("postgres", "redis", "api", "worker"):
        assert rendered["services"][name]["healthcheck"]["test"], name


def test_the_processes_run_in_production_mode_against_postgres(rendered: dict[str, Any]) -> None:
    for name in ("migrate", "api", "worker"):
        environment = rendered["services"][name]["environment"]
        assert environment["HOTLINE_ENVIRONMENT"] == "production"
        assert environment["HOTLINE_DATABASE_URL"].startswith("postgresql://")
        assert environment["HOTLINE_REDIS_URL"] == "redis://redis:6379/0"
    assert set(rendered["volumes"]) >= {"postgres-data", "redis-data", "recordings"}


def test_the_image_runs_the_api_as_an_unprivileged_user() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "\nUSER hotline\n" in dockerfile
    assert 'CMD ["hotline", "api"' in dockerfile
    assert "HEALTHCHECK" in dockerfile


def test_the_env_example_names_every_secret_compose_requires() -> None:
    required = set(re.findall(r"\$\{(\w+):\?", (ROOT / "docker-compose.yml").read_text()))
    example = {
        line.split("=", 1)[0]
        for line in (ROOT / ".env.example").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    }
    assert required == set(SECRETS)
    assert required <= example
