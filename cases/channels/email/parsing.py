"""Reading an RFC 5322 message: headers, the body a person wrote, attachments, and whether a machine
sent it. Pure: no ORM, no settings; tested on raw messages without a database.

Parsing is Python's `email` package with `policy.default` (RFC 2047 encoded words, RFC 2231
filenames, charsets decoded); quoted history and signatures are cut by `mail-parser-reply`
(maintained, multi-language "On … wrote:" / "Am … schrieb:" / Outlook separators; the classic
`email_reply_parser` has not had a release since 2020). HTML-only mail is turned into text here,
dropping the quoted blocks mail clients mark (`<blockquote>`, Gmail's `gmail_quote`, Outlook's
`divRplyFwdMsg`).
"""

from __future__ import annotations

import html
import mimetypes
import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage as Message
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr
from html.parser import HTMLParser

from mailparser_reply import EmailMessage as ReplyParser

REPLY_LANGUAGES = ["en", "de", "fr", "es", "it", "nl", "sv", "pl", "pt"]


@dataclass
class Attachment:
    filename: str
    content_type: str
    content: bytes


@dataclass
class Bounce:
    """What a delivery status notification says: the Message-ID of the message it reports on (from
    its returned headers), the recipient, the status code and the server's diagnostic."""

    original_message_id: str = ""
    recipient: str = ""
    status: str = ""
    diagnostic: str = ""
    action: str = ""


@dataclass
class ParsedEmail:
    message_id: str = ""
    in_reply_to: str = ""
    references: list[str] = field(default_factory=list)
    from_address: str = ""
    from_name: str = ""
    to: list[str] = field(default_factory=list)
    subject: str = ""
    text: str = ""  # the whole plain-text body (from the HTML part when there is no text part)
    html: str = ""
    attachments: list[Attachment] = field(default_factory=list)
    auto: str = ""  # why a machine sent it (auto-reply, bounce, bulk), "" for a person
    defects: list[str] = field(default_factory=list)
    bounce: Bounce | None = None  # a delivery report (DSN, RFC 3464): which message failed, for whom

    @property
    def thread_ids(self) -> list[str]:
        """The Message-IDs this message answers, nearest first: In-Reply-To, then References from
        the newest back."""
        ids = ([self.in_reply_to] if self.in_reply_to else []) + list(reversed(self.references))
        return list(dict.fromkeys(ids))

    @property
    def forwarded(self) -> bool:
        return bool(FORWARD_SUBJECT.match(self.subject)) or bool(FORWARD_MARKER.search(self.text))


# --- headers -----------------------------------------------------------------------------------------

MESSAGE_ID = re.compile(r"<([^<>\s]+)>")
REPLY_PREFIX = re.compile(r"^\s*((re|fwd?|aw|wg|sv|vs|antw|tr|rif|r)\s*(\[\d+\])?\s*:\s*)+", re.I)
FORWARD_SUBJECT = re.compile(r"^\s*(fwd?|wg|tr|vs|rv)\s*:", re.I)
FORWARD_MARKER = re.compile(
    r"^-{2,}\s*(forwarded message|original message|weitergeleitete nachricht|message transféré)", re.I | re.M
)


def message_ids(value: str) -> list[str]:
    """The ids in a Message-ID / In-Reply-To / References header, without brackets."""
    found = MESSAGE_ID.findall(value or "")
    if not found and value and value.strip() and " " not in value.strip():
        found = [value.strip().strip("<>")]  # a bare id, as some clients write it
    return [f[:998] for f in found]


def case_key_in(subject: str, prefix: str) -> int | None:
    """The case id of the first `[CS-1042]` key in the subject (the tag our replies carry)."""
    match = re.search(rf"\[\s*{re.escape(prefix)}-(\d{{1,12}})\s*\]", subject or "", re.I)
    return int(match.group(1)) if match else None


def clean_subject(subject: str, prefix: str) -> str:
    """A subject for a new case: without Re:/Fwd: prefixes and our own `[CS-n]` tag."""
    subject = re.sub(rf"\[\s*{re.escape(prefix)}-\d{{1,12}}\s*\]", "", subject or "", flags=re.I)
    subject = REPLY_PREFIX.sub("", subject)
    return " ".join(subject.split())


def _header(msg: Message, name: str) -> str:
    try:
        value = msg.get(name)
    except Exception:  # noqa: BLE001 — a header the policy cannot parse is read as missing
        return ""
    return "" if value is None else " ".join(str(value).split())


# --- machines ----------------------------------------------------------------------------------------

BULK_PRECEDENCE = {"bulk", "junk", "list", "auto_reply", "auto-reply"}
DAEMON_LOCALPARTS = {"mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon"}
AUTO_SUBJECT = re.compile(
    r"^\s*(automatic reply|auto[- ]?reply|autoreply|auto-response|out of (the )?office|abwesenheitsnotiz|"
    r"undeliverable|undelivered mail returned to sender|delivery status notification|"
    r"mail delivery failed|returned mail)\b",
    re.I,
)


def auto_reason(msg: Message, *, from_address: str = "", own_addresses: frozenset[str] = frozenset()) -> str:
    """Why a machine, not a person, sent this message: an auto-reply (RFC 3834 `Auto-Submitted`,
    `X-Autoreply`, `X-Autorespond`, Exchange's OOF subject), bulk or list mail (`Precedence`), a
    bounce or receipt (a `multipart/report` DSN/MDN, `MAILER-DAEMON`, `X-Failed-Recipients`, an
    empty `Return-Path`) or our own mail come back (a loop). "" for a person's message."""
    auto_submitted = _header(msg, "Auto-Submitted").lower()
    if auto_submitted and auto_submitted.split(";")[0].strip() != "no":
        return f"Auto-Submitted: {auto_submitted}"
    precedence = _header(msg, "Precedence").lower()
    if precedence in BULK_PRECEDENCE:
        return f"Precedence: {precedence}"
    for name in ("X-Autoreply", "X-Autorespond", "X-Auto-Reply"):
        if _header(msg, name):
            return f"{name} header"
    if msg.get_content_type() == "multipart/report":
        report = (msg.get_param("report-type") or "").lower() if hasattr(msg, "get_param") else ""
        return f"delivery report (multipart/report; report-type={report or '?'})"
    if _header(msg, "X-Failed-Recipients"):
        return "bounce (X-Failed-Recipients)"
    if _header(msg, "Return-Path").strip() == "<>":
        return "bounce (empty Return-Path)"
    local = from_address.split("@", 1)[0].lower()
    if local in DAEMON_LOCALPARTS:
        return f"bounce ({from_address})"
    if from_address and from_address.lower() in own_addresses:
        return "loop: sent from our own support address"
    if AUTO_SUBJECT.match(_header(msg, "Subject")):
        return "auto-reply subject"
    return ""


# --- bodies --------------------------------------------------------------------------------------------


class _TextFromHTML(HTMLParser):
    """Visible text of an HTML mail body, paragraphs kept, quoted blocks and style/script dropped."""

    BLOCK = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "pre", "hr"}
    SKIP = {"style", "script", "head", "title", "blockquote"}
    QUOTE_CLASSES = {"gmail_quote", "gmail_extra", "moz-cite-prefix", "yahoo_quoted", "protonmail_quote"}
    QUOTE_IDS = {"divrplyfwdmsg", "appendonsend", "mail-editor-reference-message-container"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip_depth = 0
        self.stack: list[bool] = []  # per open tag: does it start a skipped region
        self.stop = False  # Outlook's reply separator: everything after it is history

    def handle_starttag(self, tag, attrs):
        if tag in {"br", "hr", "img", "meta", "link", "input"}:
            if tag in {"br", "hr"} and not self.skip_depth:
                self.out.append("\n")
            return
        attrs = dict(attrs)
        classes = set((attrs.get("class") or "").lower().split())
        ident = (attrs.get("id") or "").lower()
        if ident in self.QUOTE_IDS:
            self.stop = True
        skipped = tag in self.SKIP or bool(classes & self.QUOTE_CLASSES) or ident in self.QUOTE_IDS
        self.stack.append(skipped)
        if skipped:
            self.skip_depth += 1
        elif tag in self.BLOCK and not self.skip_depth:
            self.out.append("\n")
        if tag == "li" and not self.skip_depth:
            self.out.append("- ")

    def handle_endtag(self, tag):
        if tag in {"br", "hr", "img", "meta", "link", "input"} or not self.stack:
            return
        if self.stack.pop():
            self.skip_depth -= 1
        elif tag in self.BLOCK and tag != "li" and not self.skip_depth:
            self.out.append("\n")

    def handle_data(self, data):
        if not self.skip_depth and not self.stop:
            self.out.append(data)


def html_to_text(markup: str) -> str:
    parser = _TextFromHTML()
    try:
        parser.feed(markup or "")
        parser.close()
    except Exception:  # noqa: BLE001 — broken markup: fall back to the tags stripped
        return html.unescape(re.sub(r"<[^>]+>", " ", markup or ""))
    text = "".join(parser.out).replace("\xa0", " ")
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def strip_reply(text: str) -> str:
    """The newest reply of a message: quoted history and the signature cut off. Falls back to the
    whole text when the parser finds nothing above the quote (a message that is all quote)."""
    text = (text or "").replace("\r\n", "\n").strip()
    if not text:
        return ""
    try:
        # keep_hyphen_lists: a "- item" list is text, not a signature ("-- " still starts one).
        parsed = ReplyParser(text=text, languages=list(REPLY_LANGUAGES), keep_hyphen_lists=True).read()
        newest = parsed.replies[0].body.strip() if parsed.replies else ""
    except Exception:  # noqa: BLE001 — the parser's regexes on odd input: keep the whole text
        return text
    return newest or text


def message_text(parsed: ParsedEmail) -> str:
    """What the sender wrote: the newest reply, except in a forward, which is kept whole (what was
    forwarded is the point of it)."""
    return parsed.text.strip() if parsed.forwarded else strip_reply(parsed.text)


def _decoded_text(part: Message) -> str:
    try:
        content = part.get_content()
    except (LookupError, UnicodeError, AssertionError, ValueError):  # unknown or lying charset
        payload = part.get_payload(decode=True) or b""
        charset = part.get_content_charset() or "utf-8"
        for candidate in (charset, "utf-8", "windows-1252"):
            try:
                return payload.decode(candidate)
            except (LookupError, UnicodeDecodeError):
                continue
        return payload.decode("latin-1")
    return content if isinstance(content, str) else content.decode("utf-8", "replace")


def _leaves(part: Message):
    """The message's leaf parts in order; an attached message (message/rfc822) is one leaf."""
    if part.get_content_maintype() == "multipart":
        for sub in part.iter_parts():
            yield from _leaves(sub)
    else:
        yield part


def _attachment_of(part: Message, n: int) -> Attachment:
    content_type = part.get_content_type()
    if part.get_content_maintype() == "message":
        inner = part.get_payload()
        inner = inner[0] if isinstance(inner, list) and inner else inner
        content = inner.as_bytes() if isinstance(inner, Message) else bytes(str(inner or ""), "utf-8")
        subject = _header(inner, "Subject") if isinstance(inner, Message) else ""
        default = re.sub(r"[^\w.-]+", "_", subject)[:60].strip("_") or "forwarded-message"
        return Attachment(filename=f"{default}.eml", content_type="message/rfc822", content=content)
    try:
        filename = part.get_filename() or ""
    except Exception:  # noqa: BLE001
        filename = ""
    if not filename:
        filename = f"attachment-{n}{mimetypes.guess_extension(content_type) or '.bin'}"
    content = part.get_payload(decode=True) or b""
    return Attachment(filename=filename, content_type=content_type, content=content)


# --- the whole message ---------------------------------------------------------------------------------


def parse(raw: bytes, *, own_addresses: frozenset[str] = frozenset()) -> ParsedEmail:
    """Read a raw RFC 5322 message. Never raises on bad input: what cannot be read is left empty and
    named in `defects` (the caller refuses a message without a sender)."""
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    parsed = ParsedEmail(defects=[type(d).__name__ for d in msg.defects])
    parsed.message_id = next(iter(message_ids(_header(msg, "Message-ID"))), "")
    parsed.in_reply_to = next(iter(message_ids(_header(msg, "In-Reply-To"))), "")
    parsed.references = message_ids(_header(msg, "References"))[-50:]
    name, address = _sender(msg)
    parsed.from_name, parsed.from_address = name[:200], address[:320]
    parsed.to = [addr for _, addr in getaddresses([_header(msg, "To"), _header(msg, "Cc")]) if addr]
    parsed.subject = _header(msg, "Subject")[:500]
    parsed.auto = auto_reason(msg, from_address=parsed.from_address, own_addresses=own_addresses)
    try:
        parsed.bounce = bounce_of(msg)
    except Exception:  # noqa: BLE001 — a report we cannot read is still an ignored machine message
        parsed.bounce = None

    text_part = html_part = None
    attachments = []
    for part in _leaves(msg):
        disposition = part.get_content_disposition()
        ctype = part.get_content_type()
        if disposition != "attachment" and ctype == "text/plain" and text_part is None:
            text_part = part
        elif disposition != "attachment" and ctype == "text/html" and html_part is None:
            html_part = part
        else:
            attachments.append(part)
    parsed.html = _decoded_text(html_part) if html_part is not None else ""
    if text_part is not None:
        parsed.text = _decoded_text(text_part).replace("\r\n", "\n").strip()
    elif parsed.html:
        parsed.text = html_to_text(parsed.html)
    parsed.attachments = [_attachment_of(part, n) for n, part in enumerate(attachments, start=1)]
    return parsed


_FIELD = re.compile(r"^([A-Za-z-]+):[ \t]*(.*(?:\r?\n[ \t]+.*)*)", re.M)


def bounce_of(msg: Message) -> Bounce | None:
    """The delivery report in a `multipart/report; report-type=delivery-status` message, if any."""
    if msg.get_content_type() != "multipart/report":
        return None
    bounce = Bounce()
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype == "message/delivery-status":
            text = "\n".join(
                block.as_string() if isinstance(block, Message) else str(block) for block in part.get_payload() or []
            )
            fields = {name.lower(): " ".join(value.split()) for name, value in _FIELD.findall(text)}
            bounce.recipient = fields.get("final-recipient", "").split(";")[-1].strip()[:320]
            bounce.status = fields.get("status", "")[:20]
            bounce.action = fields.get("action", "")[:20]
            bounce.diagnostic = fields.get("diagnostic-code", "").split(";", 1)[-1].strip()[:500]
        elif ctype in ("message/rfc822", "text/rfc822-headers") and not bounce.original_message_id:
            inner = part.get_payload()
            inner = inner[0] if isinstance(inner, list) and inner else inner
            headers = inner.as_string() if isinstance(inner, Message) else _decoded_text(part)
            match = re.search(r"^Message-ID:\s*<([^<>\s]+)>", headers, re.I | re.M)
            if match:
                bounce.original_message_id = match.group(1)[:998]
    return bounce


def _sender(msg: Message) -> tuple[str, str]:
    try:
        header = msg.get("From")
        addresses = getattr(header, "addresses", ()) if header is not None else ()
        if addresses and addresses[0].addr_spec and "@" in addresses[0].addr_spec:
            return addresses[0].display_name or "", addresses[0].addr_spec.lower()
    except Exception:  # noqa: BLE001 — fall back to the lenient parser
        pass
    name, address = parseaddr(_header(msg, "From"))
    return (name, address.lower()) if "@" in address else ("", "")
