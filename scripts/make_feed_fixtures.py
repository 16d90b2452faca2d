"""Generate the feed fixtures in tests/fixtures/feeds/ from the ANT corpus.

Usage: ``.venv/bin/python scripts/make_feed_fixtures.py [--data ../shared/data] [--out tests/fixtures/feeds]``

The test suite never reads the corpus; it reads what this script writes. Everything is deterministic:
running the script twice gives byte-identical files. What it writes:

- one RSS 2.0 feed per outlet (30 items each) from one week in which several events were covered by
  several outlets, linked by publication time and shared title/description words (``events.json``);
- ``atom.xml`` (Atom 1.0, relative links), ``rss1.rdf`` (RSS 1.0), ``cp1256.xml`` (bytes in windows-1256);
- ``malformed.xml`` (unclosed tags, recoverable), ``empty.xml`` (channel, no items), ``homepage.html``;
- ``dirty.xml`` (HTML and script in titles/descriptions, «عاجل:» prefixes, «اقرأ أيضا» lines, captions);
- ``duplicates.xml`` (one article under tracking/www/AMP/http/raw-Unicode URL variants and a re-post);
- ``manifest.json`` describing every file (format, encoding, feed URL, headers, counts, expected groups).

Article texts are real (ANT corpus); the boilerplate injected into ``dirty.xml`` and the URL variants in
``duplicates.xml`` are synthetic and say so in ATTRIBUTION.md.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit
from xml.sax.saxutils import escape, quoteattr

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from news.arabic import tokenize  # noqa: E402  (the script runs from a checkout, not an install)
from news.parse import parse_feed  # noqa: E402

ITEMS_PER_FEED = 30
WINDOW = timedelta(days=7)
EVENT_SPAN = timedelta(hours=36)
MIN_COSINE = 0.25
BODY_CHARS = 1_200


@dataclass(frozen=True)
class Outlet:
    key: str
    slug: str
    title: str
    site: str
    feed_url: str
    with_content: bool  # carries content:encoded (full text) besides the description
    html_description: bool  # description is escaped HTML rather than plain text


OUTLETS = (
    Outlet("Alarabia", "alarabiya", "العربية.نت", "https://www.alarabiya.net/",
           "https://www.alarabiya.net/.mrss/ar.xml", with_content=True, html_description=True),
    Outlet("BBC", "bbc", "BBC News عربي", "https://www.bbc.com/arabic",
           "https://feeds.bbci.co.uk/arabic/rss.xml", with_content=False, html_description=False),
    Outlet("CNN", "cnn", "CNN بالعربية", "https://arabic.cnn.com/",
           "https://arabic.cnn.com/rss", with_content=True, html_description=False),
    Outlet("France24", "france24", "فرانس 24", "https://www.france24.com/ar/",
           "https://www.france24.com/ar/rss", with_content=False, html_description=True),
    Outlet("SkyNews", "skynews", "سكاي نيوز عربية", "https://www.skynewsarabia.com/",
           "https://www.skynewsarabia.com/web/rss", with_content=False, html_description=False),
)  # fmt: skip
CATEGORY_AR = {
    "culture": "ثقافة وفن",
    "economy": "اقتصاد",
    "internationalNews": "العالم",
    "middleEast": "الشرق الأوسط",
    "sport": "رياضة",
    "technology": "تكنولوجيا",
}
_STOP = frozenset(
    tokenize(
        "في من على الى إلى عن مع بعد قبل هل ما ماذا كيف لماذا التي الذي او أو ان أن إن لا هذا هذه بين حول ضد"
        " خلال عام يوم اول أول منذ حتى عند لم لن قد كل غير تحت فوق امام أمام ثم بعدما اكثر أكثر اخر آخر جديد"
        " جديدة يقول تقول قال قالت شاهد بالفيديو بالصور فيديو صور عاجل"
    )
)


@dataclass
class Doc:
    id: str
    outlet: str
    category: str
    all_categories: list[str]
    url: str
    title: str
    abstract: str
    text: str
    time: str
    author: str
    dt: datetime = field(default_factory=lambda: datetime.min.replace(tzinfo=UTC))


def load(data: Path) -> list[Doc]:
    docs: list[Doc] = []
    seen: set[str] = set()
    with (data / "ant" / "train.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            raw = json.loads(line)
            if raw["url"] in seen:
                continue
            seen.add(raw["url"])
            doc = Doc(**{k: raw[k] for k in Doc.__dataclass_fields__ if k != "dt"})
            try:
                doc.dt = parsedate_to_datetime(doc.time).astimezone(UTC)
            except (TypeError, ValueError):
                continue
            docs.append(doc)
    docs.sort(key=lambda d: (d.dt, d.id))
    return docs


# --------------------------------------------------------------------------------------------------
# Choosing a week with shared events
# --------------------------------------------------------------------------------------------------


def _bag(doc: Doc) -> Counter[str]:
    """Content words of title (counted twice) and description."""
    bag: Counter[str] = Counter()
    for weight, text in ((2, doc.title), (1, doc.abstract)):
        for token in tokenize(text):
            if len(token) > 2 and token not in _STOP:
                bag[token] += weight
    return bag


def similarity_links(docs: Sequence[Doc]) -> list[tuple[Doc, Doc]]:
    """Pairs from different outlets, published within 36 h, whose TF-IDF cosine is at least 0.25.

    Title words alone link «Trump fires Tillerson» to «Trump fires his aide»; adding the description
    and a threshold checked by eye on March 2018 keeps the links to reports of one event.
    """
    bags = {d.id: _bag(d) for d in docs}
    df: Counter[str] = Counter(w for bag in bags.values() for w in bag)
    idf = {w: math.log(len(docs) / n) for w, n in df.items()}
    vectors: dict[str, dict[str, float]] = {}
    for doc_id, bag in bags.items():
        weights = {w: n * idf[w] for w, n in bag.items()}
        norm = math.sqrt(sum(x * x for x in weights.values())) or 1.0
        vectors[doc_id] = {w: x / norm for w, x in weights.items()}
    links = []
    for i, a in enumerate(docs):
        va = vectors[a.id]
        for b in docs[i + 1 :]:
            if b.dt - a.dt > EVENT_SPAN:
                break
            if b.outlet == a.outlet:
                continue
            vb = vectors[b.id]
            if sum(x * vb.get(w, 0.0) for w, x in va.items()) >= MIN_COSINE:
                links.append((a, b))
    return links


def events_from(links: Iterable[tuple[Doc, Doc]]) -> list[list[Doc]]:
    """Connected components of the links (union-find), oldest first, each sorted by time."""
    parent: dict[str, str] = {}
    by_id: dict[str, Doc] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in links:
        by_id[a.id], by_id[b.id] = a, b
        parent[find(b.id)] = find(a.id)
    clusters: dict[str, list[Doc]] = defaultdict(list)
    for doc_id, doc in by_id.items():
        clusters[find(doc_id)].append(doc)
    events = [sorted(c, key=lambda d: (d.dt, d.outlet, d.id)) for c in clusters.values()]
    return sorted(events, key=lambda e: (e[0].dt, e[0].id))


def choose_window(docs: Sequence[Doc], events: Sequence[list[Doc]]) -> datetime:
    """Start of the 7-day window where every outlet has enough items and most items share events."""
    days = sorted({d.dt.replace(hour=0, minute=0, second=0, microsecond=0) for d in docs})
    best: tuple[int, datetime] | None = None
    for start in days:
        end = start + WINDOW
        counts: Counter[str] = Counter(d.outlet for d in docs if start <= d.dt < end)
        if any(counts[o.key] < ITEMS_PER_FEED for o in OUTLETS):
            continue
        score = sum(
            len({d.outlet for d in e}) for e in events if all(start <= d.dt < end for d in e) and len(e) >= 3
        )
        if best is None or score > best[0]:
            best = (score, start)
    if best is None:
        raise SystemExit("no week has enough items for every outlet")
    return best[1]


def pick_items(docs: Sequence[Doc], events: Sequence[list[Doc]], start: datetime) -> dict[str, list[Doc]]:
    end = start + WINDOW
    in_window = [e for e in events if all(start <= d.dt < end for d in e)]
    in_window.sort(key=lambda e: (-len({d.outlet for d in e}), e[0].dt))
    picked: dict[str, dict[str, Doc]] = {o.key: {} for o in OUTLETS}
    for event in in_window:  # the widest events first, while every outlet involved has room
        per_outlet = Counter(d.outlet for d in event)
        if all(len(picked[o]) + n <= ITEMS_PER_FEED * 2 // 3 for o, n in per_outlet.items()):
            for doc in event:
                picked[doc.outlet][doc.id] = doc
    for outlet in OUTLETS:
        rest = [
            d
            for d in docs
            if d.outlet == outlet.key and start <= d.dt < end and d.id not in picked[outlet.key]
        ]
        need = ITEMS_PER_FEED - len(picked[outlet.key])
        step = len(rest) / need if need else 1
        for k in range(need):  # spread the filler evenly over the week
            doc = rest[int(k * step)]
            picked[outlet.key][doc.id] = doc
    return {
        o: sorted(items.values(), key=lambda d: (d.dt, d.id), reverse=True) for o, items in picked.items()
    }


def describe_events(items: dict[str, list[Doc]], events: Sequence[list[Doc]]) -> list[dict[str, object]]:
    """The events whose every report made it into the outlet feeds, for clustering tests."""
    chosen = {d.id for docs in items.values() for d in docs}
    out: list[dict[str, object]] = []
    for event in events:
        if not all(d.id in chosen for d in event):
            continue
        out.append(
            {
                "first_published": event[0].dt.isoformat(),
                "outlets": sorted({d.outlet for d in event}),
                "items": [{"outlet": d.outlet, "url": d.url, "title": d.title} for d in event],
            }
        )
    return out


# --------------------------------------------------------------------------------------------------
# Writing XML
# --------------------------------------------------------------------------------------------------


def cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def paragraphs(text: str, limit: int) -> list[str]:
    out: list[str] = []
    total = 0
    for para in (p.strip() for p in text.split("\n")):
        if not para:
            continue
        if out and total + len(para) > limit:
            break
        out.append(para)
        total += len(para)
    return out


def html_paragraphs(text: str, limit: int = BODY_CHARS) -> str:
    return "".join(f"<p>{escape(p)}</p>" for p in paragraphs(text, limit))


def categories(doc: Doc) -> str:
    cats = [doc.category, *(c for c in doc.all_categories if c != doc.category)]
    return "".join(f"<category>{escape(CATEGORY_AR.get(c, c))}</category>" for c in cats)


def rss_item(doc: Doc, outlet: Outlet) -> str:
    guid = (
        f'<guid isPermaLink="true">{escape(doc.url)}</guid>'
        if outlet.key == "BBC"
        else f'<guid isPermaLink="false">{escape(doc.id)}</guid>'
    )
    description = (
        escape(f"<p>{escape(doc.abstract)}</p>") if outlet.html_description else escape(doc.abstract)
    )
    parts = [
        f"<title>{escape(doc.title)}</title>",
        f"<link>{escape(doc.url)}</link>",
        guid,
        f"<pubDate>{escape(doc.time)}</pubDate>",
        f"<description>{description}</description>",
        categories(doc),
    ]
    if doc.author:
        parts.append(f"<dc:creator>{escape(doc.author)}</dc:creator>")
    if outlet.with_content:
        parts.append(f"<content:encoded>{cdata(html_paragraphs(doc.text))}</content:encoded>")
    return "<item>" + "\n  ".join(parts) + "</item>"


RSS_HEAD = (
    '<?xml version="1.0" encoding="{encoding}"?>\n'
    '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"'
    ' xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom">\n'
    "<channel>\n<title>{title}</title>\n<link>{site}</link>\n<description>{description}</description>\n"
    '<language>ar</language>\n<atom:link href={self_href} rel="self" type="application/rss+xml"/>\n'
)
RSS_TAIL = "</channel>\n</rss>\n"


def rss(outlet: Outlet, items: Iterable[str], *, title: str | None = None, encoding: str = "utf-8") -> str:
    head = RSS_HEAD.format(
        encoding=encoding,
        title=escape(title or outlet.title),
        site=escape(outlet.site),
        description=escape(f"آخر الأخبار من {outlet.title}"),
        self_href=quoteattr(outlet.feed_url),
    )
    return head + "\n".join(items) + "\n" + RSS_TAIL


def outlet_of(key: str) -> Outlet:
    return next(o for o in OUTLETS if o.key == key)


def atom(docs: Sequence[Doc]) -> str:
    outlet = outlet_of("France24")
    entries = []
    for i, doc in enumerate(docs):
        parts = urlsplit(doc.url)
        href = doc.url if i % 4 == 0 else urlunsplit(("", "", parts.path, parts.query, ""))
        content = (
            f'<content type="html">{escape(html_paragraphs(doc.text, 800))}</content>' if i % 2 == 0 else ""
        )
        author = f"<author><name>{escape(doc.author)}</name></author>" if doc.author else ""
        entries.append(
            "<entry>"
            f'<title type="text">{escape(doc.title)}</title>'
            f'<link rel="alternate" type="text/html" href={quoteattr(href)}/>'
            f"<id>{escape(doc.url)}</id>"
            f"<published>{doc.dt.isoformat()}</published><updated>{doc.dt.isoformat()}</updated>"
            f'<summary type="text">{escape(doc.abstract)}</summary>{content}'
            f"<category term={quoteattr(CATEGORY_AR[doc.category])}/>{author}"
            "</entry>"
        )
    updated = max(d.dt for d in docs).isoformat()
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="ar">\n'
        f"<title>{escape(outlet.title)}</title>\n<subtitle>آخر الأخبار</subtitle>\n"
        f'<link rel="alternate" href="/ar/"/>\n<link rel="self" href={quoteattr(outlet.feed_url)}/>\n'
        f"<id>{escape(outlet.feed_url)}</id>\n<updated>{updated}</updated>\n"
        + "\n".join(entries)
        + "\n</feed>\n"
    )


def rss1(docs: Sequence[Doc]) -> str:
    outlet = outlet_of("BBC")
    seq = "".join(f"<rdf:li rdf:resource={quoteattr(d.url)}/>" for d in docs)
    items = "\n".join(
        f"<item rdf:about={quoteattr(d.url)}><title>{escape(d.title)}</title><link>{escape(d.url)}</link>"
        f"<description>{escape(d.abstract)}</description><dc:date>{d.dt.isoformat()}</dc:date>"
        f"<dc:subject>{escape(CATEGORY_AR[d.category])}</dc:subject></item>"
        for d in docs
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/">\n'
        f"<channel rdf:about={quoteattr(outlet.feed_url)}><title>{escape(outlet.title)}</title>"
        f"<link>{escape(outlet.site)}</link><description>آخر الأخبار</description>"
        f"<items><rdf:Seq>{seq}</rdf:Seq></items></channel>\n{items}\n</rdf:RDF>\n"
    )


def malformed(docs: Sequence[Doc]) -> str:
    """Tag soup a strict XML parser rejects: raw «&», unclosed <p>/<br>, no closing channel/rss."""
    outlet = outlet_of("CNN")
    items = []
    for doc in docs:
        items.append(
            f"<item><title>{escape(doc.title)} & تفاصيل</title><link>{escape(doc.url)}</link>"
            f"<pubDate>{escape(doc.time)}</pubDate>"
            f"<description><p>{escape(doc.abstract)}<br></description></item>"
        )
    return rss(outlet, items).replace(RSS_TAIL, "")


def empty_feed() -> str:
    return rss(outlet_of("SkyNews"), [], title="سكاي نيوز عربية - عاجل")


def homepage(docs: Sequence[Doc]) -> str:
    outlet = outlet_of("SkyNews")
    links = "\n".join(f'<li><a href="{escape(d.url)}">{escape(d.title)}</a></li>' for d in docs)
    return (
        '<!DOCTYPE html>\n<html lang="ar" dir="rtl">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(outlet.title)} | آخر الأخبار</title>\n"
        f'<link rel="alternate" type="application/rss+xml" title="RSS" href="{escape(outlet.feed_url)}">\n'
        "<script>window.dataLayer = window.dataLayer || [];</script>\n</head>\n<body>\n"
        f"<header><h1>{escape(outlet.title)}</h1></header>\n<main><ul>\n{links}\n</ul></main>\n"
        "<footer>© سكاي نيوز عربية</footer>\n</body>\n</html>\n"
    )


# Synthetic boilerplate, as the outlets' sites and WordPress-style feeds add it around article text.
DIRTY_TITLES = (
    "عاجل: {t}",
    "<b>عاجل</b> | {t}",
    "بالفيديو.. {t}",
    "&lt;script&gt;alert(1)&lt;/script&gt;{t}",
    "<script>alert('x')</script>شاهد: {t}",
    "{t} (فيديو)",
    "خاص: <i>{t}</i>",
    "عاجل",
)


def dirty(docs: Sequence[Doc], related: Sequence[Doc]) -> tuple[str, list[dict[str, str]]]:
    outlet = outlet_of("Alarabia")
    items = []
    expected = []
    for i, doc in enumerate(docs):
        title = DIRTY_TITLES[i % len(DIRTY_TITLES)].format(t=escape(doc.title))
        paras = paragraphs(doc.text, 700)
        dateline = "دبي - العربية.نت" if i % 2 == 0 else "لندن - (رويترز) -"
        body = [
            '<figure><img src="https://example.invalid/photo.jpg" alt="صورة تعبيرية للخبر">'
            "<figcaption>صورة تعبيرية (Getty Images)</figcaption></figure>",
            f"<p>{escape(dateline)} {escape(paras[0])}</p>",
            "<script>var ad = 'اقرأ أيضا';</script><style>p { color: red }</style>",
            f'<p>اقرأ أيضاً: <a href="{escape(related[i].url)}">{escape(related[i].title)}</a></p>',
            *(f"<p>{escape(p)}</p>" for p in paras[1:]),
            "<p>(صورة: أرشيفية)</p>",
            "<p>شارك: فيسبوك | تويتر | واتساب</p>",
            "<p>المصدر: العربية.نت</p>",
            "<p>© جميع الحقوق محفوظة لقناة العربية 2018</p>",
        ]
        summary = (
            f"<p>{escape(doc.abstract)}</p><script>document.write('<p>إعلان</p>')</script>"
            f"<p>أقرا أيضا.. {escape(related[i].title)}</p>"
        )
        items.append(
            "<item>"
            f"<title>{escape(title)}</title><link>{escape(doc.url)}</link>"
            f'<guid isPermaLink="false">{escape(doc.id)}</guid><pubDate>{escape(doc.time)}</pubDate>'
            f"<description>{cdata(summary)}</description>"
            f"<content:encoded>{cdata(''.join(body))}</content:encoded>{categories(doc)}"
            "</item>"
        )
        expected.append(
            {
                "url": doc.url,
                "clean_title": doc.title if DIRTY_TITLES[i % len(DIRTY_TITLES)] != "عاجل" else "عاجل",
                "lead": paras[0],
                "related_title": related[i].title,
            }
        )
    return rss(outlet, items, title="العربية.نت - عاجل"), expected


def url_variants(url: str) -> dict[str, str]:
    parts = urlsplit(url)
    host = parts.netloc.removeprefix("www.")
    raw_path = parts.path
    from urllib.parse import unquote

    unicode_path = unquote(raw_path)
    encoded_path = quote(unicode_path, safe="/-._~")
    return {
        "original": url,
        "tracking": f"{url}?utm_source=twitter&utm_medium=social&utm_campaign=share&fbclid=IwAR0abc",
        "www_and_http": urlunsplit(("http", "www." + host, raw_path, "", "")),
        "amp_path": urlunsplit(("https", "www." + host, "/amp" + raw_path, "", "")),
        "amp_query": urlunsplit(("https", "m." + host, encoded_path + "/", "outputType=amp", "top")),
        "raw_unicode": urlunsplit(("https", "www." + host, unicode_path, "ref=rss", "")),
    }


def duplicates(main: Doc, repost_of: Doc, others: Sequence[Doc]) -> tuple[str, dict[str, list[str]]]:
    outlet = outlet_of("SkyNews")
    items = []
    groups: dict[str, list[str]] = {"same_url": [], "same_content": [], "distinct": []}
    for name, link in url_variants(main.url).items():
        items.append(
            f"<item><title>{escape(main.title)}</title><link>{escape(link)}</link>"
            f'<guid isPermaLink="false">{escape(main.id)}-{name}</guid><pubDate>{escape(main.time)}</pubDate>'
            f"<description>{escape(main.abstract)}</description></item>"
        )
        groups["same_url"].append(link)
    # The same text re-posted under a new URL, with «عاجل:» and tashkeel added to the title.
    first = repost_of.title.split(" ", 1)
    marked = first[0] + "\u064e" + (" " + first[1] if len(first) > 1 else "")
    for title, link in (
        (repost_of.title, repost_of.url),
        (f"عاجل: {marked}", repost_of.url.rsplit("/", 1)[0] + "/9999999-repost"),
    ):
        items.append(
            f"<item><title>{escape(title)}</title><link>{escape(link)}</link>"
            f"<pubDate>{escape(repost_of.time)}</pubDate><description>{escape(repost_of.abstract)}</description></item>"
        )
        groups["same_content"].append(link)
    for doc in others:
        items.append(
            f"<item><title>{escape(doc.title)}</title><link>{escape(doc.url)}</link>"
            f"<pubDate>{escape(doc.time)}</pubDate><description>{escape(doc.abstract)}</description></item>"
        )
        groups["distinct"].append(doc.url)
    return rss(outlet, items), groups


# --------------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=REPO / "tests" / "fixtures" / "feeds")
    args = parser.parse_args(argv)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)

    docs = load(args.data)
    events = events_from(similarity_links([d for d in docs if d.dt.year == 2018]))
    start = choose_window(docs, events)
    items = pick_items(docs, events, start)
    used = {d.id for v in items.values() for d in v}
    later = [d for d in docs if d.dt >= start + WINDOW and d.id not in used]

    def first(outlet: str, n: int, skip: set[str]) -> list[Doc]:
        chosen = [d for d in later if d.outlet == outlet and d.id not in skip and d.abstract and d.text][:n]
        skip.update(d.id for d in chosen)
        return chosen

    taken: set[str] = set()
    manifest: dict[str, dict[str, object]] = {}
    for outlet in OUTLETS:
        name = f"{outlet.slug}.xml"
        text = rss(outlet, (rss_item(d, outlet) for d in items[outlet.key]))
        (out / name).write_text(text, encoding="utf-8")
        manifest[name] = {
            "format": "rss20",
            "encoding": "utf-8",
            "outlet": outlet.key,
            "feed_url": outlet.feed_url,
            "content_type": "application/rss+xml; charset=utf-8",
            "items": len(items[outlet.key]),
            "with_content": outlet.with_content,
        }

    atom_docs = first("France24", 10, taken)
    (out / "atom.xml").write_text(atom(atom_docs), encoding="utf-8")
    manifest["atom.xml"] = {
        "format": "atom10",
        "encoding": "utf-8",
        "feed_url": outlet_of("France24").feed_url,
        "content_type": "application/atom+xml",
        "items": len(atom_docs),
        "urls": [d.url for d in atom_docs],
        "note": "entries 1, 5, 9 have absolute links; the others are relative to the feed URL",
    }

    rss1_docs = first("BBC", 8, taken)
    (out / "rss1.rdf").write_text(rss1(rss1_docs), encoding="utf-8")
    manifest["rss1.rdf"] = {
        "format": "rss10",
        "encoding": "utf-8",
        "feed_url": outlet_of("BBC").feed_url,
        "content_type": "application/rdf+xml",
        "items": len(rss1_docs),
        "urls": [d.url for d in rss1_docs],
    }

    cp_docs = first("SkyNews", 10, taken)
    cp_text = rss(
        outlet_of("SkyNews"), (rss_item(d, outlet_of("SkyNews")) for d in cp_docs), encoding="windows-1256"
    )
    (out / "cp1256.xml").write_bytes(cp_text.encode("cp1256", errors="xmlcharrefreplace"))
    manifest["cp1256.xml"] = {
        "format": "rss20",
        "encoding": "windows-1256",
        "feed_url": outlet_of("SkyNews").feed_url,
        "content_type": "text/xml; charset=windows-1256",
        "items": len(cp_docs),
        "titles": [d.title for d in cp_docs],
    }

    bad_docs = first("CNN", 6, taken)
    (out / "malformed.xml").write_text(malformed(bad_docs), encoding="utf-8")
    manifest["malformed.xml"] = {
        "format": "rss20 (not well-formed)",
        "encoding": "utf-8",
        "feed_url": outlet_of("CNN").feed_url,
        "content_type": "application/rss+xml; charset=utf-8",
        "items": len(bad_docs),
        "urls": [d.url for d in bad_docs],
    }

    (out / "empty.xml").write_text(empty_feed(), encoding="utf-8")
    manifest["empty.xml"] = {
        "format": "rss20",
        "encoding": "utf-8",
        "feed_url": outlet_of("SkyNews").feed_url,
        "content_type": "application/rss+xml",
        "items": 0,
    }

    (out / "homepage.html").write_text(homepage(first("SkyNews", 5, taken)), encoding="utf-8")
    manifest["homepage.html"] = {
        "format": "html",
        "encoding": "utf-8",
        "feed_url": outlet_of("SkyNews").site,
        "content_type": "text/html; charset=utf-8",
        "items": 0,
    }

    dirty_docs = first("Alarabia", len(DIRTY_TITLES), taken)
    related = first("Alarabia", len(DIRTY_TITLES), taken)
    dirty_text, dirty_expected = dirty(dirty_docs, related)
    (out / "dirty.xml").write_text(dirty_text, encoding="utf-8")
    manifest["dirty.xml"] = {
        "format": "rss20",
        "encoding": "utf-8",
        "feed_url": outlet_of("Alarabia").feed_url,
        "content_type": "application/rss+xml; charset=utf-8",
        "items": len(dirty_docs),
        "expected": dirty_expected,
    }

    sky = [d for d in later if d.outlet == "SkyNews" and d.id not in taken and "%D8" in d.url]
    dup_main, dup_repost, *dup_others = sky[:5]
    taken.update(d.id for d in sky[:5])
    dup_text, dup_groups = duplicates(dup_main, dup_repost, dup_others)
    (out / "duplicates.xml").write_text(dup_text, encoding="utf-8")
    manifest["duplicates.xml"] = {
        "format": "rss20",
        "encoding": "utf-8",
        "feed_url": outlet_of("SkyNews").feed_url,
        "content_type": "application/rss+xml; charset=utf-8",
        "items": sum(len(v) for v in dup_groups.values()),
        "groups": dup_groups,
    }

    shared = describe_events(items, events)
    (out / "events.json").write_text(
        json.dumps(shared, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    manifest["_window"] = {
        "start": start.isoformat(),
        "end": (start + WINDOW).isoformat(),
        "events": len(shared),
    }
    (out / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8"
    )

    # Self-check: every feed parses the way the manifest says.
    for name, info in manifest.items():
        if name.startswith("_") or info["format"] == "html":
            continue
        parsed = parse_feed(
            (out / name).read_bytes(), {"Content-Type": str(info["content_type"])}, str(info["feed_url"])
        )
        assert len(parsed.entries) == info["items"], (name, len(parsed.entries), info["items"])
    total = sum(p.stat().st_size for p in out.iterdir() if p.is_file())
    print(f"window {start:%Y-%m-%d} +7d, {len(shared)} shared events, {total / 1024:.0f} KiB in {out}")


if __name__ == "__main__":
    main()
