"""Secret redaction for logs and for everything hearth posts into chat.

Two sources of secrets are masked:

* the configured secret values (``Settings.secrets``: platform tokens, API keys, passwords),
  matched literally, plus their URL-encoded form;
* well-known token shapes, even when hearth was never told the value (a token a tool printed
  from some other config file): Slack ``xoxb-``/``xoxp-``/``xapp-``, Anthropic ``sk-ant-``,
  OpenAI-style ``sk-``, GitHub ``ghp_``/``github_pat_``, ``Bearer`` tokens, AWS access key
  ids and secret keys, Matrix ``syt_`` tokens, Discord bot tokens, JWTs, private-key blocks
  and passwords in URLs.

Configured values shorter than ``MIN_SECRET_LENGTH`` (6) characters are not used for literal
masking: masking every "abc" or "1234" in a chat answer would destroy ordinary text and
would also reveal the short value by where the masks appear. Such values are reported once
with a warning (never the value itself).

Overlapping matches are merged before masking, so two secrets sharing characters never leave
a fragment of either visible. Because answers are streamed as growing drafts and long
messages are split, a text that *ends* with the first ``MIN_SECRET_LENGTH``+ characters of a
secret (a draft cut mid-token) or *starts* with its last ones (the second half of a hard
split) is masked as well.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from core.errors import PlatformError
from core.events import ApprovalOutcome, ApprovalRequest, ChatRef, MessageRef
from core.ports import Capabilities, ChatAdapter, EventSink

log = logging.getLogger(__name__)

MASK = "[REDACTED]"
MIN_SECRET_LENGTH = 6

# Characters a renderer may append to a draft after the text proper (cursor, ellipsis).
_TRAILER = " \t\r\n▍…"

# Each pattern has one group named "s": the part that is masked. Text around it (a
# recognisable prefix such as "xoxb-" or "Bearer ") stays, so a reader knows what was there.
# Each comes with needles, one of which every match contains: a pattern runs only on a text
# holding one (Python's re scans a pattern that starts with \b at every position, about
# 70 µs per pattern on 3 KB; looking for a literal costs about 2 µs). Needles of
# case-insensitive patterns are lower case and looked for in the folded text (see _fold).
_SHAPES: tuple[tuple[str, tuple[str, ...]], ...] = (
    # Slack bot/user/refresh/config tokens and app-level tokens.
    (r"\b(?:xox[abposre]|xoxe\.xox[bp]|xapp)-(?P<s>[A-Za-z0-9-]+)", ("xox", "xapp-")),
    # Anthropic keys (before the generic sk- rule so the prefix kept is "sk-ant-").
    (r"\bsk-ant-(?P<s>[A-Za-z0-9_-]+)", ("sk-ant-",)),
    # OpenAI-style keys: sk-..., sk-proj-...
    (r"\bsk-(?!ant-)(?P<s>(?:proj-)?[A-Za-z0-9_-]{16,})", ("sk-",)),
    # GitHub tokens: personal, OAuth, user-to-server, server-to-server, refresh; fine-grained.
    (r"\bgh[pousr]_(?P<s>[A-Za-z0-9]{16,})", ("ghp_", "gho_", "ghu_", "ghs_", "ghr_")),
    (r"\bgithub_pat_(?P<s>[A-Za-z0-9_]{16,})", ("github_pat_",)),
    # Authorization headers and the like.
    (r"(?i)\bbearer\s+(?P<s>[A-Za-z0-9._~+/=-]{8,})", ("bearer",)),
    (r"(?i)\bbasic\s+(?P<s>[A-Za-z0-9+/=]{12,})", ("basic",)),
    # AWS access key ids and secret keys given with their usual names.
    (r"\b(?P<s>(?:AKIA|ASIA|AIDA|AROA)[0-9A-Z]{16})\b", ("AKIA", "ASIA", "AIDA", "AROA")),
    (
        r"(?i)\baws_?secret_?access_?key\b[\"']?\s*[=:]\s*[\"']?(?P<s>[A-Za-z0-9/+=]{40})",
        ("aws",),
    ),
    # Matrix (Synapse) access tokens.
    (r"\bsyt_(?P<s>[A-Za-z0-9_-]{10,})", ("syt_",)),
    # JWTs (header.payload.signature, both parts base64url JSON objects).
    (r"\b(?P<s>eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*)", ("eyJ",)),
    # Discord bot tokens: base64(user id).timestamp.hmac.
    (r"\b(?P<s>[MNO][A-Za-z0-9_-]{23,27}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,})", (".",)),
    # PEM private keys; an unterminated block (a draft) is masked to the end.
    (
        r"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY-----(?P<s>[\s\S]*?)"
        r"(?:-----END (?:[A-Z]+ )*PRIVATE KEY-----|\Z)",
        ("-----BEGIN ",),
    ),
    # user:password@ in URLs.
    (r"\b[a-z][a-z0-9+.-]*://[^/\s:@]+:(?P<s>[^/\s@]+)@", ("://",)),
    # key=value / "key": "value" pairs whose name says it is a secret.
    # (The name must END in the word, so "max_tokens: 12345678" is left alone.)
    (
        r"(?i)(?:password|passwd|secret|token|api_?key|access_?key)[\"']?"
        r"\s*[=:]\s*[\"']?(?P<s>[^\s\"',;]{8,})",
        ("passw", "secret", "token", "api", "access"),
    ),
)
_PATTERNS: tuple[re.Pattern[str], ...] = tuple(re.compile(p) for p, _ in _SHAPES)
# Characters that re's IGNORECASE equates with an ASCII letter but str.lower() does not
# turn into it (found by checking every code point): "PAſSWORD" must still be caught.
_ODD_CASES = str.maketrans({"İ": "i", "ı": "i", "ſ": "s"})


@dataclasses.dataclass(frozen=True, slots=True)
class _Needles:
    """What every match of one pattern contains: a literal, or a regex that starts with one."""

    literals: tuple[str, ...]
    folded: bool  # look in the folded text: the pattern ignores case
    hint: re.Pattern[str] | None = None

    def in_(self, text: str, folded: str) -> bool:
        if self.hint is not None:
            return self.hint.search(text) is not None
        haystack = folded if self.folded else text
        return any(n in haystack for n in self.literals)


def _needles(pattern: str, literals: tuple[str, ...]) -> _Needles:
    if literals == (".",):  # the Discord token's ".timestamp." part
        return _Needles((), False, re.compile(r"\.[A-Za-z0-9_-]{6}\."))
    return _Needles(literals, pattern.startswith("(?i)"))


_NEEDLES: tuple[_Needles, ...] = tuple(_needles(p, n) for p, n in _SHAPES)


def _fold(text: str) -> str:
    """Lower-case ``text`` so that a needle is found wherever an (?i) pattern could match."""
    if not text.isascii() and ("İ" in text or "ı" in text or "ſ" in text):
        text = text.translate(_ODD_CASES)
    return text.lower()


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Merge overlapping or touching [start, end) spans."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


class Redactor:
    """Masks secret values and well-known token shapes in text; cheap enough for every line."""

    def __init__(self, secrets: Iterable[str] = (), *, patterns: bool = True) -> None:
        values: set[str] = set()
        short = 0
        for secret in secrets:
            if not secret:
                continue
            if len(secret) < MIN_SECRET_LENGTH:
                short += 1
                continue
            values.add(secret)
            encoded = quote(secret, safe="")
            if encoded != secret:
                values.add(encoded)
        if short:
            log.warning(
                "%d configured secret(s) shorter than %d characters cannot be redacted "
                "reliably and are not masked literally; use longer secrets",
                short,
                MIN_SECRET_LENGTH,
            )
        # Longest first: a secret that contains another is matched whole.
        self._secrets = tuple(sorted(values, key=len, reverse=True))
        self._patterns = _PATTERNS if patterns else ()

    @property
    def secret_count(self) -> int:
        """How many literal values (including encoded variants) are masked."""
        return len(self._secrets)

    def has_secret(self, text: str) -> bool:
        """True when ``text`` contains a configured secret value (patterns are not used)."""
        return any(secret in text for secret in self._secrets)

    def __call__(self, text: str) -> str:
        """Same as ``redact``."""
        return self.redact(text)

    def redact(self, text: str) -> str:
        """``text`` with every secret span replaced by ``MASK``."""
        if not text:
            return text
        spans = self._spans(text)
        if not spans:
            return text
        out: list[str] = []
        pos = 0
        for start, end in _merge(spans):
            out.append(text[pos:start])
            out.append(MASK)
            pos = end
        out.append(text[pos:])
        return "".join(out)

    def _spans(self, text: str) -> list[tuple[int, int]]:
        spans: list[tuple[int, int]] = []
        for secret in self._secrets:
            start = text.find(secret)
            while start != -1:
                spans.append((start, start + len(secret)))
                start = text.find(secret, start + 1)  # +1: overlapping occurrences too
            spans.extend(self._partial_spans(text, secret))
        folded = _fold(text) if self._patterns else text
        for i, pattern in enumerate(self._patterns):
            if not _NEEDLES[i].in_(text, folded):
                continue
            for match in pattern.finditer(text):
                if match.end("s") > match.start("s"):
                    spans.append((match.start("s"), match.end("s")))
        return spans

    @staticmethod
    def _partial_spans(text: str, secret: str) -> list[tuple[int, int]]:
        """A secret's head at the end of a draft, or its tail at the start of a split part."""
        spans: list[tuple[int, int]] = []
        end = len(text.rstrip(_TRAILER))
        head = secret[:MIN_SECRET_LENGTH]
        pos = text.find(head, max(0, end - len(secret) + 1), end)
        while pos != -1:
            if secret.startswith(text[pos:end]):
                spans.append((pos, end))
                break
            pos = text.find(head, pos + 1, end)
        begin = len(text) - len(text.lstrip(_TRAILER))
        start = text[begin : begin + MIN_SECRET_LENGTH]
        if len(start) == MIN_SECRET_LENGTH:
            j = secret.find(start, 1)
            while j != -1:
                if text.startswith(secret[j:], begin):
                    spans.append((begin, begin + len(secret) - j))
                    break
                j = secret.find(start, j + 1)
        return spans


class RedactingAdapter:
    """A ChatAdapter wrapper that redacts every text hearth sends; everything else delegates.

    The wiring wraps each real adapter with it, so no code path (renderer, commands,
    approvals, heartbeat reports) can post a secret, whichever module produced the text.
    """

    def __init__(self, inner: ChatAdapter, redactor: Redactor) -> None:
        self._inner = inner
        self._redact = redactor

    @property
    def inner(self) -> ChatAdapter:
        """The wrapped adapter."""
        return self._inner

    @property
    def platform(self) -> str:
        """The wrapped adapter's platform name."""
        return self._inner.platform

    @property
    def capabilities(self) -> Capabilities:
        """The wrapped adapter's capabilities."""
        return self._inner.capabilities

    @property
    def connected(self) -> bool:
        """The wrapped adapter's connection state."""
        return bool(self._inner.connected)

    async def run(self, sink: EventSink) -> None:
        """Run the wrapped adapter (inbound events are not altered)."""
        await self._inner.run(sink)

    async def post(self, chat: ChatRef, text: str) -> MessageRef:
        """Post the redacted text."""
        return await self._inner.post(chat, self._redact(text))

    async def edit(self, ref: MessageRef, text: str) -> None:
        """Edit with the redacted text."""
        await self._inner.edit(ref, self._redact(text))

    async def react(self, ref: MessageRef, key: str) -> None:
        """Delegate unchanged (an emoji key carries no secret)."""
        await self._inner.react(ref, key)

    async def ask_approval(self, chat: ChatRef, request: ApprovalRequest) -> MessageRef:
        """Post the prompt verbatim: an approver must see exactly what will run.

        Pattern redaction would hide parts of the command (``password:=…`` looks like a
        secret), so the prompt is never redacted. A prompt holding a configured secret value
        is refused instead (the broker refuses such commands first; this is the last guard).
        """
        if any(
            self._redact.has_secret(t) for t in (request.command, request.cwd, *request.reasons)
        ):
            raise PlatformError("the approval prompt contains a secret; it was not posted")
        return await self._inner.ask_approval(chat, request)

    async def close_approval(self, prompt: MessageRef, outcome: ApprovalOutcome) -> None:
        """Close the prompt, with the outcome's reason redacted."""
        shown = dataclasses.replace(outcome, reason=self._redact(outcome.reason))
        await self._inner.close_approval(prompt, shown)

    async def post_image(
        self, chat: ChatRef, data: bytes, filename: str, caption: str
    ) -> MessageRef:
        """Upload an image with its caption redacted (the picture holds no secrets we wrote)."""
        return await self._inner.post_image(chat, data, filename, self._redact(caption))

    async def post_file(
        self, chat: ChatRef, data: bytes, filename: str, caption: str, mime: str
    ) -> MessageRef:
        """Upload a file with its caption redacted, and its contents too when they are text."""
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            shown = data  # binary: not text hearth wrote
        else:
            shown = self._redact(text).encode("utf-8")
        return await self._inner.post_file(chat, shown, filename, self._redact(caption), mime)

    def verbatim(self) -> RedactingAdapter:
        """This adapter, but posting text and files unredacted: for code an approver reviews."""
        return VerbatimAdapter(self._inner, self._redact)

    def __getattr__(self, name: str) -> Any:
        # Adapter-specific extras (e.g. a bot user id the wiring reads) pass through.
        return getattr(self._inner, name)


class VerbatimAdapter(RedactingAdapter):
    """Posts and uploads exactly what it is given, like an approval prompt; nothing else differs.

    Only the skill review uses it: an approver must read exactly the code that would be
    installed, and pattern redaction would mask parts of it (``password = "…"``). Text holding
    a configured secret value is refused instead (the review refuses such code first; this is
    the last guard). Edits, prompts and everything else stay as RedactingAdapter does them.
    """

    async def post(self, chat: ChatRef, text: str) -> MessageRef:
        """Post the text unchanged, unless it holds a configured secret."""
        self._refuse_secret(text)
        return await self._inner.post(chat, text)

    async def post_file(
        self, chat: ChatRef, data: bytes, filename: str, caption: str, mime: str
    ) -> MessageRef:
        """Upload the bytes and caption unchanged, unless they hold a configured secret."""
        self._refuse_secret(caption)
        self._refuse_secret(data.decode("utf-8", errors="replace"))
        return await self._inner.post_file(chat, data, filename, caption, mime)

    def _refuse_secret(self, text: str) -> None:
        if self._redact.has_secret(text):
            raise PlatformError("the text contains a secret; it was not posted")


def verbatim(adapter: ChatAdapter) -> ChatAdapter:
    """``adapter`` posting unredacted; an unwrapped adapter already does (tests, tools)."""
    return adapter.verbatim() if isinstance(adapter, RedactingAdapter) else adapter
