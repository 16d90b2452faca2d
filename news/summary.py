"""Extractive Arabic summary of one article: its first one or two real sentences, within a budget.

News leads already say who did what: the best short summary of an Arabic news article is nearly
always its lead sentence (Lead-1 scores ROUGE-1 F ≈ 0.66 against outlets' own descriptions). What
this module adds is getting *the lead* right — not the dateline («دبي، الإمارات العربية المتحدة
(CNN)--», «لندن - (رويترز) -»), not a line that repeats the headline, not «اقرأ أيضا» links, photo
captions, sub-headings or an opinion column's disclaimer — and fitting it in the digest's space
without cutting a word in half.

Every summary ends at a sentence end (or a paragraph end) or at a whole word followed by «…». Most
feeds carry only a description, and outlets cut descriptions mid-sentence (Al Arabiya's stop at 200
characters, often inside a word): the last piece of a text that does not end a sentence is taken as
possibly cut, so the summary goes back to the last full sentence before it, and only when there is
none does it show that piece up to its last certainly whole word, with «…».

What it does not do: it does not rank sentences by content (the lead wins on news), does not rewrite
or shorten sentences other than those word-boundary cuts with «…», and does not touch HTML (callers
pass the cleaned plain text, one paragraph per line).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

from news.arabic import stems
from news.clean import clean_body_lines, strip_dateline

ELLIPSIS: Final = "…"
# A second sentence is added only after a short first one: outlets' own descriptions are one sentence,
# so a long lead is already a complete summary, while a short one («قتل 20 شخصا.») needs its context.
SECOND_SENTENCE_BELOW: Final = 60
MIN_WORDS: Final = 4  # shorter fragments are labels, bylines or captions, not sentences
HEADING_MAX_WORDS: Final = 12  # an unpunctuated line this short is a sub-heading, caption or credit

# Sentence ends: . ! ? ؟ ؛ (possibly repeated) with any closing quotes or brackets, before a space, the
# end of the line or an Arabic letter: outlets often drop the space after a full stop («الموت.ووقعت»).
# «..» and «…» are pauses in Arabic news prose, not ends; «3.5» and «CNN.com» have no letter after them.
_END = re.compile(r"((?<![.…])\.(?![.…])|[!?؟؛]+)([\"'»”’)\]]*)(?=\s|$|[\u0621-\u064a])")
_ENDS = re.compile(r"[.!?؟؛…][\"'»”’)\]]*$")
# A finished sentence: the same marks, but not a trailing «..», «...» or «…», which say the text goes on.
_FINISHED = re.compile(r"(?:(?<![.…])\.|[!?؟؛])[\"'»”’)\]]*$")
_TRAILING_DOTS = re.compile(r"\s*(?:\.{2,}|…)+$")
_DOMAIN = re.compile(r"(?:نت|كوم|أورغ|اورغ)(?![^\W_])")  # «العربية.نت» is a name, not two sentences
# Words that cannot end a sentence: a summary cut after one of them dangles («…ما يقرب من…»).
_DANGLING: Final = frozenset(
    {
        "من", "في", "على", "إلى", "الى", "عن", "مع", "أو", "او", "ثم", "أن", "ان", "إن", "لا", "لم", "لن",
        "ما", "التي", "الذي", "الذين", "اللذين", "اللتين", "اللواتي", "بين", "حتى", "عند", "لدى", "منذ",
        "خلال", "بعد", "قبل", "ضد", "نحو", "عبر", "حول", "دون", "وفي", "ومن", "وعلى", "وإلى", "وعن", "ومع",
        "وأن", "و", "قد", "كما", "بأن", "لأن", "أي", "فيما", "بينما", "حيث", "إذ", "إذا", "لكن", "ولكن",
        "كل", "بعض", "غير", "سوى", "عبد", "أبو", "بن",
    }
)  # fmt: skip
_QUOTES = (("«", "»"), ("“", "”"))
_SEPARATORS = " ،,:;؛-–—«(“["
_WORD = re.compile(r"[^\W_]+")
_INITIALS = re.compile(r"^(?:[^\W\d_]ـ?\.)*[^\W\d_]ـ?$")  # «د», «م», «أ.ف.ب», «U.S», «هـ»
_BOILERPLATE = re.compile(
    r"(?:[اأإ]قر[أا]|شاهد)\s+(?:[أاإ]يض|المزيد)"  # link lines that survived cleaning
    r"|بالضرورة\s+(?:عن\s+)?(?:رأي|وجهة|موقف)|وجهة\s+نظر\s+(?:الكاتب|كاتب)|يعبر\s+عن\s+(?:رأي|وجهة)\s+(?:كاتب|الكاتب)"
    r"|^(?:مقال|هذا\s+المقال)\s+بقلم|^بقلم\s|^(?:تصوير|الصورة|صورة)\s*[:|]|Getty\s*Images|^\(?CNN\)?\s*[-–—]*$"
    r"|تابعونا\s+على|اضغط\s+هنا|^نشر\s+هذا\s+المقال\s+بالتعاون|^مصدر\s+الصورة",
    re.IGNORECASE,
)
_SPACES = re.compile(r"\s+")


def split_sentences(text: str) -> list[str]:
    """Sentences of plain ``text``: lines are split on . ! ? ؟ ؛ — also when no space follows a full
    stop («الموت.ووقعت») — but not after initials and abbreviations («د.», «أ.ف.ب.»), inside numbers
    («3.5») or names («العربية.نت»), on «..»/«…» pauses, or inside a quotation that closes later on
    the line («قال: "لن نتراجع. سنواصل"» is one sentence: cut inside, the quote would never close)."""
    return [sentence for line in text.split("\n") for sentence in _line_sentences(line)]


def _line_sentences(line: str) -> Iterator[str]:
    """``split_sentences`` of one line, one sentence at a time."""
    line = _SPACES.sub(" ", line).strip()
    start = 0
    for m in _END.finditer(line):
        if m.group(1) == "." and _is_abbreviation(line[start : m.start()]):
            continue
        if m.group(1) == "." and _DOMAIN.match(line, m.end()):
            continue
        if _inside_quote(line[start : m.end()], line[m.end() :]):
            continue
        sentence = line[start : m.end()].strip()
        if sentence:
            yield sentence
        start = m.end()
    rest = line[start:].strip()
    if rest:
        yield rest


def _inside_quote(sentence: str, rest: str) -> bool:
    """True when ``sentence`` leaves a quotation open that ``rest`` of the line closes."""
    for opening, closing in _QUOTES:
        if sentence.count(opening) > sentence.count(closing) and closing in rest:
            return True
    return sentence.count('"') % 2 == 1 and '"' in rest


def _is_abbreviation(before: str) -> bool:
    last = before.rsplit(" ", 1)[-1].lstrip("(«\"'")
    return bool(last) and bool(_INITIALS.match(last))


def _words(text: str) -> int:
    return len(_WORD.findall(text))


def _ends_sentence(sentence: str) -> bool:
    return bool(_ENDS.search(sentence))


def _repeats(sentence: str, title_stems: set[str]) -> bool:
    """True when the sentence says nothing the headline did not (a lead that restates the title)."""
    own = set(stems(sentence))
    if not own or not title_stems:
        return False
    return len(own & title_stems) / len(own) >= 0.8


def _candidates(title: str, text: str, *, enough: int | None = None) -> tuple[list[str], str | None]:
    """The text's finished sentences worth showing, and its last piece when that may have been cut.

    The last piece of a text that does not end a sentence (no final mark, or a trailing «..»/«…») is
    kept apart: a description cut by its outlet ends that way, and its last word may be half a word.
    With ``enough``, reading stops once that many sentences are found (the tail is then None): the
    summary shows at most two, and the lines and sentences of the rest of a long body are never
    cleaned, split or checked. The sentences found are the same as the first ``enough`` without it.
    """
    title_stems: set[str] | None = None
    found: list[str] = []
    open_end: str | None = None  # a sentence without a final mark: the tail if nothing follows it
    for sentence in _sentences(text):
        if open_end is not None:  # something follows it, so it was not cut: an ordinary sentence
            found.append(open_end)
            open_end = None
            if len(found) == enough:
                return found, None
        if _words(sentence) < MIN_WORDS or _BOILERPLATE.search(sentence):
            continue
        if not _ends_sentence(sentence) and _words(sentence) <= HEADING_MAX_WORDS:
            continue
        if not found:
            if title_stems is None:
                title_stems = set(stems(title))
            if _repeats(sentence, title_stems):
                continue
        if _FINISHED.search(sentence):
            found.append(sentence)
            if len(found) == enough:
                return found, None
        else:
            open_end = sentence
    return found, open_end


def _sentences(text: str) -> Iterator[str]:
    """Sentences of ``clean_body(text)``, a dateline taken off each of its first three lines, lazily.

    A standfirst may precede the dateline, so a dateline is looked for at the start of each of the
    first lines, not only the first.
    """
    for i, line in enumerate(clean_body_lines(text)):
        yield from _line_sentences(strip_dateline(line) if i < 3 else line)


def _undangle(text: str) -> str:
    """``text`` without trailing separators, «..» pauses, opening quotes and words no sentence ends on
    («من», «التي»): what is left ends on a word a «…» can follow."""
    while True:
        text = _TRAILING_DOTS.sub("", text).rstrip(_SEPARATORS)
        if text.endswith(' "'):  # a straight quote after a space opens a quotation that was cut off
            text = text[:-1]
            continue
        head, _, last = text.rpartition(" ")
        if not head or last not in _DANGLING:
            return text
        text = head


def _cut_tail(tail: str, budget: int) -> str:
    """A possibly cut last piece up to its last certainly whole word, with «…»; "" if too little is left.

    The outlet's own «..»/«…» goes, and so does the last word: a cut at a character count («ما يقرب من
    55» for «550») leaves no sign of having split it.
    """
    head = _undangle(_TRAILING_DOTS.sub("", tail).rpartition(" ")[0])
    if _words(head) < MIN_WORDS:
        return ""
    return shorten(head + ELLIPSIS, budget)


def shorten(text: str, budget: int) -> str:
    """``text`` if it fits, else its longest word-boundary prefix that fits with «…» appended.

    A prefix does not end on a word that leaves the sentence dangling («من», «التي»), unless it is
    the only word left.
    """
    if budget < 1:
        raise ValueError("budget must be positive")
    if len(text) <= budget:
        return text
    room = text[: budget - len(ELLIPSIS) + 1]
    cut = room.rfind(" ")
    if cut <= 0:
        return ""
    return _undangle(text[:cut]) + ELLIPSIS


def summarize(title: str, text: str, *, budget: int = 300) -> str:
    """One or two lead sentences of ``text``, at most ``budget`` characters, never cut mid-word.

    A text whose last piece may have been cut (a truncated description) gives its finished sentences
    only; when it has none, that piece up to a whole word with «…». Returns "" when the text has
    nothing worth showing (the digest then shows the title alone).
    """
    if budget < 1:
        raise ValueError("budget must be positive")
    sentences, tail = _candidates(title, text, enough=2)
    if not sentences:
        return _cut_tail(tail, budget) if tail else ""
    first = sentences[0]
    if len(first) > budget:
        return shorten(first, budget)
    if len(sentences) > 1 and len(first) < SECOND_SENTENCE_BELOW:
        both = f"{first} {sentences[1]}"
        if len(both) <= budget:
            return _close(both)
    return _close(first)


def _close(summary: str) -> str:
    """A paragraph that ends on «:» or «،» leads into the next one («…قيل فيه:»): show it as going on."""
    if summary[-1] not in _SEPARATORS:
        return summary
    return _undangle(summary) + ELLIPSIS
