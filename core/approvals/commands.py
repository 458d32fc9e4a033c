"""Text fallback for approvals on every platform: ``approve <id>`` and ``deny <id> [reason]``.

Only these exact commands with an id decide anything; a bare "yes" or "ok" approves nothing.
"""

from __future__ import annotations

from core.approvals.broker import ApprovalBroker
from core.approvals.decisions import Resolution
from core.commands import Command, CommandContext
from core.events import ApprovalResponse, Decision


async def _decide(broker: ApprovalBroker, ctx: CommandContext, decision: Decision) -> str | None:
    verb = decision.value
    parts = ctx.args.split(maxsplit=1)
    if not parts:
        return f"Usage: `{verb} <id>` — the id is shown on the approval prompt."
    approval_id = parts[0].strip("`<>\"'")
    reason = parts[1] if len(parts) > 1 and decision is Decision.DENY else ""
    response = ApprovalResponse(
        approval_id=approval_id,
        decision=decision,
        user=ctx.user,
        prompt=None,
        event_id=ctx.message.event_id,
    )
    result = await broker.answer(response, notify=False, reason=reason)
    match result:
        case Resolution.DECIDED:
            return f"{'Approved' if decision is Decision.APPROVE else 'Denied'} {approval_id}."
        case Resolution.NOT_ALLOWED:
            name = ctx.user.display_name or ctx.user.id
            return f"@{name}, only approvers can decide approvals."
        case Resolution.CLOSED:
            record = await broker.lookup(approval_id)
            if record is None:
                return f"Approval {approval_id} is already closed."
            who = record.decided_by_name or record.decided_by or ""
            detail = ", ".join(x for x in (f"by {who}" if who else "", record.reason) if x)
            return f"Approval {approval_id} is already closed: {record.status}" + (
                f" ({detail})." if detail else "."
            )
        case Resolution.UNKNOWN:
            return (
                f"No approval with id {approval_id!r}. Use the id shown on the prompt, "
                f"e.g. `{verb} Ab3dE9xY`."
            )
        case _:
            return None


def approval_commands(broker: ApprovalBroker) -> list[Command]:
    """The ``approve`` and ``deny`` text commands, bound to ``broker``."""

    async def approve(ctx: CommandContext) -> str | None:
        return await _decide(broker, ctx, Decision.APPROVE)

    async def deny(ctx: CommandContext) -> str | None:
        return await _decide(broker, ctx, Decision.DENY)

    return [
        Command(
            name="approve",
            usage="approve <id>",
            help="approve a pending risky command (approvers only)",
            handler=approve,
            aliases=("!approve",),
        ),
        Command(
            name="deny",
            usage="deny <id> [reason]",
            help="deny a pending risky command (approvers only)",
            handler=deny,
            aliases=("reject", "!deny", "!reject"),
        ),
    ]
