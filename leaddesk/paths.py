"""Where leaddesk keeps its files. Computed when asked; nothing is created here."""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "leaddesk"


def data_dir() -> Path:
    """The user data folder (platformdirs), overridable with LEADDESK_DATA_DIR."""
    override = os.environ.get("LEADDESK_DATA_DIR")
    if override:
        return Path(override)
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False))


def config_dir() -> Path:
    """The user config folder (platformdirs), overridable with LEADDESK_CONFIG_DIR."""
    override = os.environ.get("LEADDESK_CONFIG_DIR")
    if override:
        return Path(override)
    from platformdirs import user_config_dir

    return Path(user_config_dir(APP_NAME, appauthor=False))


def config_path() -> Path:
    """The settings file: LEADDESK_CONFIG, else config.toml in the config folder."""
    override = os.environ.get("LEADDESK_CONFIG")
    if override:
        return Path(override)
    return config_dir() / "config.toml"


def default_db_path() -> Path:
    """The default SQLite database: leaddesk.db in the user data folder."""
    return data_dir() / "leaddesk.db"
