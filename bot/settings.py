"""Configuration: config/podbrief.toml defaults < user config file < PODBRIEF_* environment.

Secrets come only from the environment (``Secrets``), never from a file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from platformdirs import user_config_dir, user_data_dir
from pydantic import Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from core.db import normalise_url, sqlite_url_for
from core.web.urls import normalise_public_url

CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"
DEFAULTS_FILE = CONFIG_DIR / "podbrief.toml"


def user_config_file() -> Path:
    explicit = os.environ.get("PODBRIEF_CONFIG")
    return Path(explicit) if explicit else Path(user_config_dir("podbrief")) / "podbrief.toml"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PODBRIEF_", extra="forbid")

    data_dir: str = ""
    database_url: str = ""

    poll_interval_minutes: int = Field(30, ge=1)
    # `podbrief run` ingests first at a random point of its first tick (several processes
    # spread out); True: right at start (one process, catching up at once after a restart).
    poll_at_start: bool = False
    fetch_concurrency: int = Field(20, ge=1, le=500)
    fetch_timeout_seconds: float = Field(20.0, gt=0)
    max_feed_bytes: int = Field(20_000_000, gt=0)
    max_transcript_bytes: int = Field(20_000_000, gt=0)
    max_redirects: int = Field(5, ge=0, le=20)
    backoff_base_minutes: int = Field(30, ge=1)
    backoff_max_minutes: int = Field(1440, ge=1)
    url_allowlist: list[str] = []

    extractor: str = "auto"
    embedder: str = "auto"
    # Nearest-neighbour index for related insights and search: usearch | exact | off.
    vector_index: Literal["usearch", "exact", "off"] = "usearch"

    # LLM (OpenAI or any OpenAI-compatible server; OPENAI_API_KEY / OPENAI_BASE_URL are secrets).
    llm_model: str = "gpt-4o-mini"
    embedding_model: str = "text-embedding-3-small"
    llm_daily_token_budget: int = Field(2_000_000, ge=0)  # 0: no token limit
    llm_daily_cost_budget_usd: float = Field(1.0, ge=0)  # 0: no cost limit
    llm_concurrency: int = Field(4, ge=1, le=64)
    llm_timeout_seconds: float = Field(120.0, gt=0)
    llm_chunk_tokens: int = Field(30_000, ge=1_000)
    transcription_enabled: bool = False
    transcription_model: str = "whisper-1"
    transcription_max_minutes: int = Field(180, ge=1)

    default_timezone: str = "UTC"
    default_delivery_time: str = "08:00"

    # Daily delivery (see README "Delivery and deployment").
    delivery_grace_minutes: int = Field(180, ge=0)  # a brief missed by less is sent late
    delivery_lease_minutes: int = Field(10, ge=1)  # a dead worker's claims free up after this
    delivery_batch_size: int = Field(1000, ge=1, le=10_000)
    delivery_concurrency: int = Field(32, ge=1, le=1_000)
    delivery_max_attempts: int = Field(5, ge=1, le=50)
    # Processes sending for the same bots (workers, or `run` with role all): each paces itself
    # at 1/N of the platform's overall limit (Telegram's ~30 messages/s).
    delivery_processes: int = Field(1, ge=1, le=100)
    # More recipients due at once on a platform: briefs default to one compact message.
    delivery_compact_above: int = Field(5000, ge=0)  # 0: never by count

    # Chat platforms (tokens are secrets: see ``Secrets``).
    http_host: str = "0.0.0.0"
    http_port: int = Field(8080, ge=1, le=65535)
    telegram_webhook_url: str = ""  # set: webhook mode; empty: long polling
    telegram_base_url: str = ""  # a local Bot API server (or the tests' emulator)
    # Paid broadcasts (allow_paid_broadcast): opt-in, within a daily budget of Stars.
    telegram_paid_broadcast: bool = False
    telegram_paid_stars_per_day: float = Field(0.0, ge=0)
    telegram_paid_messages_per_second: int = Field(1000, ge=31, le=1000)
    slack_api_url: str = ""  # Web API base URL override (tests)

    # Public web pages (an insight page each): served on the HTTP server above when set; cards
    # then link to them. The base URL people reach, e.g. "https://brief.example.org".
    public_url: str = ""

    # Email (see README "Email"): on when smtp_host is set; the password is a secret.
    smtp_host: str = ""
    smtp_port: int = Field(587, ge=1, le=65535)
    smtp_security: str = "starttls"  # starttls | tls | none
    smtp_user: str = ""
    smtp_sender: str = ""  # the From address, e.g. "podbrief <brief@example.org>"
    smtp_timeout_seconds: float = Field(30.0, gt=0)
    smtp_ca_file: str = ""  # a PEM file of the CA to trust (a private one); "": the system's
    signup_limit_per_client: int = Field(10, ge=1)  # signups per hour from one client address
    signup_limit_per_address: int = Field(3, ge=1)  # confirmation mails per hour to one address

    @field_validator("smtp_security")
    @classmethod
    def _known_security(cls, value: str) -> str:
        if value not in {"starttls", "tls", "none"}:
            raise ValueError("smtp_security must be starttls, tls or none")
        return value

    @field_validator("extractor")
    @classmethod
    def _known_extractor(cls, value: str) -> str:
        if value not in {"auto", "offline", "llm"}:
            raise ValueError("extractor must be auto, offline or llm")
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        return normalise_public_url(value)  # its PublicUrlError is a ValueError: a clear message

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        files = [DEFAULTS_FILE]
        user_file = user_config_file()
        if user_file.is_file():
            files.append(user_file)
        # Later files win; the environment wins over both.
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, files))

    @property
    def resolved_data_dir(self) -> Path:
        return (
            Path(self.data_dir).expanduser() if self.data_dir else Path(user_data_dir("podbrief"))
        )

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return normalise_url(self.database_url)
        return sqlite_url_for(self.resolved_data_dir)


class Secrets(BaseSettings):
    """API keys and tokens: environment only."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    openai_api_key: str | None = Field(None, validation_alias="OPENAI_API_KEY")
    openai_base_url: str | None = Field(None, validation_alias="OPENAI_BASE_URL")
    telegram_token: str | None = Field(None, validation_alias="PODBRIEF_TELEGRAM_TOKEN")
    telegram_webhook_secret: str | None = Field(
        None, validation_alias="PODBRIEF_TELEGRAM_WEBHOOK_SECRET"
    )
    slack_bot_token: str | None = Field(None, validation_alias="SLACK_BOT_TOKEN")
    slack_app_token: str | None = Field(None, validation_alias="SLACK_APP_TOKEN")
    slack_signing_secret: str | None = Field(None, validation_alias="SLACK_SIGNING_SECRET")
    slack_client_id: str | None = Field(None, validation_alias="SLACK_CLIENT_ID")
    slack_client_secret: str | None = Field(None, validation_alias="SLACK_CLIENT_SECRET")
    smtp_password: str | None = Field(None, validation_alias="PODBRIEF_SMTP_PASSWORD")
    # Signs the links in mails; without it a random key is generated once and kept in the DB.
    secret_key: str | None = Field(None, validation_alias="PODBRIEF_SECRET_KEY")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings)


def load_settings() -> Settings:
    return Settings()
