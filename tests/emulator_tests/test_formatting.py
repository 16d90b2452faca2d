"""Telegram's HTML parse mode and text rules, as the emulator applies them (no HTTP involved)."""

from __future__ import annotations

import pytest

from tests.emulator.entities import finalize, find_entities
from tests.emulator.html import EntityParseError, check_link, parse_html, utf16_len


def test_supported_tags_become_entities_in_creation_order() -> None:
    text, entities = parse_html("<b>عاجل</b> <i>it</i> <u>u</u> <s>s</s> <tg-spoiler>x</tg-spoiler>")
    assert text == "عاجل it u s x"
    assert [(e["type"], e["offset"], e["length"]) for e in entities] == [
        ("bold", 0, 4),
        ("italic", 5, 2),
        ("underline", 8, 1),
        ("strikethrough", 10, 1),
        ("spoiler", 12, 1),
    ]


@pytest.mark.parametrize(
    ("html", "entity"),
    [
        ("<strong>x</strong>", {"type": "bold", "offset": 0, "length": 1}),
        ("<em>x</em>", {"type": "italic", "offset": 0, "length": 1}),
        ("<ins>x</ins>", {"type": "underline", "offset": 0, "length": 1}),
        ("<del>x</del>", {"type": "strikethrough", "offset": 0, "length": 1}),
        ("<strike>x</strike>", {"type": "strikethrough", "offset": 0, "length": 1}),
        ('<span class="tg-spoiler">x</span>', {"type": "spoiler", "offset": 0, "length": 1}),
        ("<code>x</code>", {"type": "code", "offset": 0, "length": 1}),
        ("<pre>x</pre>", {"type": "pre", "offset": 0, "length": 1}),
        (
            '<pre><code class="language-python">x</code></pre>',
            {"type": "pre", "offset": 0, "length": 1, "language": "python"},
        ),
        ("<blockquote>x</blockquote>", {"type": "blockquote", "offset": 0, "length": 1}),
        (
            "<blockquote expandable>x</blockquote>",
            {"type": "expandable_blockquote", "offset": 0, "length": 1},
        ),
        (
            '<a href="https://example.com/خبر">x</a>',
            {"type": "text_link", "offset": 0, "length": 1, "url": "https://example.com/خبر"},
        ),
        (
            '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>',
            {"type": "custom_emoji", "offset": 0, "length": 2, "custom_emoji_id": "5368324170671202286"},
        ),
        (
            '<tg-time unix="1700000000" format="wDT">x</tg-time>',
            {
                "type": "date_time",
                "offset": 0,
                "length": 1,
                "unix_time": 1700000000,
                "date_time_format": "wDT",
            },
        ),
    ],
)
def test_each_supported_tag(html: str, entity: dict[str, object]) -> None:
    assert parse_html(html)[1] == [entity]


@pytest.mark.parametrize(
    ("html", "error"),
    [
        ("مرحبا <div>x</div>", 'Unsupported start tag "div" at byte offset 11'),
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("<br/>", 'Unsupported start tag "br/" at byte offset 0'),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b", "Unclosed start tag at byte offset 0"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ('<a href="x"', "Unclosed start tag at byte offset 0"),
    ],
)
def test_invalid_html_is_refused_with_telegrams_text(html: str, error: str) -> None:
    with pytest.raises(EntityParseError) as caught:
        parse_html(html)
    assert str(caught.value) == error


def test_only_telegrams_character_references_are_decoded() -> None:
    text, _ = parse_html("&lt;b&gt; &amp; &quot; &#1605; &#x41; &nbsp; & alone")
    assert text == '<b> & " م A &nbsp; & alone'


def test_offsets_and_lengths_count_utf16_code_units() -> None:
    text, entities = parse_html("😀 <b>خبر 😀</b>")
    assert text == "😀 خبر 😀"
    assert entities == [{"type": "bold", "offset": 3, "length": 6}]
    assert utf16_len(text) == 9 and len(text) == 7


def test_empty_elements_make_no_entity() -> None:
    assert parse_html("a<b></b>c") == ("ac", [])


def test_invalid_links_are_dropped_silently_and_bare_domains_get_a_scheme() -> None:
    assert parse_html('<a href="not a link">x</a>')[1] == []
    assert check_link("example.com/a") == "http://example.com/a"
    assert check_link("javascript:alert(1)") is None


def test_text_mention_for_known_users_only() -> None:
    known = {"id": 5, "is_bot": False, "first_name": "Amal"}
    _, entities = parse_html('<a href="tg://user?id=5">Amal</a>', lambda uid: known if uid == 5 else None)
    assert entities == [{"type": "text_mention", "offset": 0, "length": 4, "user": known}]
    assert parse_html('<a href="tg://user?id=6">x</a>', lambda uid: None)[1] == []


def test_finalize_trims_and_moves_entities() -> None:
    text, entities = finalize(*parse_html("\n  <b>عاجل</b> \n"))
    assert text == "عاجل"
    assert entities == [{"type": "bold", "offset": 0, "length": 4}]


def test_finalize_keeps_formatting_around_code_and_drops_it_inside() -> None:
    _, around = finalize(*parse_html("<b>a <code>x</code></b>"))
    assert [e["type"] for e in around] == ["bold", "code"]
    _, inside = finalize(*parse_html("<code>a <b>x</b></code>"))
    assert [e["type"] for e in inside] == ["code"]


def test_detects_commands_urls_mentions_hashtags() -> None:
    text = "/start@NashraTestBot hi https://example.com. @someone #أخبار mail@example.org"
    found = [(e["type"], text[e["offset"] : e["offset"] + e["length"]]) for e in find_entities(text)]
    assert found == [
        ("bot_command", "/start@NashraTestBot"),
        ("url", "https://example.com"),
        ("mention", "@someone"),
        ("hashtag", "#أخبار"),
        ("email", "mail@example.org"),
    ]


def test_detected_entities_do_not_overlap_links_or_code() -> None:
    _, entities = finalize(*parse_html('<a href="https://a.example">https://b.example</a> <code>/x</code>'))
    assert [e["type"] for e in entities] == ["text_link", "code"]
