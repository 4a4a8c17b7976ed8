"""The extraction test set, built from the sample articles: each as a news-site HTML page (header,
menus, ads, cookie banner, related stories, comments, footer, JSON-LD NewsArticle, OpenGraph), a
PDF of that page printed by Chromium, a Word file; and one RSS feed and one JSONL export of all.

`build(folder)` writes them and `truth.json` (per article: its paragraphs, title, date, author).
Undated sample articles stay undated in every copy: a right extractor finds no date for them.
"""

from __future__ import annotations

import datetime as dt
import html
import json
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from rag.store.corpus import list_article_files, parse_article, read_text
from rag.text.sentences import sentence_spans

ARTICLES = Path(__file__).resolve().parents[1] / "data" / "articles"
CHROMIUM = "/usr/bin/chromium"
OUTLETS = ["The Daily Ledger", "Harbor Times", "Metro Courier", "The Northern Post", "Civic Wire"]
AUTHORS = ["Anna Kowalski", "James Whitfield", "Priya Raman", "Tomás Herrera", "Elena Novak"]
SITE = "https://news.example.com"
_DANGLING = {"of", "to", "the", "a", "an", "in", "and", "for", "with", "on", "at", "by"}
FORMATS = ("html", "pdf", "docx", "feed", "jsonl", "pdf-screen")


def articles(folder: Path = ARTICLES) -> list[dict[str, Any]]:
    """The sample articles as the test set states them: paragraphs, title, date, author."""
    found = []
    for n, path in enumerate(list_article_files(folder)):
        article = parse_article(path.name, read_text(path))
        paragraphs = [p.strip() for p in article.body.split("\n") if p.strip()]
        title = article.title
        if paragraphs and paragraphs[0] == title:  # a title line, not a paragraph
            paragraphs = paragraphs[1:]
        else:  # a headline made of the lede's first sentence, its first dozen words
            start, end = sentence_spans(paragraphs[0])[0]
            words = paragraphs[0][start:end].rstrip(".").split()[:12]
            while len(words) > 6 and words[-1].lower().strip(",") in _DANGLING:
                words.pop()
            title = " ".join(words).rstrip(",;:")
        slug = path.stem
        found.append(
            {
                "source": path.name,
                "stem": slug,
                "title": title,
                "date": article.date.isoformat() if article.date else None,
                "author": AUTHORS[n % len(AUTHORS)],
                "outlet": OUTLETS[n % len(OUTLETS)],
                "url": f"{SITE}/world/{slug}",
                "paragraphs": paragraphs,
            }
        )
    return found


def build(out: Path, *, pdf: bool = True) -> list[dict[str, Any]]:
    """Write every format of the test set under `out/<format>/`, and `out/truth.json`."""
    items = articles()
    for fmt in FORMATS:
        (out / fmt).mkdir(parents=True, exist_ok=True)
    for n, item in enumerate(items):
        page = news_page(item, items, n)
        (out / "html" / f"{item['stem']}.html").write_text(page, encoding="utf-8")
        write_docx(item, out / "docx" / f"{item['stem']}.docx")
    (out / "feed" / "articles.rss").write_text(rss(items), encoding="utf-8")
    (out / "jsonl" / "articles.jsonl").write_text(jsonl(items), encoding="utf-8")
    if pdf:
        print_pdfs(out / "html", out / "pdf")
        print_pdfs(out / "html", out / "pdf-screen", media="screen")
    (out / "truth.json").write_text(json.dumps(items, indent=1), encoding="utf-8")
    return items


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def news_page(item: dict[str, Any], items: list[dict[str, Any]], n: int) -> str:
    """A page as a news site serves it, the article amid the site's furniture."""
    others = [o for o in items if o is not item]
    date = item["date"]
    ld: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": item["title"],
        "author": {"@type": "Person", "name": item["author"]},
        "publisher": {"@type": "Organization", "name": item["outlet"]},
        "url": item["url"],
        "inLanguage": "en",
        "mainEntityOfPage": item["url"],
    }
    if date:
        ld["datePublished"] = f"{date}T09:30:00+00:00"
    og_date = f'<meta property="article:published_time" content="{date}T09:30:00Z">' if date else ""
    time_tag = f'<time datetime="{date}T09:30:00Z">{_long(date)}</time>' if date else ""
    body = "\n".join(f"      <p>{_e(p)}</p>" for p in item["paragraphs"][:3])
    rest = "\n".join(f"      <p>{_e(p)}</p>" for p in item["paragraphs"][3:])
    related = "\n".join(
        f'        <li><a href="{o["url"]}">{_e(o["title"])}</a></li>' for o in others[:4]
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{_e(item["title"])} | {_e(item["outlet"])}</title>
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="description" content="{_e(item["paragraphs"][0][:150])}">
  <meta name="author" content="{_e(item["author"])}">
  <meta property="og:type" content="article">
  <meta property="og:title" content="{_e(item["title"])}">
  <meta property="og:site_name" content="{_e(item["outlet"])}">
  <meta property="og:url" content="{item["url"]}">
  {og_date}
  <link rel="canonical" href="{item["url"]}">
  <script type="application/ld+json">{json.dumps(ld)}</script>
  <script>window.dataLayer = window.dataLayer || [];
    function gtag(){{dataLayer.push(arguments);}}</script>
  <style>
    body {{ font-family: Georgia, serif; margin: 0; }}
    .cookie {{ position: fixed; bottom: 0; background: #222; color: #fff; padding: 1em; }}
    .ad {{ background: #eee; text-align: center; padding: 1em; }}
    article {{ max-width: 40em; margin: auto; }}
    @media print {{
      header, nav, .cookie, .ad, aside, .share, .related, .comments, .newsletter, footer,
      .breadcrumb {{ display: none !important; }}
    }}
  </style>
</head>
<body>
  <div class="cookie" id="cookie-banner" role="dialog">
    <p>We use cookies to personalise content and ads, to provide social media features and to
    analyse our traffic. By clicking Accept you agree to our use of cookies.</p>
    <button>Accept all</button> <button>Manage preferences</button>
  </div>
  <header class="site-header">
    <a class="logo" href="{SITE}/">{_e(item["outlet"])}</a>
    <nav class="main-nav">
      <ul>
        <li><a href="{SITE}/world">World</a></li><li><a href="{SITE}/politics">Politics</a></li>
        <li><a href="{SITE}/business">Business</a></li><li><a href="{SITE}/tech">Technology</a></li>
        <li><a href="{SITE}/sport">Sport</a></li><li><a href="{SITE}/opinion">Opinion</a></li>
      </ul>
    </nav>
    <a class="subscribe" href="{SITE}/subscribe">Subscribe for $1 a week</a>
    <a href="{SITE}/login">Sign in</a>
  </header>
  <div class="ad ad-leaderboard">Advertisement<br>Get 50% off premium noise-cancelling headphones
    today only. Shop now and save.</div>
  <nav class="breadcrumb"><a href="{SITE}/">Home</a> › <a href="{SITE}/world">World</a></nav>
  <main>
    <article class="story">
      <h1 class="headline">{_e(item["title"])}</h1>
      <div class="byline">By <a rel="author" href="{SITE}/staff/{n}">{_e(item["author"])}</a>
        {time_tag}</div>
      <div class="share"><a href="#">Share on Facebook</a> <a href="#">Share on X</a>
        <a href="#">Email this story</a></div>
{body}
      <div class="ad ad-inline">Advertisement<br>Sponsored: the retirement plan advisers
        don't want you to know about.</div>
{rest}
    </article>
    <aside class="newsletter">
      <h3>Sign up for our morning briefing</h3>
      <p>The day's most important stories, delivered to your inbox every weekday.</p>
      <form><input type="email" placeholder="Your email"><button>Sign up</button></form>
    </aside>
    <section class="related">
      <h2>Related stories</h2>
      <ul>
{related}
      </ul>
    </section>
    <aside class="most-read">
      <h2>Most read</h2>
      <ol>
        <li><a href="{SITE}/a">Storm warnings issued across the coast as temperatures fall</a></li>
        <li><a href="{SITE}/b">Central bank holds rates steady for a third month</a></li>
        <li><a href="{SITE}/c">Ten recipes for a quick weeknight dinner</a></li>
      </ol>
    </aside>
    <section class="comments" id="comments">
      <h2>Comments (3)</h2>
      <div class="comment"><b>reader_1984</b> <time datetime="2024-03-02">2 Mar 2024</time>
        <p>This is the most ridiculous thing I have read all week.</p></div>
      <div class="comment"><b>JaneD</b> <time datetime="2024-03-02">2 Mar 2024</time>
        <p>Thanks for the thorough reporting, very informative as always.</p></div>
      <div class="comment"><b>mike_t</b>
        <p>Who is paying for all of this? Nobody ever answers that question.</p></div>
    </section>
  </main>
  <footer class="site-footer">
    <ul><li><a href="{SITE}/about">About us</a></li><li><a href="{SITE}/contact">Contact</a></li>
      <li><a href="{SITE}/privacy">Privacy policy</a></li><li><a href="{SITE}/terms">Terms of
      use</a></li><li><a href="{SITE}/careers">Careers</a></li></ul>
    <p>© 2019 {_e(item["outlet"])} Media Group. All rights reserved.</p>
  </footer>
</body>
</html>
"""


def _long(date: str) -> str:
    return dt.date.fromisoformat(date).strftime("%B %d, %Y").replace(" 0", " ")


def write_docx(item: dict[str, Any], path: Path) -> None:
    """The article as a Word document: its title as a Title paragraph, the author set."""
    import docx

    document = docx.Document()
    document.core_properties.author = item["author"]
    document.core_properties.title = item["title"]
    document.add_paragraph(item["title"], style="Title")
    for paragraph in item["paragraphs"]:
        document.add_paragraph(paragraph)
    document.save(str(path))


def rss(items: list[dict[str, Any]]) -> str:
    """An RSS 2.0 feed of the articles, each entry's full text in content:encoded."""
    entries = []
    for item in items:
        body = "".join(f"<p>{_e(p)}</p>" for p in item["paragraphs"])
        when = ""
        if item["date"]:
            stamp = dt.datetime.fromisoformat(f"{item['date']}T09:30:00+00:00")
            when = f"<pubDate>{format_datetime(stamp)}</pubDate>"
        entries.append(
            f"""  <item>
    <title>{_e(item["title"])}</title>
    <link>{item["url"]}</link>
    <guid>{item["url"]}</guid>
    <dc:creator>{_e(item["author"])}</dc:creator>
    {when}
    <description>{_e(item["paragraphs"][0][:200])}</description>
    <content:encoded><![CDATA[{body}]]></content:encoded>
  </item>"""
        )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
  xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel>
  <title>News example: World</title>
  <link>{SITE}/world</link>
  <description>World news</description>
  <language>en</language>
{chr(10).join(entries)}
</channel>
</rss>
"""


def jsonl(items: list[dict[str, Any]]) -> str:
    """A CMS export: one object per line, the body's paragraphs in `body`."""
    rows = []
    for item in items:
        rows.append(
            {
                "id": item["stem"],
                "headline": item["title"],
                "body": "\n\n".join(item["paragraphs"]),
                "published_at": f"{item['date']}T09:30:00Z" if item["date"] else None,
                "byline": item["author"],
                "url": item["url"],
                "publisher": {"name": item["outlet"]},
            }
        )
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def print_pdfs(pages: Path, out: Path, media: str = "print") -> None:
    """Each page printed to PDF by Chromium (through Playwright), as a reader saving it would;
    `media="screen"` prints it as the screen shows it (the site's print stylesheet unused)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        if media == "screen":
            page.emulate_media(media="screen")
        for path in sorted(pages.glob("*.html")):
            page.goto(path.resolve().as_uri())
            page.pdf(path=str(out / f"{path.stem}.pdf"), format="A4")
        browser.close()
