"""Scripts and headers (issue 14): the Content-Security-Policy and the other security headers on
every page, no inline script or handler in any template, no HTML sinks in our own scripts,
`check --deploy` clean with production settings, and what production refuses (the fast test
hasher, the built-in development key, the demo city)."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

ROOT = Path(__file__).resolve().parents[3]
PACKAGE = ROOT / "renzhi"


def directives(header: str) -> dict[str, list[str]]:
    parsed = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            parsed[words[0]] = words[1:]
    return parsed


def production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a production process: DEBUG off, a real key, not under test."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RENZHI_", "DJANGO_"))}
    for name in ("DEBUG", "SECURE_COOKIES", "HTTPS", "SECRET_KEY", "SECURE_PROXY_SSL_HEADER"):
        env.pop(name, None)
    env.update(
        {
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(60),
            "ALLOWED_HOSTS": "renzhi.example.gov.cn",
            "RENZHI_VAR_DIR": str(tmp_path),
            "SQLITE_PATH": str(tmp_path / "db.sqlite3"),
            "LOG_LEVEL": "WARNING",
        }
    )
    env.update(extra)
    return env


def run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    setup = "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'renzhi.settings'; "
    return subprocess.run(
        [sys.executable, "-c", setup + code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


# --- headers on pages -------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_page_carries_a_csp_without_inline_scripts(client):
    response = client.get("/login/")
    assert response.status_code == 200
    policy = directives(response["Content-Security-Policy"])
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval'
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["form-action"] == ["'self'"]
    assert policy["connect-src"] == ["'self'"]
    assert set(policy["img-src"]) == {"'self'", "data:", "blob:"}
    assert "'unsafe-inline'" not in " ".join(policy["script-src"] + policy["default-src"])


@pytest.mark.django_db
def test_pages_and_the_api_carry_the_other_security_headers(client):
    for path in ("/login/", "/api/docs"):
        response = client.get(path)
        features = dict(
            part.strip().split("=", 1) for part in response["Permissions-Policy"].split(",")
        )
        assert features["camera"] == "()" and features["microphone"] == "()", path
        assert features["payment"] == "()" and features["geolocation"] == "(self)", path
        assert response["X-Content-Type-Options"] == "nosniff", path
        assert response["Referrer-Policy"] == "same-origin", path
        assert response["X-Frame-Options"] == "DENY", path


def test_permissions_policy_quotes_other_origins():
    from renzhi.core.middleware import permissions_policy

    assert (
        permissions_policy({"usb": [], "geolocation": ["self", "https://maps.example.cn"]})
        == 'geolocation=(self "https://maps.example.cn"), usb=()'
    )


# --- templates and scripts --------------------------------------------------------------------

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc\s*=)[^>]*>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[a-zA-Z][^>]*\son[a-z]+\s*=", re.IGNORECASE | re.DOTALL)
JS_URL = re.compile(r"""(?:href|src|action)\s*=\s*["']?\s*javascript:""", re.IGNORECASE)
HTML_SINK = re.compile(r"\.(?:innerHTML|outerHTML|insertAdjacentHTML)\b|document\.write")


def templates() -> list[Path]:
    return sorted(p for p in PACKAGE.glob("*/templates/**/*.html"))


def own_scripts() -> list[Path]:
    return sorted(p for p in PACKAGE.glob("*/static/**/*.js") if "vendor" not in p.parts)


def test_no_template_has_an_inline_script_or_event_handler():
    assert len(templates()) > 50
    found = []
    for path in templates():
        text = path.read_text(encoding="utf-8")
        for pattern in (INLINE_SCRIPT, EVENT_HANDLER, JS_URL):
            found += [
                f"{path.relative_to(ROOT)}: {m.group(0)[:80]}" for m in pattern.finditer(text)
            ]
    assert not found, "\n".join(found)


def test_the_template_scan_would_catch_inline_scripts_and_handlers():
    assert INLINE_SCRIPT.search("<script>alert(1)</script>")
    assert INLINE_SCRIPT.search('<script type="module">x()</script>')
    assert not INLINE_SCRIPT.search("<script src=\"{% static 'a.js' %}\"></script>")
    assert EVENT_HANDLER.search('<select name="k" onchange="this.form.submit()">')
    assert EVENT_HANDLER.search('<img\n  src="x" onerror=go()>')
    assert not EVENT_HANDLER.search('<select name="k" data-autosubmit>')
    assert JS_URL.search('<a href="javascript:void(0)">')


def test_our_scripts_never_write_html_strings_into_the_page():
    assert len(own_scripts()) >= 10
    found = []
    for path in own_scripts():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if HTML_SINK.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not found, "\n".join(found)


# --- deployment -------------------------------------------------------------------------------


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    env = production_env(tmp_path, SECURE_COOKIES="1")
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout, result.stdout + result.stderr


def test_https_settings_follow_the_environment(tmp_path):
    show = (
        "django.setup(); from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, "
        "s.SECURE_HSTS_SECONDS, getattr(s, 'SECURE_PROXY_SSL_HEADER', None))"
    )
    plain = run_python(show, production_env(tmp_path))
    assert plain.stdout.split() == ["False", "False", "False", "0", "None"], plain.stderr
    behind_proxy = run_python(
        show,
        production_env(
            tmp_path,
            HTTPS="1",
            SECURE_SSL_REDIRECT="0",
            SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO,https",
        ),
    )
    assert behind_proxy.stdout.strip() == (
        "True True False 31536000 ('HTTP_X_FORWARDED_PROTO', 'https')"
    ), behind_proxy.stderr
    broken = run_python(show, production_env(tmp_path, SECURE_PROXY_SSL_HEADER="X-Proto"))
    assert broken.returncode != 0
    assert "SECURE_PROXY_SSL_HEADER must be" in broken.stderr


def test_it_refuses_the_fast_test_hasher_when_debug_is_off(tmp_path):
    refused = run_python("django.setup()", production_env(tmp_path, RENZHI_FAST_HASHER="1"))
    assert refused.returncode != 0
    assert "RENZHI_FAST_HASHER is for tests and the demo only" in refused.stderr
    show = "django.setup(); from django.conf import settings as s; print(s.PASSWORD_HASHERS[0])"
    development = run_python(show, production_env(tmp_path, RENZHI_FAST_HASHER="1", DEBUG="1"))
    assert development.stdout.strip().endswith("MD5PasswordHasher"), development.stderr
    production = run_python(show, production_env(tmp_path))
    assert "MD5" not in production.stdout and production.returncode == 0, production.stderr


def test_it_refuses_the_built_in_development_key_when_debug_is_off(tmp_path):
    from django.conf import settings

    env = production_env(tmp_path, SECRET_KEY=settings.DEVELOPMENT_SECRET_KEY)
    refused = run_python("django.setup()", env)
    assert refused.returncode != 0
    assert "SECRET_KEY is the built-in development key" in refused.stderr
    allowed = run_python("django.setup(); print('ok')", {**env, "DEBUG": "1"})
    assert allowed.stdout.strip() == "ok", allowed.stderr


@pytest.mark.django_db
def test_demo_city_is_refused_when_debug_is_off(settings, monkeypatch):
    from renzhi.core.models import Place

    settings.DEBUG = False
    settings.TESTING = False
    monkeypatch.delenv("RENZHI_ALLOW_DEMO", raising=False)
    with pytest.raises(CommandError, match="RENZHI_ALLOW_DEMO=1"):
        call_command("demo_city", "--no-appeals")
    assert not Place.objects.exists()


def test_demo_city_is_allowed_with_debug_or_an_explicit_setting(settings, monkeypatch):
    from renzhi.demo.management.commands.demo_city import refuse_in_production

    settings.TESTING = False
    settings.DEBUG = True
    refuse_in_production()
    settings.DEBUG = False
    monkeypatch.setenv("RENZHI_ALLOW_DEMO", "1")
    refuse_in_production()
