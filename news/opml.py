"""OPML import and export, the format feed readers (Feedly, Thunderbird, Inoreader) exchange lists in."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from xml.etree.ElementTree import Element, SubElement, tostring

from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException


class OPMLError(ValueError):
    """The file is not OPML we can read."""


@dataclass(frozen=True, slots=True)
class OPMLFeed:
    url: str
    title: str = ""
    site_url: str | None = None


def parse_opml(data: bytes) -> list[OPMLFeed]:
    """Every ``outline`` with an ``xmlUrl``, at any nesting depth (readers nest feeds in folders).

    Parsed with defusedxml: an OPML file is user input, and entity expansion or external entities in it
    must not reach the parser.
    """
    try:
        root = SafeET.fromstring(data)
    except (SyntaxError, DefusedXmlException) as exc:
        raise OPMLError(f"not valid OPML/XML: {exc}") from None
    if root.tag.lower() != "opml":
        raise OPMLError(f"root element is <{root.tag}>, expected <opml>")
    feeds: list[OPMLFeed] = []
    seen: set[str] = set()
    for node in root.iter("outline"):
        url = (node.get("xmlUrl") or node.get("xmlurl") or "").strip()
        if not url or url in seen:
            continue
        seen.add(url)
        title = (node.get("title") or node.get("text") or "").strip()
        feeds.append(OPMLFeed(url=url, title=title, site_url=node.get("htmlUrl") or None))
    return feeds


def to_opml(feeds: Iterable[OPMLFeed], *, title: str, created: datetime) -> bytes:
    """OPML 2.0 with one flat list of ``type="rss"`` outlines, as Feedly and Thunderbird import."""
    opml = Element("opml", version="2.0")
    head = SubElement(opml, "head")
    SubElement(head, "title").text = title
    SubElement(head, "dateCreated").text = format_datetime(created)
    body = SubElement(opml, "body")
    for feed in feeds:
        attrs = {
            "type": "rss",
            "text": feed.title or feed.url,
            "title": feed.title or feed.url,
            "xmlUrl": feed.url,
        }
        if feed.site_url:
            attrs["htmlUrl"] = feed.site_url
        SubElement(body, "outline", attrs)
    body_bytes: bytes = tostring(opml, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body_bytes
