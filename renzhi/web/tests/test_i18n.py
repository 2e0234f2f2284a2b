"""The catalogues: zh-Hans complete and current, English falls back to msgids, pages switch."""

import gettext
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation
from django.utils.translation.template import templatize

from renzhi.web.tests.pofile import read_po

ROOT = Path(settings.BASE_DIR)
LOCALE = ROOT / "renzhi" / "locale"
ZH_PO = LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.po"
# The project catalogue plus each app's own (renzhi/<app>/locale), which Django also loads.
CATALOGUES = [LOCALE, *sorted((ROOT / "renzhi").glob("*/locale"))]
ZH_POS = [c / "zh_Hans" / "LC_MESSAGES" / "django.po" for c in CATALOGUES]
# Same directories makemessages skips (Makefile target `messages` / README).
SKIP_DIRS = {
    ".venv",
    "bench",
    "node_modules",
    "var",
    "staticfiles",
    "media",
    "__pycache__",
    "screenshots",
    "build",
}
XGETTEXT_KEYWORDS = [
    "gettext_noop",
    "gettext_lazy",
    "ngettext_lazy:1,2",
    "pgettext:1c,2",
    "npgettext:1c,2,3",
    "pgettext_lazy:1c,2",
    "npgettext_lazy:1c,2,3",
]
REGENERATE = (
    "run `manage.py makemessages -l zh_Hans -l en --ignore=.venv --ignore=bench`, "
    "translate, then `manage.py compilemessages`"
)


def test_the_project_catalogue_is_the_big_one():
    assert len(read_po(ZH_PO)) > 300


@pytest.mark.parametrize("zh_po", ZH_POS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_chinese_msgid_is_translated_and_not_fuzzy(zh_po):
    entries = read_po(zh_po)
    untranslated = [e.msgid for e in entries if not e.translated]
    fuzzy = [e.msgid for e in entries if e.fuzzy]
    assert not untranslated, f"untranslated in {zh_po}: {untranslated}"
    assert not fuzzy, f"fuzzy in {zh_po}: {fuzzy}"


@pytest.mark.parametrize("zh_po", ZH_POS, ids=lambda p: str(p.relative_to(ROOT)))
def test_english_catalogue_has_the_same_msgids(zh_po):
    en_po = Path(str(zh_po).replace("/zh_Hans/", "/en/"))
    assert {e.key for e in read_po(en_po)} == {e.key for e in read_po(zh_po)}


@pytest.mark.parametrize("zh_po", ZH_POS, ids=lambda p: str(p.relative_to(ROOT)))
def test_compiled_chinese_catalogue_matches_the_po_file(zh_po):
    with zh_po.with_suffix(".mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = []
    for e in read_po(zh_po):
        if e.msgid_plural:
            got = compiled.ngettext(e.msgid, e.msgid_plural, 1)
        elif e.msgctxt is not None:
            got = compiled.pgettext(e.msgctxt, e.msgid)
        else:
            got = compiled.gettext(e.msgid)
        if got != e.msgstr[0]:
            stale.append(e.msgid)
    assert not stale, f"django.mo is older than django.po for {stale[:10]}: {REGENERATE}"


@pytest.mark.skipif(not shutil.which("msgfmt"), reason="gettext tools not installed")
@pytest.mark.parametrize("zh_po", ZH_POS, ids=lambda p: str(p.relative_to(ROOT)))
def test_placeholders_agree_between_msgid_and_translation(zh_po):
    result = subprocess.run(
        ["msgfmt", "--check-format", "-o", "/dev/null", str(zh_po)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.skipif(not shutil.which("xgettext"), reason="gettext tools not installed")
def test_catalogue_holds_every_string_in_the_source(tmp_path):
    """What makemessages would extract today must already be in the catalogue."""
    sources = []
    for path in sorted(ROOT.rglob("*")):
        rel = path.relative_to(ROOT)
        if any(part in SKIP_DIRS or part.startswith(".") for part in rel.parts[:-1]):
            continue
        if path.suffix == ".py":
            sources.append(path)
        elif path.suffix in {".html", ".txt"} and "templates" in rel.parts:
            target = tmp_path / (str(rel).replace("/", "__") + ".py")
            target.write_text(
                templatize(path.read_text(encoding="utf-8"), origin=str(path)), encoding="utf-8"
            )
            sources.append(target)
    listing = tmp_path / "files.txt"
    listing.write_text("\n".join(str(s) for s in sources))
    pot = tmp_path / "django.pot"
    subprocess.run(
        [
            "xgettext",
            "-d",
            "django",
            "--language=Python",
            "--from-code=UTF-8",
            *[f"--keyword={k}" for k in XGETTEXT_KEYWORDS],
            f"--files-from={listing}",
            f"--output={pot}",
        ],
        check=True,
        capture_output=True,
    )
    extracted = {e.key for e in read_po(pot)}
    catalogued = {e.key for po in ZH_POS for e in read_po(po)}
    missing = sorted(extracted - catalogued, key=str)
    assert not missing, (
        f"{len(missing)} strings are not in the catalogue, e.g. {missing[:5]}: {REGENERATE}"
    )


@pytest.mark.parametrize(
    "msgid, chinese",
    [
        ("Grid", "网格"),
        ("Community", "社区"),
        ("Street", "街道"),
        ("District", "区"),
        ("Street dispatcher", "街道派单员"),
        ("Unit handler", "承办单位人员"),
        ("Leader", "领导"),
        ("Grid worker", "网格员"),
        ("Community staff", "社区工作者"),
        ("Resident", "居民"),
        ("System administrator", "系统管理员"),
        ("This location is outside the service area.", "该位置不在服务区域内。"),
    ],
)
def test_glossary_terms_translate_as_in_design(msgid, chinese):
    with translation.override("zh-hans"):
        assert translation.gettext(msgid) == chinese
    with translation.override("en"):
        assert translation.gettext(msgid) == msgid


def test_chinese_is_the_default_and_accept_language_is_honoured(world, client):
    client.force_login(world.alice)
    assert "首页" in client.get("/").content.decode()
    body = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "您好，Alice" in body and "地点" in body
    body = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Hello, Alice" in body


def test_the_language_cookie_switches_the_ui_to_english(world, client):
    client.force_login(world.alice)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    body = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert '<html lang="en">' in body
    assert "Hello, Alice" in body and "Places" in body and "Sign out" in body
    assert "首页" not in body


def test_the_language_switch_sets_the_cookie(world, client):
    client.force_login(world.alice)
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/places/"})
    assert response["Location"] == "/places/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert "Locate a point" in client.get("/places/").content.decode()


def test_action_errors_follow_the_language(world, client):
    client.force_login(world.root)
    payload = {"username": "hank", "password": "abcdefgh", "role": "", "place": "", "unit": ""}
    body = client.post("/users/new/", payload).content.decode()
    assert "密码必须同时包含字母和数字。" in body
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    body = client.post("/users/new/", payload).content.decode()
    assert "The password must contain both letters and digits." in body


def test_no_msgid_is_translated_two_ways():
    """Django merges every catalogue into one: the project's wins, then apps in INSTALLED_APPS
    order. A msgid two catalogues translate differently therefore shows the winner's words on
    the loser's pages (a vote's "Resolved" as 已办结). Give such a msgid a context
    (`pgettext("commons", "Resolved")`) or the same translation."""
    seen: dict = {}
    for po in ZH_POS:
        for e in read_po(po):
            if e.msgid:
                seen.setdefault(e.key, {}).setdefault(e.msgstr[0], []).append(po.parts[-5])
    clashes = {key: found for key, found in seen.items() if len(found) > 1}
    assert not clashes, (
        f"{len(clashes)} msgids translated differently, e.g. {list(clashes.items())[:5]}"
    )
