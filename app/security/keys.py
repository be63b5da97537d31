"""Secrets for a running instance: from the environment in production, generated under instance/ for a first look."""

from __future__ import annotations

import base64
import logging
import os
import secrets
from pathlib import Path

log = logging.getLogger(__name__)


def load_or_create_secret(config_value: str | None, keys_dir: Path, name: str, nbytes: int = 32) -> bytes:
    """Return the secret given in config (base64), else the one stored in ``keys_dir/name``, else make one."""
    if config_value:
        return base64.b64decode(config_value)
    path = keys_dir / name
    if path.exists():
        return base64.b64decode(path.read_text().strip())
    keys_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_bytes(nbytes)
    # O_EXCL: two workers starting together must not each write a different key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return base64.b64decode(path.read_text().strip())
    with os.fdopen(fd, "w") as handle:
        handle.write(base64.b64encode(value).decode())
    log.warning("generated a new secret %s under %s (first-look default; set it from the environment in "
                "production)", name, keys_dir)
    return value
