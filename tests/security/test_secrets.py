"""SECURITY.md, "How secrets are read": from the environment only, never from a config file,
never printed."""

from __future__ import annotations

import subprocess
from pathlib import Path

from bot.settings import Secrets
from tests.cli_process import PODBRIEF, clean_env

SECRETS = {
    "OPENAI_API_KEY": "sk-very-secret-1",
    "PODBRIEF_TELEGRAM_TOKEN": "123456:very-secret-2",
    "SLACK_BOT_TOKEN": "xoxb-very-secret-3",
    "SLACK_SIGNING_SECRET": "very-secret-4",
    "SLACK_CLIENT_SECRET": "very-secret-5",
    "PODBRIEF_TELEGRAM_WEBHOOK_SECRET": "very-secret-6",
    "SLACK_APP_TOKEN": "xapp-very-secret-7",
    "PODBRIEF_SMTP_PASSWORD": "very-secret-8",
    "PODBRIEF_SECRET_KEY": "very-secret-9-very-secret-9-very-secret-9",
}
NOT_SECRET = {"OPENAI_BASE_URL", "SLACK_CLIENT_ID"}  # read beside the secrets, not secret


def secret_settings() -> set[str]:
    """The environment variable of every setting ``Secrets`` reads."""
    return {str(field.validation_alias) for field in Secrets.model_fields.values()} - NOT_SECRET


def _config_show(tmp_path: Path, config: str | None = None) -> subprocess.CompletedProcess[str]:
    env = clean_env(tmp_path, **SECRETS)
    if config is not None:
        path = tmp_path / "podbrief.toml"
        path.write_text(config)
        env["PODBRIEF_CONFIG"] = str(path)
    return subprocess.run(
        [str(PODBRIEF), "config", "show"], env=env, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip


def test_config_show_never_prints_a_secret(tmp_path: Path) -> None:
    assert set(SECRETS) == secret_settings()  # a new secret is checked here too
    shown = _config_show(tmp_path)
    assert shown.returncode == 0, shown.stderr
    for value in SECRETS.values():
        assert value not in shown.stdout + shown.stderr


def test_a_secret_in_the_config_file_is_refused_not_used(tmp_path: Path) -> None:
    shown = _config_show(tmp_path, 'telegram_token = "123456:from-a-file"\n')
    assert shown.returncode == 1
    assert "telegram_token: Extra inputs are not permitted" in shown.stderr
    assert "secrets are read from the environment only" in shown.stderr
    assert "from-a-file" not in shown.stderr  # stderr ends up in logs
    for value in SECRETS.values():
        assert value not in shown.stdout + shown.stderr
