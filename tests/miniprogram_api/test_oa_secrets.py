"""The demo's generated official-account secrets are ones WeChat's console accepts as typed in."""

from __future__ import annotations

import base64
import re
from types import SimpleNamespace

from miniprogram_api.wechat import ensure_oa_secrets


def test_generated_encoding_aes_keys_are_43_letters_and_digits(tmp_path):
    for attempt in range(20):
        app = SimpleNamespace(config={"KEYS_DIR": tmp_path / str(attempt)})
        ensure_oa_secrets(app)
        key = app.config["WECHAT_OA_AES_KEY"]
        assert re.fullmatch(r"[A-Za-z0-9]{43}", key), key
        assert len(base64.b64decode(key + "=")) == 32  # what WeChat decodes it to
        # The same instance keeps the same key (every worker reads it from the key file).
        again = SimpleNamespace(config={"KEYS_DIR": tmp_path / str(attempt)})
        ensure_oa_secrets(again)
        assert again.config["WECHAT_OA_AES_KEY"] == key
