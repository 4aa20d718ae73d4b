"""The help center's pages: server-rendered HTML, no JavaScript, every control labelled.

Each page has the landmarks (``header``, ``nav``, ``main``, ``footer``), a skip link, one ``h1``,
its ``lang``, a canonical address and, for an article, an ``hreflang`` alternate per published
translation. Texts customers read come in English, Korean and Chinese (the locale's language,
else English). Article bodies are the sanitised HTML knowledge stored; every other value is escaped.
"""

from __future__ import annotations

from html import escape

from omnicase.knowledge.help.service import ArticleView
from omnicase.knowledge.locales import language_of

_STYLE = """
body{font-family:system-ui,sans-serif;margin:0;color:#1b1b1b;background:#f6f6f6;line-height:1.6}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:#fff;padding:.5rem}
header,nav,main,footer{max-width:44rem;margin:0 auto;padding:1rem 1.5rem}
main{background:#fff;border-radius:.5rem}
a{color:#0b5cad}
fieldset{border:1px solid #767676;border-radius:.25rem;margin:1.5rem 0;padding:.5rem 1rem}
button{font:inherit;padding:.5rem 1.25rem;margin:.25rem .5rem .25rem 0;border-radius:.25rem;border:2px solid #0b5cad}
button.yes{background:#0b5cad;color:#fff}button.no{background:#fff;color:#0b5cad}
a:focus,button:focus,input:focus{outline:3px solid #b35c00;outline-offset:2px}
.status{background:#e7f4e4;border-left:4px solid #2e7d32;padding:.5rem 1rem}
"""

_TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "help": "Help center",
        "skip": "Skip to content",
        "question": "Did this answer your question?",
        "yes": "Yes, this answered my question",
        "no": "No, I still need help",
        "solved": "Thank you. We are glad it helped: your request is now solved.",
        "kept-open": "Thank you. Your request stays open and an agent will answer you.",
        "answered-before": "Your answer to this suggestion was already recorded.",
        "back": "Back to the article",
        "missing": "This page does not exist",
        "missing-detail": "The article is not published in this help center, or the link is wrong.",
        "bad-link": "This link does not work",
        "bad-link-detail": "The link is not one we sent, or it belongs to another article.",
    },
    "ko": {
        "help": "고객센터",
        "skip": "본문으로 건너뛰기",
        "question": "이 문서로 궁금한 점이 해결되었나요?",
        "yes": "네, 해결되었습니다",
        "no": "아니요, 도움이 더 필요합니다",
        "solved": "감사합니다. 도움이 되어 기쁩니다. 문의가 해결됨으로 처리되었습니다.",
        "kept-open": "감사합니다. 문의는 열린 상태로 유지되며 상담원이 답변드리겠습니다.",
        "answered-before": "이 추천에 대한 답변은 이미 기록되었습니다.",
        "back": "문서로 돌아가기",
        "missing": "페이지를 찾을 수 없습니다",
        "missing-detail": "이 고객센터에 게시된 문서가 아니거나 링크가 잘못되었습니다.",
        "bad-link": "유효하지 않은 링크입니다",
        "bad-link-detail": "저희가 보낸 링크가 아니거나 다른 문서의 링크입니다.",
    },
    "zh": {
        "help": "帮助中心",
        "skip": "跳到正文",
        "question": "这篇文章解决了您的问题吗？",
        "yes": "是的，问题已解决",
        "no": "没有，我仍需要帮助",
        "solved": "谢谢。很高兴能帮到您：您的请求已标记为已解决。",
        "kept-open": "谢谢。您的请求将保持打开，客服会尽快回复您。",
        "answered-before": "您对这条推荐的回答已经记录过了。",
        "back": "返回文章",
        "missing": "页面不存在",
        "missing-detail": "该文章未在此帮助中心发布，或链接有误。",
        "bad-link": "链接无效",
        "bad-link-detail": "这不是我们发送的链接，或它属于另一篇文章。",
    },
}


def texts(locale: str) -> dict[str, str]:
    """The customer-facing texts for ``locale``'s language (English when not shipped)."""
    return _TEXTS.get(language_of(locale), _TEXTS["en"])


def document(
    title: str, body: str, *, locale: str, home: str, canonical: str | None = None, alternates: str = ""
) -> str:
    words = texts(locale)
    head_links = (f'<link rel="canonical" href="{escape(canonical)}">' if canonical else "") + alternates
    return (
        f'<!DOCTYPE html><html lang="{escape(locale)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} · {escape(words['help'])}</title>{head_links}<style>{_STYLE}</style></head>"
        f'<body><a class="skip" href="#main">{escape(words["skip"])}</a>'
        f'<header><p><a href="{escape(home)}">{escape(words["help"])}</a></p></header>'
        f'<main id="main">{body}</main><footer><p>{escape(words["help"])}</p></footer></body></html>'
    )


def message_page(title: str, detail: str, *, locale: str, home: str) -> str:
    return document(title, f"<h1>{escape(title)}</h1><p>{escape(detail)}</p>", locale=locale, home=home)


def article_page(
    view: ArticleView, *, url_of: dict[str, str], home: str, answer_action: str | None, token: str | None
) -> str:
    """The article in its translation; with a suggestion's token, the form asking whether it answered."""
    translation = view.translation
    words = texts(translation.locale)
    alternates = "".join(
        f'<link rel="alternate" hreflang="{escape(locale)}" href="{escape(url)}">' for locale, url in url_of.items()
    )
    body = f"<article><h1>{escape(translation.title)}</h1>{translation.body_html}</article>"
    if answer_action is not None and token is not None:
        body += (
            f'<form method="post" action="{escape(answer_action)}"><fieldset>'
            f"<legend>{escape(words['question'])}</legend>"
            f'<input type="hidden" name="s" value="{escape(token)}">'
            f'<button class="yes" type="submit" name="answer" value="yes">{escape(words["yes"])}</button>'
            f'<button class="no" type="submit" name="answer" value="no">{escape(words["no"])}</button>'
            "</fieldset></form>"
        )
    return document(
        translation.title,
        body,
        locale=translation.locale,
        home=home,
        canonical=url_of[translation.locale],
        alternates=alternates,
    )


def answered_page(outcome: str, *, locale: str, home: str, article_url: str) -> str:
    words = texts(locale)
    body = (
        f"<h1>{escape(words['help'])}</h1>"
        f'<p class="status" role="status">{escape(words[outcome])}</p>'
        f'<p><a href="{escape(article_url)}">{escape(words["back"])}</a></p>'
    )
    return document(words["help"], body, locale=locale, home=home)
