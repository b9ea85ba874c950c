import pytest

from config import (
    CONFIGS,
    ConfigError,
    DevelopmentConfig,
    ProductionConfig,
    config_from_env,
    normalise_database_url,
    safe_url,
)


@pytest.mark.parametrize(
    "raw",
    [
        "postgres://u:pw@db.example.com:5432/app",
        "postgresql://u:pw@db.example.com:5432/app",
        "postgresql+psycopg2://u:pw@db.example.com:5432/app",
    ],
)
def test_postgres_schemes_are_pinned_to_psycopg2(raw):
    url = normalise_database_url(raw)
    assert url.drivername == "postgresql+psycopg2"
    assert (url.host, url.port, url.database, url.username, url.password) == (
        "db.example.com",
        5432,
        "app",
        "u",
        "pw",
    )


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("not a url", "not a valid database URL"),
        ("postgresql://u:hunter2@host:port/app", "not a valid database URL"),
        ("mysql://u:hunter2@host/app", "must be a PostgreSQL URL"),
        ("postgresql+psycopg://u:hunter2@host/app", "must be a PostgreSQL URL"),
        ("postgresql://u:hunter2@host", "names no database"),
    ],
)
def test_bad_database_urls_are_refused_without_leaking_the_password(raw, message):
    with pytest.raises(ConfigError, match=message) as excinfo:
        normalise_database_url(raw)
    assert "hunter2" not in str(excinfo.value)


def test_safe_url_masks_the_password():
    assert "hunter2" not in safe_url("postgresql://u:hunter2@host/app")
    assert "***" in safe_url("postgresql://u:hunter2@host/app")


def test_database_url_wins_over_the_embedded_default():
    config = DevelopmentConfig({"DATABASE_URL": "postgres://u:pw@h/app"})
    assert config.SQLALCHEMY_DATABASE_URI == "postgresql+psycopg2://u:pw@h/app"


def test_development_without_database_url_leaves_it_to_the_embedded_server():
    assert DevelopmentConfig({}).SQLALCHEMY_DATABASE_URI is None


LONG_SECRET = "a-production-secret-of-at-least-32-bytes"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"DATABASE_URL": "postgres://u:pw@h/app"}, "SECRET_KEY must be set"),
        ({"SECRET_KEY": LONG_SECRET}, "DATABASE_URL must be set"),
        ({"SECRET_KEY": "", "DATABASE_URL": "postgres://u:pw@h/app"}, "SECRET_KEY must be set"),
    ],
)
def test_production_refuses_to_start_without_secrets(environ, message):
    with pytest.raises(ConfigError, match=message):
        ProductionConfig(environ)


def test_production_with_both_secrets_starts():
    config = ProductionConfig({"SECRET_KEY": LONG_SECRET, "DATABASE_URL": "postgres://u:pw@h/app"})
    assert config.SECRET_KEY == LONG_SECRET
    assert config.DEBUG is False


@pytest.mark.parametrize("secret", ["s3cret-hunter2", "x" * 31, "é" * 15])
def test_production_refuses_a_short_secret_key_without_printing_it(secret):
    with pytest.raises(ConfigError, match="SECRET_KEY must be at least 32 bytes") as excinfo:
        ProductionConfig({"SECRET_KEY": secret, "DATABASE_URL": "postgres://u:pw@h/app"})
    assert secret not in str(excinfo.value)
    assert "\n" not in str(excinfo.value)


def test_development_accepts_any_secret_key():
    assert DevelopmentConfig({"SECRET_KEY": "short"}).SECRET_KEY == "short"


def test_token_ttl_comes_from_the_environment():
    assert DevelopmentConfig({}).TOKEN_TTL_SECONDS == 3600
    assert DevelopmentConfig({"TOKEN_TTL_SECONDS": "900"}).TOKEN_TTL_SECONDS == 900


@pytest.mark.parametrize("raw", ["0", "-5", "1h", "9" * 5000, "²"])
def test_bad_token_ttl_is_one_line(raw):
    with pytest.raises(ConfigError, match="TOKEN_TTL_SECONDS must be a positive whole number"):
        DevelopmentConfig({"TOKEN_TTL_SECONDS": raw})


def test_throttling_storage_comes_from_the_environment():
    assert DevelopmentConfig({}).RATELIMIT_STORAGE_URI == "memory://"
    config = DevelopmentConfig({"RATELIMIT_STORAGE_URI": "redis://cache:6379/0"})
    assert config.RATELIMIT_STORAGE_URI == "redis://cache:6379/0"


def test_app_env_chooses_the_config_class():
    assert config_from_env({"APP_ENV": "testing"}).TESTING is True
    assert config_from_env({}).ENV_NAME == "development"
    with pytest.raises(ConfigError, match="APP_ENV='staging' is not one of"):
        config_from_env({"APP_ENV": "staging"})


def test_development_secret_is_random_not_a_fixed_default():
    assert DevelopmentConfig({}).SECRET_KEY != DevelopmentConfig({}).SECRET_KEY


@pytest.mark.parametrize(
    ("env_name", "prefix"),
    [
        ("development", "scrypt:32768:8:1$"),
        ("production", "scrypt:32768:8:1$"),
        ("testing", "scrypt:1024:8:1$"),
    ],
)
def test_passwords_hash_at_full_strength_outside_the_tests(env_name, prefix):
    from werkzeug.security import check_password_hash

    from app import create_app
    from app.api.auth import hash_password

    config = CONFIGS[env_name]({"DATABASE_URL": "postgresql://app@localhost/app", "SECRET_KEY": "k" * 32})
    with create_app(config).app_context():
        hashed = hash_password("correct horse")
    assert hashed.startswith(prefix)
    assert check_password_hash(hashed, "correct horse") and not check_password_hash(hashed, "wrong")


def test_production_with_a_short_secret_key_exits_with_one_line():
    from tests.support.cli_helpers import assert_clean_failure, flask

    result = flask(
        "db",
        "current",
        database_url="postgresql://app:pw@db/app",
        APP_ENV="production",
        SECRET_KEY="hunter2-short",
    )
    assert_clean_failure(
        result,
        line="configuration error: SECRET_KEY must be at least 32 bytes when APP_ENV=production (it has 13); "
        "generate one with python -c 'import secrets; print(secrets.token_urlsafe(32))'",
        code=1,
        secret="hunter2-short",
    )
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
