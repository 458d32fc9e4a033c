"""Approve / Reject buttons that survive restarts (``discord.ui.DynamicItem``) and prompt text."""

from __future__ import annotations

import re
from typing import Any

import discord

from core.approvals import prompt
from core.approvals.payload import pack_payload
from core.errors import MessageTooLong
from core.events import ApprovalOutcome, ApprovalRequest, Decision

# Matches core.approvals.pack_payload ("appr:<id>:approve|deny", ids <= 16 url-safe chars);
# DynamicItem rebuilds a button from any custom_id this template matches.
_TEMPLATE = re.compile(r"\Aappr:(?P<id>[A-Za-z0-9_-]{1,16}):(?P<decision>approve|deny)\Z")
_LIMIT = 2000


class ApprovalButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=_TEMPLATE):
    """One Approve or Reject button; rebuilt from its custom_id on every click, even after a
    restart, because the client registers this class with ``add_dynamic_items``."""

    def __init__(self, approval_id: str, decision: Decision) -> None:
        approve = decision is Decision.APPROVE
        super().__init__(
            discord.ui.Button(
                label=prompt.APPROVE_LABEL if approve else prompt.REJECT_LABEL,
                style=discord.ButtonStyle.success if approve else discord.ButtonStyle.danger,
                custom_id=pack_payload(approval_id, decision),
            )
        )
        self.approval_id = approval_id
        self.decision = decision

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Button[Any],
        match: re.Match[str],
        /,
    ) -> ApprovalButton:
        """Rebuild the button from the clicked custom_id."""
        return cls(match["id"], Decision(match["decision"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        """Hand the click to the adapter that owns the client."""
        client: Any = interaction.client
        handler = getattr(client, "handle_approval_click", None)
        if handler is None:
            await interaction.response.send_message(
                "This approval cannot be handled right now.", ephemeral=True
            )
            return
        await handler(interaction, self.approval_id, self.decision)


def approval_view(approval_id: str) -> discord.ui.View:
    """A view with the two buttons; no timeout, the broker decides when it ends."""
    view = discord.ui.View(timeout=None)
    view.add_item(ApprovalButton(approval_id, Decision.APPROVE))
    view.add_item(ApprovalButton(approval_id, Decision.DENY))
    return view


def render_prompt(request: ApprovalRequest, *, limit: int = _LIMIT) -> str:
    """Core's prompt words in Discord markdown; the command is never shortened.

    A prompt over Discord's hard limit raises MessageTooLong: the broker then denies the
    request rather than show an approver part of it.
    """
    content = prompt.prompt_content(request)
    lines = prompt.markdown_lines(content)
    expires = int(content.expires_at.timestamp())
    lines.append(f"{content.answer_text(buttons=True)} Expires <t:{expires}:R>.")
    text = "\n".join(lines)
    if len(text) > limit:
        raise MessageTooLong(
            f"discord: the approval prompt is {len(text)} characters, over the {limit} limit"
        )
    return text


def render_closed(text: str, outcome: ApprovalOutcome, *, limit: int = _LIMIT) -> str:
    """The prompt with its answer line replaced by the outcome (same length budget)."""
    kept = text.split("\n")
    if kept and kept[-1].startswith("Click "):
        kept = kept[:-1]
    body = "\n".join([*kept, render_outcome(outcome)]) if kept else render_outcome(outcome)
    return body if len(body) <= limit else render_outcome(outcome)


def render_outcome(outcome: ApprovalOutcome) -> str:
    """One line saying how the approval ended and who decided, in core's words."""
    return prompt.outcome_line(outcome)
