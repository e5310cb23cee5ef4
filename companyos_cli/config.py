"""Where the CLI finds the console and its token: the environment (COMPANYOS_URL, COMPANYOS_TOKEN,
COMPANYOS_TENANT, COMPANYOS_REQUESTER) over the config file, `$XDG_CONFIG_HOME/companyos/config.toml`
(default ~/.config/companyos/config.toml; COMPANYOS_CONFIG names another file):

    url = "https://support.example.com"
    token = "cop_…"
    tenant = "acme"          # the tenant context `support create` pre-fills
    requester = "jane@acme.example"
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

KEYS = ("url", "token", "tenant", "requester")


class ConfigError(Exception):
    pass


def path() -> Path:
    if os.environ.get("COMPANYOS_CONFIG"):
        return Path(os.environ["COMPANYOS_CONFIG"]).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "companyos" / "config.toml"


@dataclass
class Config:
    url: str = ""
    token: str = ""
    tenant: str = ""
    requester: str = ""


def read_file() -> dict:
    file = path()
    if not file.exists():
        return {}
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{file} is not valid TOML: {exc}") from None
    return {k: str(v) for k, v in data.items() if k in KEYS and isinstance(v, str)}


def load() -> Config:
    values = read_file()
    for key in KEYS:
        env = os.environ.get(f"COMPANYOS_{key.upper()}")
        if env:
            values[key] = env
    return Config(**values)


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def save(**changes: str) -> Path:
    """Write `changes` into the config file (keeping its other keys), readable by the user only."""
    values = read_file()
    values.update({k: v for k, v in changes.items() if v is not None})
    file = path()
    file.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(f"{key} = {_quote(values[key])}\n" for key in KEYS if values.get(key))
    fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    os.chmod(file, 0o600)
    return file
