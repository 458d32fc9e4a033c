"""Access from chat: `pair`, `allow`, `revoke`, `users` (admins) and `settings` (per channel)."""

from __future__ import annotations

from core.channel_settings import (
    TASK_POLICIES,
    ChannelPolicy,
    ChannelSettings,
    budget_cap_usd,
    parse_budget_share,
)
from core.commands import Command, CommandContext
from core.team.pairing import Pairing
from core.team.roster import Roster
from core.team.subjects import SubjectError, parse_subject

_ROLES = ("user", "approver")


def _role(words: list[str]) -> str | None:
    """``as approver`` / ``as user`` at the end of the arguments (default user)."""
    if not words:
        return "user"
    if len(words) == 2 and words[0].lower() == "as" and words[1].lower() in _ROLES:
        return words[1].lower()
    return None


def access_commands(roster: Roster, pairing: Pairing | None) -> list[Command]:
    """`pair …`, `allow …`, `revoke …` and `users`, for admins."""

    async def pair(ctx: CommandContext) -> str:
        if pairing is None:
            return "Pairing is off (PAIRING=off): use `allow <platform:id>` instead."
        words = ctx.args.split()
        verb = words[0].lower() if words else "list"
        actor = ctx.user.qualified
        if verb == "list":
            codes = await pairing.pending()
            if not codes:
                return "No pairing requests are waiting."
            return "Waiting pairing requests:\n" + "\n".join(
                f"• `{c.code}` {c.display_name or c.user} (`{c.user}`)" for c in codes
            )
        if verb == "approve" and len(words) >= 2:
            role = _role(words[2:])
            if role is None:
                return "Usage: `pair approve <code> [as user|approver]`"
            return await pairing.approve(words[1], role=role, actor=actor)
        if verb == "reject" and len(words) == 2:
            return await pairing.reject(words[1], actor=actor)
        return (
            "Usage: `pair` (list), `pair approve <code> [as user|approver]`, `pair reject <code>`"
        )

    async def allow(ctx: CommandContext) -> str:
        words = ctx.args.split()
        role = _role(words[1:]) if words else None
        if not words or role is None:
            return "Usage: `allow <platform:id|@mention> [as approver]`"
        try:
            subject = parse_subject(words[0], platform=ctx.chat.platform)
        except SubjectError as exc:
            return str(exc)
        return await roster.allow(subject, role=role, actor=ctx.user.qualified)

    async def revoke(ctx: CommandContext) -> str:
        words = ctx.args.split()
        if len(words) != 1:
            return "Usage: `revoke <platform:id|@mention>`"
        try:
            subject = parse_subject(words[0], platform=ctx.chat.platform)
        except SubjectError as exc:
            return str(exc)
        return await roster.revoke(subject, actor=ctx.user.qualified)

    async def users(ctx: CommandContext) -> str:
        members = roster.members()
        if not members:
            return "Nobody is allowed yet."
        return "Who may use hearth:\n" + "\n".join(
            f"• `{m.user}` {m.role} ({m.source}){' — revoked' if m.status == 'revoked' else ''}"
            for m in members
        )

    return [
        Command(
            "pair",
            "pair [approve <code> [as user|approver] | reject <code>]",
            "pairing requests from DMs: list, approve or reject them",
            pair,
            admin_only=True,
        ),
        Command(
            "allow",
            "allow <platform:id|@mention> [as approver]",
            "let someone use hearth (or decide approvals)",
            allow,
            admin_only=True,
        ),
        Command(
            "revoke",
            "revoke <platform:id|@mention>",
            "take someone's access away and stop their running tasks",
            revoke,
            admin_only=True,
        ),
        Command("users", "users", "who may use hearth, and why", users, admin_only=True),
    ]


def settings_command(
    channels: ChannelSettings,
    policy: ChannelPolicy,
    *,
    daily_budget_usd: float | None,
    default_tz: str = "UTC",
) -> Command:
    """`settings` shows this channel's settings; `settings <name> <value>` (admins) sets one."""

    async def show(ctx: CommandContext) -> str:
        local = await channels.is_local_only(ctx.chat)
        tasks = await policy.task_policy(ctx.chat)
        share = await policy.budget_share(ctx.chat)
        cap = budget_cap_usd(share, daily_budget_usd)
        if share is None:
            budget = "off (only the global and per-user caps apply)"
        elif cap is None:
            budget = f"{share} of DAILY_BUDGET_USD, which is unset, so no cap"
        else:
            budget = f"{share if share.endswith('%') else '$' + share} a day (${cap:.2f})"
        return (
            "Settings of this channel:\n"
            f"• `local-only` {'on' if local else 'off'}\n"
            f"• `budget` {budget}\n"
            f"• `tasks` {tasks} (who may start tasks here)\n"
            f"• `tz` {await policy.timezone(ctx.chat, default_tz)} (for scheduled jobs)\n"
            "Admins change one with `settings <name> <value>`, e.g. `settings budget 25%`."
        )

    async def handler(ctx: CommandContext) -> str:
        words = ctx.args.split()
        if not words:
            return await show(ctx)
        if not ctx.is_admin:
            return "Only an admin can change this channel's settings."
        name, value = words[0].lower(), " ".join(words[1:]).strip().lower()
        if name == "tz" and len(words) == 2:
            try:
                await policy.set_timezone(ctx.chat, None if value == "default" else words[1])
            except ValueError as exc:
                return str(exc)
            return await show(ctx)
        if name == "local-only" and value in {"on", "off"}:
            await channels.set_local_only(ctx.chat, value == "on")
        elif name == "tasks" and value in TASK_POLICIES:
            await policy.set_task_policy(ctx.chat, value)
        elif name == "budget" and value:
            try:
                share = None if value == "off" else parse_budget_share(value)
            except ValueError as exc:
                return str(exc)
            if share and share.endswith("%") and daily_budget_usd is None:
                return "A share in % needs DAILY_BUDGET_USD; give dollars instead, e.g. `$2`."
            await policy.set_budget_share(ctx.chat, share)
        else:
            return (
                "Usage: `settings local-only on|off`, `settings budget <25%|$2|off>`, "
                "`settings tasks everyone|approvers`, `settings tz <Europe/Berlin|default>`"
            )
        return await show(ctx)

    return Command(
        "settings",
        "settings [local-only on|off | budget <25%|$2|off> | tasks everyone|approvers]",
        "this channel's settings; admins change them",
        handler,
    )
