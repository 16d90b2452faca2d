"""Every text exists in both languages with the same placeholders, and values are always escaped."""

from __future__ import annotations

import string

from bot import texts
from bot.texts import Html, t


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_both_languages_have_the_same_texts_and_placeholders() -> None:
    assert texts._AR.keys() == texts._EN.keys()
    for key in texts._AR:
        assert _fields(texts._AR[key]) == _fields(texts._EN[key]), key
    assert texts.COMMANDS_AR.keys() == texts.COMMANDS_EN.keys()
    assert all(len(d) <= 256 for d in [*texts.COMMANDS_AR.values(), *texts.COMMANDS_EN.values()])


def test_values_are_escaped_unless_marked_safe() -> None:
    assert t("ar", "no_such_topic", name="<b>x</b> & y") == (
        "لا يوجد موضوع باسم «&lt;b&gt;x&lt;/b&gt; &amp; y». راجع المواضيع في /settings"
    )
    assert "<b>ok</b>" in t("en", "no_such_topic", name=Html("<b>ok</b>"))


def test_language_choice() -> None:
    assert texts.lang_of(None) == texts.lang_of("ar") == texts.lang_of("ar-EG") == "ar"
    assert texts.lang_of("en") == texts.lang_of("fr") == "en"
    assert t("fr-language-code-is-not-a-table", "none") == "لا شيء"
