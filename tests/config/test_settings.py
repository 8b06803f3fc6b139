"""Settings fail loudly, naming the variable, on a malformed environment; production passes the deploy check.

Settings are read at import, so each case starts a fresh interpreter with a controlled environment.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

import config.settings as config_settings
from config.env import env_bool, env_int, env_list, env_required, env_str, env_url

PROJECT_DIR = Path(config_settings.BASE_DIR)
# Every variable config/settings.py reads; each may also come from NAME_FILE.
SETTINGS_VARIABLES = [
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "SITE_URL",
    "DATABASE_URL",
    "DB_CONN_MAX_AGE",
    "REDIS_URL",
    "REDIS_PREFIX",
    "CHANNEL_LAYER",
    "REDIS_MAX_CONNECTIONS",
    "REDIS_POOL_TIMEOUT",
    "CELERY_BROKER_URL",
    "CELERY_TASK_ALWAYS_EAGER",
    "TIMER_SWEEP_SECONDS",
    "MEDIA_ROOT",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "LOG_LEVEL",
    "SMS_BACKEND",
    "SMS_FILE_PATH",
    "SMS_GATEWAY_URL",
    "SMS_GATEWAY_TOKEN",
    "SMS_SIGNATURE",
    "OTP_TTL_SECONDS",
    "OTP_RESEND_SECONDS",
    "OTP_MAX_SENDS_PER_HOUR",
    "OTP_MAX_ATTEMPTS_PER_CODE",
    "OTP_LOCKOUT_FAILURES",
    "OTP_LOCKOUT_SECONDS",
    "EVIDENCE_MAX_BYTES",
    "EMAIL_BACKEND",
    "EMAIL_HOST",
    "EMAIL_PORT",
    "EMAIL_HOST_USER",
    "EMAIL_HOST_PASSWORD",
    "EMAIL_USE_TLS",
    "EMAIL_TIMEOUT",
    "DEFAULT_FROM_EMAIL",
    "OUTBOX_MAX_ATTEMPTS",
    "OUTBOX_RETRY_SECONDS",
    "OUTBOX_SWEEP_SECONDS",
]
SETUP = "import django; django.setup()"


def clean_env(**overrides: str) -> dict[str, str]:
    """This process's environment without any settings variable, plus ``overrides``."""
    removed = {
        *SETTINGS_VARIABLES,
        *(f"{name}_FILE" for name in SETTINGS_VARIABLES),
        # A deployment must not have it (async.E001), whatever the developer's shell has.
        "DJANGO_ALLOW_ASYNC_UNSAFE",
    }
    env = {key: value for key, value in os.environ.items() if key not in removed}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    env.update(overrides)
    return env


PRODUCTION_SERVICES = {
    "DATABASE_URL": "postgres://yizhan@db.example.cn/yizhan",
    "REDIS_URL": "redis://cache.example.cn:6379/0",
    "SMS_GATEWAY_URL": "https://sms.example.cn/v1/messages",
    "IDENTITY_PROVIDER_URL": "https://idp.example.cn/v1/name-id-match",  # issue 17 item 15
}


def production_env(**overrides: str) -> dict[str, str]:
    variables = {"SECRET_KEY": secrets.token_urlsafe(45), "ALLOWED_HOSTS": "mediation.example.cn",
                 **PRODUCTION_SERVICES, **overrides}
    return clean_env(DEBUG="0", **variables)


def _run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *argv], env=env, cwd=PROJECT_DIR, capture_output=True, text=True, timeout=120, check=False
    )


def run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return _run(["-c", code], env)


def run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return _run(["manage.py", *args], env)


def start_up_error(env: dict[str, str]) -> str:
    """The message django.setup() stops with under ``env`` (the traceback's last line)."""
    result = run_python(SETUP, env)
    assert result.returncode != 0, f"settings loaded although they should not have:\n{result.stderr}"
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("django.core.exceptions.ImproperlyConfigured: "), result.stderr
    return last_line.removeprefix("django.core.exceptions.ImproperlyConfigured: ")


# --- start-up refuses malformed variables, naming them ------------------------------------------------


def test_the_clean_environment_itself_loads():
    result = run_python(SETUP, clean_env())
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        pytest.param({"DEBUG": "maybe"}, "DEBUG", id="debug-not-boolean"),
        pytest.param({"DB_CONN_MAX_AGE": "abc"}, "DB_CONN_MAX_AGE", id="conn-max-age-not-number"),
        pytest.param({"DB_CONN_MAX_AGE": "-1"}, "DB_CONN_MAX_AGE", id="conn-max-age-negative"),
        pytest.param({"DATABASE_URL": "mysql://u:p@db/yizhan"}, "DATABASE_URL", id="database-mysql"),
        pytest.param({"DATABASE_URL": "nonsense"}, "DATABASE_URL", id="database-not-url"),
        pytest.param({"DATABASE_URL": "postgres://"}, "DATABASE_URL", id="database-empty-url"),
        pytest.param({"REDIS_URL": "http://x"}, "REDIS_URL", id="redis-http"),
        pytest.param({"CHANNEL_LAYER": "kafka"}, "CHANNEL_LAYER", id="channel-layer-unknown"),
        pytest.param({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL", id="log-level-unknown"),
        pytest.param({"CELERY_BROKER_URL": "kafka://x"}, "CELERY_BROKER_URL", id="broker-unknown-scheme"),
        pytest.param({"SITE_URL": "example.cn"}, "SITE_URL", id="site-url-not-url"),
        pytest.param({"SMS_BACKEND": "pigeon"}, "SMS_BACKEND", id="sms-backend-unknown"),
        pytest.param({"SMS_BACKEND": "http"}, "SMS_GATEWAY_URL", id="sms-http-without-url"),
        pytest.param({"OTP_TTL_SECONDS": "5"}, "OTP_TTL_SECONDS", id="otp-ttl-too-short"),
        pytest.param(
            {"DEBUG": "0", "SECRET_KEY": "k" * 30 + "abcdefghij" * 3, "ALLOWED_HOSTS": "a.cn",
             "REDIS_URL": "redis://r/0"},
            "DATABASE_URL", id="prod-on-embedded-sqlite",
        ),
        pytest.param(
            {"DEBUG": "0", "SECRET_KEY": "k" * 30 + "abcdefghij" * 3, "ALLOWED_HOSTS": "a.cn",
             "DATABASE_URL": "postgres://u@db/y"},
            "REDIS_URL", id="prod-without-redis",
        ),
        pytest.param({"CHANNEL_LAYER": "redis"}, "REDIS_URL", id="channel-layer-redis-without-url"),
        pytest.param(
            {"REDIS_URL": "redis://127.0.0.1:6379/0", "REDIS_MAX_CONNECTIONS": "0"},
            "REDIS_MAX_CONNECTIONS",
            id="redis-pool-empty",
        ),
        pytest.param({"DEBUG": "0", "ALLOWED_HOSTS": "mediation.example.cn"}, "SECRET_KEY", id="prod-no-secret"),
        pytest.param(
            {"DEBUG": "0", "ALLOWED_HOSTS": "mediation.example.cn", "SECRET_KEY": "short"},
            "SECRET_KEY",
            id="prod-short-secret",
        ),
        pytest.param(
            {"DEBUG": "0", "SECRET_KEY": "k" * 30 + "abcdefghij" * 3}, "ALLOWED_HOSTS", id="prod-no-allowed-hosts"
        ),
    ],
)
def test_malformed_variable_stops_start_up_naming_it(variables, named):
    assert named in start_up_error(clean_env(**variables))


def test_secret_key_file_pointing_at_a_missing_file_stops_start_up_naming_it(tmp_path):
    missing = tmp_path / "no-such-secret"

    message = start_up_error(production_env(SECRET_KEY_FILE=str(missing)))

    assert "SECRET_KEY_FILE" in message
    assert str(missing) in message


def test_secret_key_file_is_used_and_wins_over_secret_key(tmp_path):
    secret = secrets.token_urlsafe(45)
    secret_file = tmp_path / "secret_key"
    secret_file.write_text(secret + "\n", encoding="utf-8")  # files from `echo` end with a newline

    result = run_python(
        f"{SETUP}; from django.conf import settings; print(settings.SECRET_KEY)",
        production_env(SECRET_KEY_FILE=str(secret_file)),
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == secret


@pytest.fixture
def deploy_database():
    """A scratch PostgreSQL database beside the test database, migrated, dropped afterwards."""
    import psycopg

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        pytest.fail("DATABASE_URL must point at PostgreSQL for the deploy check (see README).")
    base, _, _ = url.rpartition("/")
    name = f"yizhan_deploy_{os.getpid()}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    yield f"{base}/{name}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_production_settings_pass_the_deploy_check_without_warnings(tmp_path, deploy_database):
    env = production_env(DATABASE_URL=deploy_database, MEDIA_ROOT=str(tmp_path / "media"))
    # mediation.W001 rightly warns until the admin has entered holidays for years the chinesecalendar
    # package does not cover yet; a deployment ready to go live has done so.
    prepared = run_python(
        f"{SETUP}\n"
        "import datetime\n"
        "from django.core.management import call_command\n"
        "from django.utils import timezone\n"
        "from mediation.calendar import last_covered_year\n"
        "from mediation.models import HolidayOverride\n"
        "call_command('migrate', verbosity=0)\n"
        "this_year = timezone.localdate().year\n"
        "for year in (this_year, this_year + 1):\n"
        "    if year > last_covered_year():\n"
        "        HolidayOverride.objects.create(date=datetime.date(year, 1, 1), is_workday=False, name='元旦')\n",
        env,
    )
    assert prepared.returncode == 0, prepared.stderr

    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


def test_redis_channel_layer_never_drops_idle_readers_and_keeps_to_its_prefix():
    layer = config_settings.redis_channel_layer("redis://127.0.0.1:6379/3", "yizhan-x")

    host = layer["CONFIG"]["hosts"][0]
    assert layer["BACKEND"] == "realtime.layers.RedisChannelLayer"
    assert host["address"] == "redis://127.0.0.1:6379/3"
    assert "socket_timeout" in host
    assert host["socket_timeout"] is None
    assert layer["CONFIG"]["prefix"] == "yizhan-x:asgi"


# --- the typed readers in config/env.py ---------------------------------------------------------------


@pytest.fixture
def env(monkeypatch):
    """A setter for YZ_TEST_* variables that starts with none of them (nor their _FILE forms) set."""
    for name in list(os.environ):
        if name.startswith("YZ_TEST_"):
            monkeypatch.delenv(name)

    def set_variable(name: str, value: str) -> None:
        monkeypatch.setenv(name, value)

    return set_variable


def test_env_int_uses_the_default_when_unset_or_blank(env):
    assert env_int("YZ_TEST_INT", 7) == 7
    env("YZ_TEST_INT", "  ")
    assert env_int("YZ_TEST_INT", 7) == 7


def test_env_int_reads_a_whole_number_with_surrounding_space(env):
    env("YZ_TEST_INT", " 42 ")
    assert env_int("YZ_TEST_INT", 7) == 42


@pytest.mark.parametrize("value", ["abc", "4.5", "1e3", "0x10", "1_000", "４２"])
def test_env_int_refuses_what_is_not_a_whole_number(env, value):
    env("YZ_TEST_INT", value)
    with pytest.raises(ImproperlyConfigured, match=r"YZ_TEST_INT must be a whole number"):
        env_int("YZ_TEST_INT", 7)


def test_env_int_bounds_are_inclusive(env):
    env("YZ_TEST_INT", "5")
    assert env_int("YZ_TEST_INT", 7, minimum=5, maximum=5) == 5


def test_env_int_below_minimum_is_refused_naming_the_bound(env):
    env("YZ_TEST_INT", "4")
    with pytest.raises(ImproperlyConfigured, match=r"YZ_TEST_INT must be at least 5, got 4"):
        env_int("YZ_TEST_INT", 7, minimum=5)


def test_env_int_above_maximum_is_refused_naming_the_bound(env):
    env("YZ_TEST_INT", "11")
    with pytest.raises(ImproperlyConfigured, match=r"YZ_TEST_INT must be at most 10, got 11"):
        env_int("YZ_TEST_INT", 7, maximum=10)


@pytest.mark.parametrize("value", ["1", "true", "True", "YES", "on", " on "])
def test_env_bool_reads_true_forms(env, value):
    env("YZ_TEST_BOOL", value)
    assert env_bool("YZ_TEST_BOOL", False) is True


@pytest.mark.parametrize("value", ["0", "false", "FALSE", "no", "off", ""])
def test_env_bool_reads_false_forms(env, value):
    env("YZ_TEST_BOOL", value)
    assert env_bool("YZ_TEST_BOOL", True) is False


def test_env_bool_uses_the_default_when_unset(env):
    assert env_bool("YZ_TEST_BOOL", True) is True
    assert env_bool("YZ_TEST_BOOL", False) is False


@pytest.mark.parametrize("value", ["maybe", "2", "y", "enabled"])
def test_env_bool_refuses_anything_else_naming_the_variable(env, value):
    env("YZ_TEST_BOOL", value)
    with pytest.raises(ImproperlyConfigured, match=r"YZ_TEST_BOOL must be a boolean"):
        env_bool("YZ_TEST_BOOL", True)


def test_env_list_splits_on_commas_and_drops_blanks(env):
    env("YZ_TEST_LIST", " a.example.cn, b.example.cn ,,")
    assert env_list("YZ_TEST_LIST", ["x"]) == ["a.example.cn", "b.example.cn"]


def test_env_list_set_but_empty_means_no_items(env):
    env("YZ_TEST_LIST", "")
    assert env_list("YZ_TEST_LIST", ["x"]) == []


def test_env_list_default_is_a_copy(env):
    default = ["x"]
    result = env_list("YZ_TEST_LIST", default)
    result.append("y")
    assert default == ["x"]


def test_file_variant_wins_and_is_stripped(env, tmp_path):
    secret_file = tmp_path / "value"
    secret_file.write_text("  from-file\n", encoding="utf-8")
    env("YZ_TEST_STR", "from-env")
    env("YZ_TEST_STR_FILE", str(secret_file))
    assert env_str("YZ_TEST_STR") == "from-file"
    assert env_required("YZ_TEST_STR") == "from-file"


def test_unreadable_file_variant_is_refused_naming_it(env, tmp_path):
    env("YZ_TEST_STR_FILE", str(tmp_path / "missing"))
    with pytest.raises(ImproperlyConfigured, match=r"YZ_TEST_STR_FILE points at"):
        env_str("YZ_TEST_STR")


def test_env_required_refuses_unset_and_empty(env):
    with pytest.raises(ImproperlyConfigured, match=r"YZ_TEST_STR must be set"):
        env_required("YZ_TEST_STR")
    env("YZ_TEST_STR", "")
    with pytest.raises(ImproperlyConfigured, match=r"YZ_TEST_STR must be set"):
        env_required("YZ_TEST_STR")


@pytest.mark.parametrize("value", ["redis://h:6379/0", "REDIS://h", "unix:///run/redis.sock"])
def test_env_url_accepts_listed_schemes(env, value):
    env("YZ_TEST_URL", value)
    assert env_url("YZ_TEST_URL", None, schemes=("redis", "unix")) == value


@pytest.mark.parametrize("value", ["http://h", "redis:/h", "redis://", "h:6379"])
def test_env_url_refuses_other_schemes_and_non_urls(env, value):
    env("YZ_TEST_URL", value)
    with pytest.raises(ImproperlyConfigured, match=r"YZ_TEST_URL must be a URL starting with one of redis://"):
        env_url("YZ_TEST_URL", None, schemes=("redis",))
