"""Turn feed HTML into the plain Arabic text readers see: markup out, site boilerplate out.

Four steps, each usable alone and each tuned for precision (dropping a real sentence is worse than
keeping a stray «اقرأ أيضا» line):

- ``html_to_text``: markup → text with one paragraph per line; scripts, styles and captions dropped.
- ``clean_title``: a headline for display and fingerprints, without «عاجل:»-style prefixes.
- ``strip_dateline``: the agency/place dateline before the lead («لندن - (رويترز) -») removed.
- ``clean_body``: whole boilerplate lines removed («اقرأ أيضا», share bars, photo credits, copyright).

The patterns come from the feeds of Al Arabiya, BBC Arabic, CNN Arabic, France 24 Arabic and Sky News
Arabia (ANT corpus). Nothing here normalizes letters for matching (that is ``news.arabic``), and
nothing here escapes for Telegram (that is the renderer's job): output is plain, unescaped text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from html.parser import HTMLParser

# --------------------------------------------------------------------------------------------------
# HTML → text
# --------------------------------------------------------------------------------------------------

# Elements whose text is never article prose: code, embeds, forms, captions and page furniture.
_SKIP_TAGS = frozenset(
    {
        "script", "style", "noscript", "template", "head", "title", "figcaption", "iframe", "object",
        "svg", "math", "button", "select", "textarea", "nav", "footer", "aside", "video", "audio",
        "picture", "form",
    }
)  # fmt: skip
# Elements that end a paragraph: their boundaries become line breaks.
_BLOCK_TAGS = frozenset(
    {
        "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "tr",
        "table", "section", "article", "header", "pre", "hr", "dd", "dt", "dl", "figure", "main",
    }
)  # fmt: skip
_VOID_TAGS = frozenset({"br", "hr", "img", "input", "meta", "link", "source", "embed", "wbr", "area", "col"})
_LOOKS_LIKE_HTML = re.compile(r"<(?:[a-zA-Z][a-zA-Z0-9]*\b[^<>]*|/[a-zA-Z][a-zA-Z0-9]*\s*|!--[\s\S]*?--)>")
# No-break and odd spaces become plain spaces; zero-width space and BOM disappear. ZWNJ/ZWJ and the
# bidi marks are kept: they are part of how some Arabic and Persian words are written.
_ODD_SPACES = "\t\f\v\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000"
# Every run of spaces (plain and odd) becomes one plain space; replacing only a run of two or more, or a
# lone odd space, gives the same text without touching the single plain spaces (every sixth character
# of Arabic prose), which made the substitution the costliest step of cleaning.
_SPACES_TO_FOLD = re.compile(f"[ {_ODD_SPACES}]{{2,}}|[{_ODD_SPACES}]")
_ZERO_WIDTH = re.compile("[\u200b\ufeff]")
_RESIDUAL_ENTITY = re.compile(r"&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z]{2,8});")


class _TextExtractor(HTMLParser):
    """Collect text; block boundaries become newlines, skipped subtrees contribute nothing."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skip_depth += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag in _BLOCK_TAGS and tag not in _VOID_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip_depth:
            # Inside HTML a newline is just white space; paragraphs come from the tags.
            self.parts.append(data.replace("\r", " ").replace("\n", " "))


def _tidy_lines(text: str) -> str:
    # ``_SPACES_TO_FOLD`` holds no line break, so one substitution over the whole text equals one per line.
    if "\u200b" in text or "\ufeff" in text:
        text = _ZERO_WIDTH.sub("", text)
    text = _SPACES_TO_FOLD.sub(" ", text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = (line.strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def html_to_text(markup: str) -> str:
    """Plain text of an HTML fragment: one paragraph per line, entities decoded, spaces collapsed.

    Text without any tag is taken as plain text whose newlines already separate paragraphs. Script,
    style, figure captions, embeds and navigation are dropped; ``img`` alt text never appears. This does
    not remove site boilerplate lines (``clean_body``) nor datelines (``strip_dateline``).
    """
    if not markup:
        return ""
    if not _LOOKS_LIKE_HTML.search(markup):
        return _tidy_lines(html.unescape(markup))
    parser = _TextExtractor()
    parser.feed(markup)
    parser.close()
    return _tidy_lines("".join(parser.parts))


# --------------------------------------------------------------------------------------------------
# Titles
# --------------------------------------------------------------------------------------------------

_SEP = r"(?:\s*(?:[:：|｜/\\\-–—•>]+|\.{2,}|…+|،)\s*)"
# Labels that tell how a story is packaged, not what it says. «رأي:», «تقرير:» and country prefixes
# («سوريا:») carry meaning and stay.
_PREFIX_WORDS = (
    r"عاجل(?:\s+جدا)?|خاص|حصري(?:اً|ًا|ا)?|شاهد(?:وا)?|بالفيديو(?:\s+و\s*الصور)?|بالصور(?:\s+و\s*الفيديو)?"
    r"|بالصورة|فيديو|صور|صورة|بث\s+مباشر|مباشر|[إا]نفو[غجك]راف(?:يك)?|ريبورتاج|تحديث"
)
_TITLE_PREFIX = re.compile(
    rf"^\s*[\[(«\"]?\s*(?:{_PREFIX_WORDS})\s*[\])»\"]?{_SEP}"
    # «[عاجل] …», «(فيديو) …»: brackets are separator enough.
    rf"|^\s*[\[(«]\s*(?:{_PREFIX_WORDS})\s*[\])»]{_SEP}?\s*"
    # «بالفيديو» and «بالصور» are never the start of a real sentence, so they go even without a separator.
    r"|^\s*(?:بالفيديو|بالصور)\s+"
)
_TITLE_MEDIA_SUFFIX = re.compile(
    r"\s*[\[(]\s*(?:فيديو|صور|صورة|بالصور|بالفيديو|شاهد|فيديو\s*و\s*صور|صور\s*و\s*فيديو|فيديو\s*\+\s*صور)\s*[\])]\s*$"
)
_OUTLET_NAMES = (
    r"العربية\.نت|العربية نت|الحدث\.نت|قناة العربية|سكاي نيوز عربية|Sky News Arabia|فرانس\s?24|France\s?24"
    r"|بي\s?بي\s?سي(?: عربي| العربية)?|BBC(?: News)?(?: عربي| Arabic)?|CNN(?: بالعربية| Arabic)?"
)
_TITLE_OUTLET_SUFFIX = re.compile(rf"\s+[|\-–—]\s*(?:{_OUTLET_NAMES})\s*$")
_HAS_LETTER = re.compile(r"[^\W\d_]")


def clean_title(text: str) -> str:
    """Display headline: tags stripped, entities decoded, one line, packaging prefixes removed.

    Removes «عاجل:», «عاجل |», «بالفيديو..», «شاهد:», «خاص:», «فيديو:», «إنفوغرافيك..» and the like at the
    start (repeatedly: «عاجل: بالفيديو.. X» → «X»), a «(فيديو)»/«(صور)» label at the end and a trailing
    « - سكاي نيوز عربية»-style outlet name. A title that is nothing but such a label keeps its text, so
    «عاجل» stays «عاجل». «شاهد» starting a sentence («شاهد لحظة ...») is not a label and stays.
    """
    text = html_to_text(text)
    if _RESIDUAL_ENTITY.search(text) or _LOOKS_LIKE_HTML.search(text):
        # Double-escaped titles («&amp;quot;», «&amp;lt;b&amp;gt;») are common in hand-built feeds:
        # what is still markup or an entity after one pass gets a second one.
        text = html_to_text(text if _LOOKS_LIKE_HTML.search(text) else html.unescape(text))
    text = " ".join(text.split())
    for _ in range(4):
        stripped = _TITLE_PREFIX.sub("", text, count=1)
        stripped = _TITLE_MEDIA_SUFFIX.sub("", stripped)
        stripped = _TITLE_OUTLET_SUFFIX.sub("", stripped).strip()
        if stripped == text or not _HAS_LETTER.search(stripped):
            break
        text = stripped
    return text


# --------------------------------------------------------------------------------------------------
# Datelines
# --------------------------------------------------------------------------------------------------

_DASH = r"(?:-{1,3}|[–—]{1,2}|ـ(?=\s))"
# News agencies and outlets that appear inside a dateline's parentheses: «(رويترز)», «(أ ف ب)», «(CNN)».
_AGENCIES = (
    r"CNN|CNC|رويترز|Reuters|AFP|AP|أ\s?ف\s?ب|ا\s?ف\s?ب|أ\.ف\.ب|فرانس\s?برس|أ\s?ب|د\s?ب\s?[أا]|د\.ب\.[أا]"
    r"|الأناضول|الاناضول|واس|وام|سانا|قنا|كونا|بنا|[أا]\s?ش\s?[أا]|[إا]في|شينخوا|سبوتنيك|الألمانية|الفرنسية"
    r"|بترا|العمانية|وكالات|خاص(?:\s[^()]{1,40})?|" + _OUTLET_NAMES
)
# A place (and optional date) before the marker: a few words, no sentence punctuation, no dash.
_WORD = r"[^\s()\-–—:؛.!?؟\"«»،,]+"
_PLACE = rf"{_WORD}(?:(?:\s*[،,]\s*|\s+){_WORD}){{0,6}}"
_LEAD_JUNK = "\u200b\u200e\u200f\ufeff\u202a\u202b\u202c\u00a0 \t"

# «القاهرة (خاص عن مصر)-», «واشنطن (أ ف ب) -», «(CNN)--», «لندن - (رويترز) -» : marker then a dash.
_DATELINE_PAREN_DASH = re.compile(
    rf"^(?:{_PLACE}\s*[،,]?\s*{_DASH}?\s*)?\(\s*(?:{_AGENCIES})\s*\)\s*\.?\s*(?:{_DASH}|:)\s*(?:{_DASH}\s*)?"
)
# «دبي، الإمارات العربية المتحدة - (CNN) يستمر ...»: a dash before the marker and none after it.
_DATELINE_DASH_PAREN = re.compile(rf"^(?:{_PLACE}\s*{_DASH}\s*|)\(\s*(?:{_AGENCIES})\s*\)\s*")
# «دبي - العربية.نت», «بيروت – سكاي نيوز عربية», «أبوظبي - سكاي نيوز عربية -»: place, dash, outlet.
_DATELINE_OUTLET = re.compile(rf"^{_PLACE}\s*{_DASH}\s*(?:{_OUTLET_NAMES})(?:\s*(?:{_DASH}|:)\s*|\s*$|\s+)")
# «العربية.نت - ...»: an outlet alone needs the dash after it.
_DATELINE_OUTLET_ONLY = re.compile(rf"^(?:{_OUTLET_NAMES})\s*(?:{_DASH}|:)\s*")
# CNN-style «دبي، الإمارات العربية المتحدة -» without a marker: only for well-known dateline cities.
_CITIES = (
    r"القاهرة|الإسكندرية|دبي|أبوظبي|أبو ظبي|الرياض|جدة|الدوحة|الكويت|المنامة|مسقط|عمان|عمّان|بيروت|دمشق|بغداد"
    r"|أربيل|البصرة|الموصل|صنعاء|عدن|القدس|رام الله|غزة|تل أبيب|عمان|الخرطوم|طرابلس|بنغازي|تونس|الجزائر"
    r"|الرباط|الدار البيضاء|نواكشوط|أنقرة|إسطنبول|اسطنبول|طهران|كابول|إسلام آباد|نيودلهي|موسكو|كييف|لندن"
    r"|باريس|برلين|روما|مدريد|بروكسل|جنيف|فيينا|أثينا|واشنطن|نيويورك|أتلانتا|اتلانتا|بكين|طوكيو|سيؤول"
    r"|بيونغ يانغ|هونغ كونغ|هونج كونج|سيدني|أوتاوا|نيقوسيا|ستوكهولم|أمستردام|لاهاي|هافانا|كراكاس|مكسيكو"
)
_DATELINE_CITY = re.compile(rf"^(?:{_CITIES})(?:\s*[،,]\s*{_WORD}(?:\s+{_WORD}){{0,3}})?\s*{_DASH}\s+")
# «لندن (الشرق الأوسط) -»: a source we do not know, in parentheses after a well-known dateline city.
_DATELINE_CITY_SOURCE = re.compile(rf"^(?:{_CITIES})\s*\(\s*[^()\d]{{2,30}}\)\s*{_DASH}\s*")
# «أتلانتا، الولايات المتحدة الأمريكية (CNN) بعد تحذير ...»: known city, agency, no dash at all.
_DATELINE_CITY_AGENCY = re.compile(
    rf"^(?:{_CITIES})(?:\s*[،,]\s*{_WORD}(?:\s+{_WORD}){{0,3}})?\s*[،,]?\s*\(\s*(?:{_AGENCIES})\s*\)\s*"
)
_MAX_DATELINE = 90

_DATELINES = (
    _DATELINE_PAREN_DASH,
    _DATELINE_DASH_PAREN,
    _DATELINE_OUTLET,
    _DATELINE_OUTLET_ONLY,
    _DATELINE_CITY_AGENCY,
    _DATELINE_CITY_SOURCE,
    _DATELINE_CITY,
)


# Every dateline above holds a dash, a parenthesis or a colon; most leads hold none in their first
# ``_MAX_DATELINE`` characters, and one search then spares them the seven patterns.
_DATELINE_MARK = re.compile(r"[(:\-–—ـ]")


def _match_dateline(line: str) -> int:
    """Length of the dateline at the start of ``line`` (0 when there is none)."""
    if not _DATELINE_MARK.search(line, 0, _MAX_DATELINE):
        return 0
    for pattern in _DATELINES:
        m = pattern.match(line)
        if m and 0 < m.end() <= _MAX_DATELINE:
            return m.end()
    return 0


def strip_dateline(text: str) -> str:
    """Remove a leading dateline from the lead paragraph, keeping everything after it.

    Recognized: a place (and date) with an agency or outlet marker — «واشنطن (أ ف ب) -»,
    «القاهرة (خاص عن مصر)-», «(CNN)--», «لندن - (رويترز) -», «دبي - العربية.نت»,
    «بيروت – سكاي نيوز عربية» — and «مدينة، بلد -» for well-known dateline cities. A lead that merely
    contains a dash («أصبح الملياردير باتريك سون-شيونغ ...», «قبل أربعة أعوام – ...») or a source in
    the middle of a sentence («قال مصدر لوكالة (رويترز) إن») is left alone. Only the first non-empty line
    is examined; a line that was nothing but the dateline is dropped.
    """
    lines = text.split("\n")
    for i, raw in enumerate(lines):
        line = raw.lstrip(_LEAD_JUNK)
        if not line.strip():
            continue
        cut = _match_dateline(line)
        if not cut:
            return text
        rest = line[cut:].strip()
        if rest:
            lines[i] = rest
        else:
            del lines[i]
        return "\n".join(lines).strip("\n")
    return text


# --------------------------------------------------------------------------------------------------
# Boilerplate lines
# --------------------------------------------------------------------------------------------------

_READ = r"[اأإآ]قر[أاإ]"  # اقرأ، إقرأ، أقرا، اقرا (editors spell the hamza every way)
_ALSO = r"(?:[أاإ]يض(?:[اً]|ًا|اً|ا|ً)+|كذلك)"
_TAIL = r"(?:\s*(?:[:：|/\-–—»…]+|\.{2,}|،))"
# «اقرأ أيضاً:» alone on its line: a list of related headlines follows it.
_READ_ALSO_HEADER = re.compile(rf"^{_READ}\s+{_ALSO}{_TAIL}?\s*$")
_LINK_LINE_STARTS = (
    # «اقرأ أيضا: …», «أقرا أيضا.. …», «إقرأ أيضا …», «اقرأ: …», «اقرأ.. …», «اقرأ مدونة بي بي سي: …»
    rf"{_READ}(?:\s+{_ALSO}{_TAIL}?|{_TAIL}|\s+(?:المزيد|أكثر|اكثر|المقال|مدونة|التقرير|القصة|الخبر)\b)",
    rf"{_ALSO}\s*(?:\.{{2,}}|:)",  # CNN's second link line: «أيضاً.. ما هي …»
    rf"شاهد(?:وا)?\s+(?:{_ALSO}|المزيد)",
    r"شاهد(?:وا)?\s*(?::|\.{2,}|\|)",
    r"قد\s+يهمك",
    r"ننصحك\s+ب",
    r"للمزيد(?:\s+من\s+\S+)?\s*(?::|-|–|\.{2,}|\|)",
    r"للمزيد\s+(?:اضغط|انقر|تابع|اقرأ|طالع)",
    r"(?:لمتابعة|لمشاهدة|لقراءة|للاطلاع|لتحميل|للاستماع|لمزيد)\b.*(?:اضغط|انقر|إضغط|اضغطوا|انقروا)",
    r"(?:اضغط|انقر|إضغط)\s+هنا\b",
    r"تابعونا\b|تابعوا\s+(?:\S+\s+){0,4}(?:على|عبر)\s+(?:تويتر|فيسبوك|فيس\s?بوك|إنستغرام|انستغرام|يوتيوب|تلغرام|تيليغرام|واتساب|حساب|صفحة|قناة|منصة)",
    r"(?:حمّل|حمل|نزّل|نزل)\s+تطبيق",
    r"يمكنكم\s+(?:استلام|تسلم|تسلّم)\s+إشعارات",
    r"ظهرت\s+المقالة\s.+\sأولاً?\s+على\s",
)
_LINK_LINE = re.compile(r"^[\s•·*►▪◄>»«\-–]*(?:" + "|".join(_LINK_LINE_STARTS) + r")")
_MAX_LINK_LINE = 250

# «التحليل بقلم المحرر الرئيسي بـ CNN، كريس سيليزا», «بقلم: …»: a byline alone on its line.
_BYLINE = re.compile(r"^(?:(?:المقال|التحليل|التقرير|مقال|تحليل|تقرير)\s+)?بقلم\s*:?\s*[^.!؟?]{2,80}$")
_SOURCE_LINE = re.compile(
    r"^\*?\s*(?:المصدر|المصادر|مصدر الخبر)\s*:\s*\S.{0,60}$|^\*+\s*نقلا?ً?\s+عن\s.{1,80}$"
)
_COPYRIGHT = re.compile(
    r"جميع\s+الحقوق\s+محفوظة|حقوق\s+(?:النشر|الطبع|الملكية)\s+محفوظة|©|\(c\)\s*\d{4}|^copyright\b"
    r"|copyright\s*(?:\(c\)|\d{4})|all\s+rights\s+reserved",
    re.IGNORECASE,
)
_DISCLAIMER = re.compile(
    r"(?:جميع\s+)?المقالات\s+المنشورة\s+تمثل\s+رأي|لا\s+[تي]عكس\s+بالضرورة\s+(?:وجهة\s+نظر|رأي|موقف)"
)
# Words every match of ``_COPYRIGHT`` / ``_DISCLAIMER`` contains: a line without them is not searched
# with the many-branched patterns (most lines, and the cost of those searches on every line).
_COPYRIGHT_WORDS = re.compile(r"حقوق|©|\(c\)|copyright|rights", re.IGNORECASE)
_DISCLAIMER_WORDS = re.compile("تمثل|بالضرورة")


_PHOTO_LABEL = re.compile(
    r"^[\[(]?\s*(?:صورة|الصورة|صور|تصوير|الصور)\s*(?::|\|)"  # «(صورة: …)», «تصوير: …»
    r"|^[\[(]?\s*(?:الصورة|الصور)\s+(?:من|عن|لـ?|نقلا|بعدسة)\s"  # «الصورة من …»
    r"|^[\[(]?\s*(?:مصدر|حقوق|المصدر)\s+الصورة|^التعليق\s+على\s+الصورة|^صورة\s+[أا]رشيفية"
    r"|^(?:Image|Photo)\s*(?:copyright|caption|credit|source|:)",
    re.IGNORECASE,
)
_CREDIT = (
    r"(?:Getty\s*Images?|Getty|AFP(?:\s+via\s+Getty\s+Images)?|EPA(?:-EFE)?|Reuters|AP(?:\s+Photo)?"
    r"|Shutterstock|Anadolu(?:\s+Agency)?)"
)
_PHOTO_CREDIT_END = re.compile(
    rf"(?:[\[(]\s*{_CREDIT}[^\])]*[\])]|[-–—|/]\s*{_CREDIT})\s*\.?$", re.IGNORECASE
)
_CREDIT_ONLY = re.compile(rf"^[\[(]?\s*{_CREDIT}\s*[\])]?$", re.IGNORECASE)
_MAX_CAPTION = 200

_SOCIAL_TOKENS = re.compile(
    r"فيسبوك|فيس\s?بوك|تويتر|واتساب|واتس\s?اب|تلغرام|تيليغرام|تليجرام|إنستغرام|انستغرام|إنستجرام|لينكد\s?إن|يوتيوب"
    r"|البريد\s+الإلكتروني|مشاركة|شارك(?:\s+(?:عبر|على|الخبر|المقال))?|أرسل\s+لصديق|طباعة|نسخ\s+الرابط"
    r"|facebook|twitter|whatsapp|telegram|linkedin|pinterest|e-?mail|share|print|copy\s+link|messenger",
    re.IGNORECASE,
)
_SOCIAL_FILLER = re.compile(r"[\s\W_]+")
_PUNCT_ONLY = re.compile(r"^[\W_]+$")
_MAX_HEADLINE = 120


def _is_share_bar(line: str) -> bool:
    """A short line made only of social network names and share words («شارك: فيسبوك تويتر واتساب»)."""
    if len(line) > 100 or not _SOCIAL_TOKENS.search(line):
        return False
    return not _SOCIAL_FILLER.sub("", _SOCIAL_TOKENS.sub("", line))


def _is_boilerplate(line: str) -> bool:
    if _PUNCT_ONLY.match(line):  # «-----------», «* * *»
        return True
    if len(line) <= _MAX_LINK_LINE and _LINK_LINE.match(line):
        return True
    if _SOURCE_LINE.match(line) or _BYLINE.match(line) or _is_share_bar(line):
        return True
    if len(line) <= 300 and (
        (_COPYRIGHT_WORDS.search(line) and _COPYRIGHT.search(line))
        or (_DISCLAIMER_WORDS.search(line) and _DISCLAIMER.search(line))
    ):
        return True
    if len(line) > _MAX_CAPTION:
        return False
    return bool(_PHOTO_LABEL.match(line) or _PHOTO_CREDIT_END.search(line) or _CREDIT_ONLY.match(line))


_DISCOURSE_OPENER = re.compile(r"^\S+\s?[،,]")  # «إذاً، ما سبب ...»: prose (or a subheading), not a link


def _looks_like_headline(line: str) -> bool:
    if len(line) > _MAX_HEADLINE or line.endswith((".", "،", ":", "!")):
        return False
    return not _DISCOURSE_OPENER.match(line)


def clean_body(text: str) -> str:
    """Drop whole lines of site boilerplate from plain text (one paragraph per line).

    ``clean_body_lines`` gives the same lines one at a time.

    Dropped: «اقرأ أيضا»/«أقرا أيضا..»/«إقرأ أيضا:» link lines (and the headline list under a bare
    «اقرأ أيضاً:»), «شاهد أيضا»/«شاهد:» and «قد يهمك» links, «للمزيد: …», «اضغط هنا» lines, «تابعونا على»
    and app-download promos, share bars, «المصدر:»-only and «*نقلاً عن …» lines, copyright and opinion
    disclaimers, photo credits and captions («(صورة: …)», «الصورة من …», «… (Getty Images)») and
    separator rules. Sentences that merely contain these words stay: only short, whole lines match.
    """
    return "\n".join(clean_body_lines(text))


def clean_body_lines(text: str) -> Iterator[str]:
    """The lines ``clean_body`` keeps, stripped and non-empty, produced as they are read.

    A reader that needs only the first few (the summary wants the lead) stops there and never pays
    for the boilerplate checks of a long body's later paragraphs.
    """
    in_link_list = 0
    for raw in text.split("\n"):
        line = raw.strip()
        if not line:
            continue
        if in_link_list and _looks_like_headline(line):
            in_link_list -= 1
            continue
        in_link_list = 0
        if _READ_ALSO_HEADER.match(line):
            in_link_list = 6
            continue
        if _is_boilerplate(line):
            continue
        yield line
