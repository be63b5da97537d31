"""Configuration read from the environment, with safe defaults for a first look.

The embedded default (no DATABASE_URL / REDIS_URL) runs on a SQLite file under ``instance/`` and an
in-process key-value store, so that a bare machine can start the demo and run the tests. Production
sets DATABASE_URL (PostgreSQL) and REDIS_URL (Redis).
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE = PROJECT_ROOT / "instance"


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


def _sqlalchemy_url(url: str) -> str:
    # Operators paste libpq-style URLs; SQLAlchemy needs the driver named to pick psycopg 3.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


class Config:
    INSTANCE_PATH = Path(os.environ.get("INSTANCE_PATH", DEFAULT_INSTANCE))
    SECRET_KEY = os.environ.get("SECRET_KEY")  # generated under instance/ when unset
    SQLALCHEMY_DATABASE_URI = _sqlalchemy_url(
        os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE_PATH / 'xinyongfen.db'}")
    )
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    # Pooled connections idle longer than this are pinged before use (app/db_pool.py).
    DB_PING_AFTER_IDLE_SECONDS = float(os.environ.get("DB_PING_AFTER_IDLE_SECONDS", "10"))
    REDIS_URL = os.environ.get("REDIS_URL")  # None: in-process store (fakeredis)
    # Redis behind Sentinel instead of REDIS_URL: "host:port,host:port,host:port" of the sentinels, the name they
    # watch the primary under, and the database number (app/kv.py).
    REDIS_SENTINELS = os.environ.get("REDIS_SENTINELS")
    REDIS_SENTINEL_SERVICE = os.environ.get("REDIS_SENTINEL_SERVICE", "xyf")
    REDIS_SENTINEL_DB = _env_int("REDIS_SENTINEL_DB", 0)
    # A streaming replica for reads where staleness is harmless (app/replica.py). A replica lagging more than
    # REPLICA_MAX_LAG_SECONDS, or not answering, is skipped; a person's reads stay on the primary for
    # REPLICA_STICKY_SECONDS after their own write, which must exceed the lag allowed plus the check interval.
    DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL")
    REPLICA_MAX_LAG_SECONDS = float(os.environ.get("REPLICA_MAX_LAG_SECONDS", "5"))
    REPLICA_CHECK_SECONDS = float(os.environ.get("REPLICA_CHECK_SECONDS", "1"))
    REPLICA_RETRY_SECONDS = float(os.environ.get("REPLICA_RETRY_SECONDS", "5"))
    REPLICA_STICKY_SECONDS = float(os.environ.get("REPLICA_STICKY_SECONDS", "10"))
    REPLICA_CONNECT_TIMEOUT_SECONDS = _env_int("REPLICA_CONNECT_TIMEOUT_SECONDS", 2)
    KEYS_DIR = Path(os.environ.get("KEYS_DIR", INSTANCE_PATH / "keys"))
    PII_KEY = os.environ.get("PII_KEY")  # base64 of 32 bytes; AES-GCM key for ID numbers and phones
    # Rotating PII_KEY: the new key with a higher PII_KEY_VERSION (1-255, stored in each value), the old ones in
    # PII_KEYS_PREVIOUS ("1:BASE64,..."), then `flask keys rotate-pii`, then drop the old ones.
    PII_KEY_VERSION = _env_int("PII_KEY_VERSION", 1)
    PII_KEYS_PREVIOUS = os.environ.get("PII_KEYS_PREVIOUS")
    BLIND_INDEX_KEY = os.environ.get("BLIND_INDEX_KEY")  # base64; HMAC key for lookups by ID number
    AUDIT_SEAL_KEY = os.environ.get("AUDIT_SEAL_KEY")  # base64; HMAC key sealing audit entries until they are linked
    # base64 of 32 bytes; keys the pseudonym a credit code carries. Never rotate it: every citizen would get a new
    # pseudonym (and fresh per-offer limits).
    BENEFITS_SUBJECT_KEY = os.environ.get("BENEFITS_SUBJECT_KEY")

    # The city this instance serves; partner cities run the same code with other values.
    CITY_CODE = os.environ.get("CITY_CODE", "330600")
    CITY_NAME = os.environ.get("CITY_NAME", "绍兴")
    SCORE_NAME = os.environ.get("SCORE_NAME", "绍兴信用分")
    RULES_VERSION = os.environ.get("RULES_VERSION", "v1")
    # The department whose records the credit centre issues itself (commitment outcomes, 自愿注册).
    CREDIT_CENTRE_DEPARTMENT = os.environ.get("CREDIT_CENTRE_DEPARTMENT", "SX_CREDIT")

    # WeChat: the mini-program (login) and the official account (chatbot). WECHAT_API_BASE points wechatpy at
    # api.weixin.qq.com in production and at the local stand-in in the demo and the tests.
    WECHAT_API_BASE = os.environ.get("WECHAT_API_BASE", "https://api.weixin.qq.com/")
    WECHAT_MP_APPID = os.environ.get("WECHAT_MP_APPID", "wx5a0c1a0000000001")
    WECHAT_MP_SECRET = os.environ.get("WECHAT_MP_SECRET", "demo-mini-program-secret")
    WECHAT_OA_APPID = os.environ.get("WECHAT_OA_APPID", "wx5a0c1a0000000002")
    WECHAT_OA_SECRET = os.environ.get("WECHAT_OA_SECRET", "demo-official-account-secret")
    WECHAT_OA_TOKEN = os.environ.get("WECHAT_OA_TOKEN")  # generated under instance/ when unset
    WECHAT_OA_AES_KEY = os.environ.get("WECHAT_OA_AES_KEY")  # 43 characters; generated when unset
    WECHAT_TIMEOUT_SECONDS = _env_int("WECHAT_TIMEOUT_SECONDS", 3)

    # 浙里办 single sign-on (the province's IRS gateway): host, the gateway's access/secret key pair and our appId,
    # the only place they are read (zlb_api/sso.py); the demo and the tests point ZLB_SSO_BASE at a local stand-in.
    ZLB_SSO_BASE = os.environ.get("ZLB_SSO_BASE", "https://ibcdsg.zj.gov.cn:8443")
    ZLB_ACCESS_KEY = os.environ.get("ZLB_ACCESS_KEY", "demo-zlb-access-key")
    ZLB_SECRET_KEY = os.environ.get("ZLB_SECRET_KEY", "demo-zlb-secret-key")
    ZLB_APP_ID = os.environ.get("ZLB_APP_ID", "demo-zlb-app-id")
    ZLB_TIMEOUT_SECONDS = float(os.environ.get("ZLB_TIMEOUT_SECONDS", "3"))

    # 信易+ credit code (扫码亮信)
    CREDIT_CODE_TTL_SECONDS = _env_int("CREDIT_CODE_TTL_SECONDS", 60)
    SIGNING_KEYS_DIR = os.environ.get("SIGNING_KEYS_DIR")  # None: KEYS_DIR / "signing"
    # Key validity windows (app/security/key_windows.py): how long a key signs, and how long before it takes over
    # the next one sits in the JWKS (longer than any verifier caches our JWKS).
    SIGNING_KEY_LIFETIME_SECONDS = _env_int("SIGNING_KEY_LIFETIME_SECONDS", 90 * 24 * 3600)
    SIGNING_KEY_PUBLISH_AHEAD_SECONDS = _env_int("SIGNING_KEY_PUBLISH_AHEAD_SECONDS", 2 * 24 * 3600)
    # Terminals and offers read on every scan are cached per process this long (app/local_cache.py): a terminal
    # revoked or an offer paused through another server applies within this many seconds.
    LOCAL_CACHE_SECONDS = float(os.environ.get("LOCAL_CACHE_SECONDS", "5"))

    # Partner cities (互认): attestations our citizens show abroad, the partner API and reconciliation.
    PARTNER_ATTESTATION_TTL_SECONDS = _env_int("PARTNER_ATTESTATION_TTL_SECONDS", 7 * 24 * 3600)
    PARTNER_AUTH_MAX_LIFETIME_SECONDS = _env_int("PARTNER_AUTH_MAX_LIFETIME_SECONDS", 300)
    PARTNER_CLOCK_LEEWAY_SECONDS = _env_int("PARTNER_CLOCK_LEEWAY_SECONDS", 30)
    PARTNER_HTTP_TIMEOUT_SECONDS = _env_int("PARTNER_HTTP_TIMEOUT_SECONDS", 5)
    # A receipt is sent right after the redemption with this short timeout; the outbox retries it later.
    PARTNER_RECEIPT_TIMEOUT_SECONDS = _env_int("PARTNER_RECEIPT_TIMEOUT_SECONDS", 2)
    # A kid we do not know makes us refetch the partner's JWKS at most this often (a scanner must not wait on it).
    PARTNER_JWKS_REFRESH_MIN_SECONDS = _env_int("PARTNER_JWKS_REFRESH_MIN_SECONDS", 60)
    # A partner's JWKS fetched from its URL is trusted this long; older, it is refetched before use, and a token
    # is refused when that fails (a trust list nobody refreshed is how a revoked key keeps working).
    PARTNER_JWKS_TTL_SECONDS = _env_int("PARTNER_JWKS_TTL_SECONDS", 24 * 3600)
    # Credentials (app/partners/sdjwt.py, status_list.py): the compact JWS attestation stays available to partners
    # registered with credential_format "jws", and accepted from partners, until the end of this day (city time).
    PARTNER_LEGACY_JWS_UNTIL = os.environ.get("PARTNER_LEGACY_JWS_UNTIL", "2027-12-31")
    # Token Status List: a verifier may cache a list for ttl seconds; the list token itself expires after exp.
    STATUS_LIST_TTL_SECONDS = _env_int("STATUS_LIST_TTL_SECONDS", 300)
    STATUS_LIST_EXP_SECONDS = _env_int("STATUS_LIST_EXP_SECONDS", 24 * 3600)
    STATUS_LIST_SIZE = _env_int("STATUS_LIST_SIZE", 131072)  # indices per list (16 KiB of bits before zlib)

    # Citizen rights: evidence images of objections and repairs live as files here, never in the database.
    EVIDENCE_DIR = os.environ.get("EVIDENCE_DIR")  # None: <instance>/evidence
    EVIDENCE_MAX_BYTES = _env_int("EVIDENCE_MAX_BYTES", 2 * 1024 * 1024)
    EVIDENCE_MAX_FILES = _env_int("EVIDENCE_MAX_FILES", 6)
    # Images uploaded one at a time (the apps) until a filing cites them: an unused one is deleted after this long.
    EVIDENCE_UPLOAD_TTL_SECONDS = _env_int("EVIDENCE_UPLOAD_TTL_SECONDS", 24 * 3600)
    EVIDENCE_UPLOADS_PENDING_MAX = _env_int("EVIDENCE_UPLOADS_PENDING_MAX", 20)
    # WeChat subscription-message (订阅消息) template ids echoing the message centre.
    WECHAT_TEMPLATE_RECORD_NOTICE = os.environ.get("WECHAT_TEMPLATE_RECORD_NOTICE", "demo-tpl-record-notice")
    WECHAT_TEMPLATE_CASE_RESULT = os.environ.get("WECHAT_TEMPLATE_CASE_RESULT", "demo-tpl-case-result")
    WECHAT_TEMPLATE_REMINDER = os.environ.get("WECHAT_TEMPLATE_REMINDER", "demo-tpl-reminder")
    # 社区版 / 乡村版积分 (app/community): redeem codes' life, year-end rating thresholds (a year's net points), and
    # the department whose records the ratings become (it must own HN_STAR_HOUSEHOLD and HN_HONEST_PERSON).
    COMMUNITY_CODE_TTL_SECONDS = _env_int("COMMUNITY_CODE_TTL_SECONDS", 600)
    COMMUNITY_HONEST_PERSON_POINTS = _env_int("COMMUNITY_HONEST_PERSON_POINTS", 100)
    COMMUNITY_STAR_THRESHOLDS = os.environ.get("COMMUNITY_STAR_THRESHOLDS", "5:600,4:400,3:200")
    COMMUNITY_RATING_DEPARTMENT = os.environ.get("COMMUNITY_RATING_DEPARTMENT", "SX_CIVILITY")
    # Personal credit reports (app/reports): validity, limits, and the city's report-signing certificate. Unset
    # paths: a demo city CA and signing certificate are generated under KEYS_DIR/reports/ (the log says so).
    REPORT_VALIDITY_DAYS = _env_int("REPORT_VALIDITY_DAYS", 30)
    REPORT_MAX_VALIDITY_DAYS = _env_int("REPORT_MAX_VALIDITY_DAYS", 90)
    REPORT_REQUESTS_PER_CITIZEN = os.environ.get("REPORT_REQUESTS_PER_CITIZEN", "10 per day")
    REPORT_VERIFICATIONS_PER_ADDRESS = os.environ.get("REPORT_VERIFICATIONS_PER_ADDRESS", "30 per 10 minutes")
    REPORT_SIGNING_CERT = os.environ.get("REPORT_SIGNING_CERT")  # PEM or DER: the signing certificate
    REPORT_SIGNING_KEY = os.environ.get("REPORT_SIGNING_KEY")  # PEM or DER: its private key
    REPORT_SIGNING_KEY_PASSWORD = os.environ.get("REPORT_SIGNING_KEY_PASSWORD")
    REPORT_SIGNING_CHAIN = os.environ.get("REPORT_SIGNING_CHAIN")  # PEM file(s), comma separated: intermediates, root
    MAX_CONTENT_LENGTH = _env_int("MAX_CONTENT_LENGTH", 4 * 1024 * 1024)
    RECORDS_BATCH_MAX = _env_int("RECORDS_BATCH_MAX", 5000)
    # A batch touching at most this many citizens is rescored before the answer; larger ones are queued.
    BATCH_INLINE_RECOMPUTE_MAX = _env_int("BATCH_INLINE_RECOMPUTE_MAX", 500)
    RECOMPUTE_CHUNK_SIZE = _env_int("RECOMPUTE_CHUNK_SIZE", 2000)
    STAFF_TOKEN_TTL_SECONDS = _env_int("STAFF_TOKEN_TTL_SECONDS", 8 * 3600)
    # Brute force (app/ratelimit.py; limits in the `limits` notation). Failed logins lock a staff username, and
    # one client address, for the rest of the window; failed mini-program logins lock the address.
    LOGIN_FAILURES_PER_USER = os.environ.get("LOGIN_FAILURES_PER_USER", "5 per 15 minutes")
    LOGIN_FAILURES_PER_ADDRESS = os.environ.get("LOGIN_FAILURES_PER_ADDRESS", "20 per 15 minutes")
    # Wrong name/ID answers when binding: per WeChat account, and per (account, ID number) so that strangers
    # failing on an ID number never lock its owner out.
    BIND_FAILURES_PER_ACCOUNT = os.environ.get("BIND_FAILURES_PER_ACCOUNT", "5 per hour")
    BIND_FAILURES_PER_ACCOUNT_AND_ID = os.environ.get("BIND_FAILURES_PER_ACCOUNT_AND_ID", "3 per hour")
    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
    # The address partners and citizens reach this city at (https://credit.example.gov.cn): the URLs we publish
    # (/partner/v1/info) are built from it, never from a request's Host header. Unset only on a first look, where
    # the request's own address is used.
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL")
    # Reverse proxies in front of the app whose X-Forwarded-For / X-Forwarded-Proto are trusted (werkzeug ProxyFix);
    # 0 ignores those headers, as is right when the app is reached directly.
    TRUSTED_PROXY_HOPS = _env_int("TRUSTED_PROXY_HOPS", 0)

    # ASCII title and a semver version: generated clients use them as a package name and version.
    API_TITLE = "Xinyongfen API"
    API_VERSION = "1.0.0"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/"
    OPENAPI_JSON_PATH = "openapi.json"
    OPENAPI_SWAGGER_UI_PATH = "/docs"
    OPENAPI_SWAGGER_UI_URL = "/docs/assets/"  # served by the app (app/docs_assets.py), no CDN needed
    API_SPEC_OPTIONS = {
        "info": {
            "description": "信用分：评分、信易+权益、城市互认。Errors are JSON {code, status, message, errors?}.",
        },
        "components": {
            "securitySchemes": {
                "staffToken": {"type": "http", "scheme": "bearer", "description": "POST /api/v1/auth/token"},
                "departmentKey": {"type": "http", "scheme": "bearer", "description": "部门接口密钥"},
            }
        },
    }
    TESTING = False


class TestConfig(Config):
    """Tests: SQLite and fakeredis unless DATABASE_URL / REDIS_URL point at real servers."""

    TESTING = True
    STAFF_TOKEN_TTL_SECONDS = 600
    # Never the province: a closed local port until a test starts the stand-in SSO (tests/conftest.py).
    ZLB_SSO_BASE = "http://127.0.0.1:9"
    ZLB_TIMEOUT_SECONDS = 1.0
