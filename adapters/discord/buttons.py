"""Approve / Reject buttons that survive restarts (``discord.ui.DynamicItem``) and prompt text."""

from __future__ import annotations

import re
from typing import Any

import discord

from core.approvals import pack_payload
from core.events import ApprovalOutcome, ApprovalRequest, Decision

# Matches core.approvals.pack_payload ("appr:<id>:approve|deny", ids <= 16 url-safe chars);
# DynamicItem rebuilds a button from any custom_id this template matches.
_TEMPLATE = re.compile(r"\Aappr:(?P<id>[A-Za-z0-9_-]{1,16}):(?P<decision>approve|deny)\Z")
_LIMIT = 2000
_FENCE = "```"


class ApprovalButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=_TEMPLATE):
    """One Approve or Reject button; rebuilt from its custom_id on every click, even after a
    restart, because the client registers this class with ``add_dynamic_items``."""

    def __init__(self, approval_id: str, decision: Decision) -> None:
        approve = decision is Decision.APPROVE
        super().__init__(
            discord.ui.Button(
                label="Approve" if approve else "Reject",
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


def _code(text: str) -> str:
    # A ``` inside the command would close the block early; a zero-width space keeps it shut
    # while the approver still reads the same characters.
    return text.replace(_FENCE, "`\u200b``")


def render_prompt(request: ApprovalRequest, *, limit: int = _LIMIT) -> str:
    """The prompt text: exact command, cwd, task, requester, reasons, expiry; fits ``limit``."""
    who = request.requester.display_name or request.requester.id
    head = f"🔐 **Approval needed** · `{request.id}`\n{who} wants to run ({request.tool_name}):\n"
    tail_lines = [f"in `{request.cwd}` · task `{request.task_id}`"]
    if request.reasons:
        tail_lines.append("why: " + "; ".join(request.reasons))
    expires = int(request.expires_at.timestamp())
    tail_lines.append(f"expires <t:{expires}:R> · only approvers can decide")
    tail = "\n" + "\n".join(tail_lines)
    command = _code(request.command)
    room = limit - len(head) - len(tail) - 2 * len(_FENCE) - 2
    if len(command) > room:
        note = "\n… [{} more characters not shown]"
        keep = room - len(note.format(len(command))) - 2
        command = command[: max(keep, 0)] + note.format(len(command) - max(keep, 0))
    return f"{head}{_FENCE}\n{command}\n{_FENCE}{tail}"


def render_outcome(outcome: ApprovalOutcome) -> str:
    """One line saying how the approval ended and who decided."""
    who = outcome.decided_by.display_name or outcome.decided_by.id if outcome.decided_by else ""
    if outcome.decided_by is None:
        line = f"⌛ {outcome.reason or 'expired'} — not run"
    elif outcome.approved:
        line = f"✅ Approved by {who}"
    else:
        line = f"❌ Rejected by {who}"
    if outcome.decided_by is not None and outcome.reason and who not in outcome.reason:
        line += f" ({outcome.reason})"
    return line
