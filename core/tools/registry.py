"""Tool and ToolRegistry: specs from signatures, validation, risk, approvals, error results.

A tool call never crashes a task: unknown tools, bad arguments, refusals, denials and tool
exceptions all come back to the model as error results it can act on.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import typing
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.errors import ToolError
from core.events import ApprovalOutcome
from core.llm.base import ToolCall, ToolResult, ToolSpec
from core.ports import ApprovalRequester
from core.redact import Redactor
from core.tools.base import PreparedCall, ToolContext
from core.tools.risk import LOW, Risk

if TYPE_CHECKING:  # imported when the first tool is built: the process starts without it
    import pydantic

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ToolOutput:
    """What a tool function may return instead of a plain string."""

    text: str
    is_error: bool = False


ToolFunc = Callable[..., Awaitable[str | ToolOutput]]
RiskFunc = Callable[[Mapping[str, Any]], Risk | Awaitable[Risk]]


@dataclass(frozen=True, slots=True, kw_only=True)
class Tool:
    """An async function with a JSON-schema spec and an optional risk judge."""

    name: str
    description: str
    parameters: dict[str, Any]
    func: ToolFunc
    model: type[pydantic.BaseModel]
    read_only: bool = False
    risk: RiskFunc | None = None  # None: never needs approval
    low_risk: Callable[[Mapping[str, Any]], bool] | None = None
    approval_subject: str = "command"  # the argument an approver sees and approves
    describe: Callable[[Mapping[str, Any]], str] | None = None  # or the approver sees this
    cwd: str = ""  # working directory shown in approval prompts
    takes_context: bool = False  # func gets the call's ToolContext as ``ctx=``

    @property
    def spec(self) -> ToolSpec:
        """The tool as the model sees it."""
        return ToolSpec(self.name, self.description, self.parameters)

    def validate(self, arguments: object) -> dict[str, Any]:
        """Validated arguments; raises pydantic.ValidationError or TypeError."""
        if not isinstance(arguments, Mapping):
            raise TypeError("arguments must be a JSON object")
        parsed = self.model.model_validate(dict(arguments))
        return {name: getattr(parsed, name) for name in type(parsed).model_fields}


def tool(
    func: ToolFunc,
    *,
    name: str | None = None,
    read_only: bool = False,
    risk: RiskFunc | None = None,
    low_risk: Callable[[Mapping[str, Any]], bool] | None = None,
    approval_subject: str = "command",
    describe: Callable[[Mapping[str, Any]], str] | None = None,
    cwd: str = "",
) -> Tool:
    """Build a Tool from ``func``'s signature, type hints and docstring."""
    import pydantic

    tool_name = name or func.__name__
    takes_context = False
    description, arg_docs = _parse_docstring(inspect.getdoc(func) or "")
    hints = typing.get_type_hints(func)
    fields: dict[str, Any] = {}
    for param in inspect.signature(func).parameters.values():
        if param.name == "self" or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        if param.name == "ctx":  # per-call state (the task), never an argument of the model
            takes_context = True
            continue
        default = ... if param.default is inspect.Parameter.empty else param.default
        annotation = hints.get(param.name, Any)
        fields[param.name] = (
            annotation,
            pydantic.Field(default=default, description=arg_docs.get(param.name)),
        )
    model = pydantic.create_model(  # type: ignore[call-overload]
        f"{tool_name}_arguments", __config__=pydantic.ConfigDict(extra="forbid"), **fields
    )
    return Tool(
        name=tool_name,
        description=description or tool_name,
        parameters=_clean_schema(model.model_json_schema()),
        func=func,
        model=model,
        read_only=read_only,
        risk=risk,
        low_risk=low_risk,
        approval_subject=approval_subject,
        describe=describe,
        cwd=cwd,
        takes_context=takes_context,
    )


def _parse_docstring(doc: str) -> tuple[str, dict[str, str]]:
    """First paragraph, and ``name: text`` lines of an ``Args:`` section."""
    summary, _, rest = doc.partition("\n\n")
    args: dict[str, str] = {}
    current = None
    args_indent = 0
    in_args = False
    for line in rest.splitlines():
        stripped = line.strip()
        if stripped in {"Args:", "Arguments:", "Parameters:"}:
            in_args = True
            continue
        if not in_args or not stripped:
            continue
        head, sep, text = stripped.partition(":")
        indent = len(line) - len(line.lstrip())
        if sep and head.isidentifier() and (current is None or indent <= args_indent):
            current, args_indent = head, indent
            args[current] = text.strip()
        elif current is not None:
            args[current] += " " + stripped
    return " ".join(summary.split()), args


def _clean_schema(schema: Any) -> Any:
    """Drop pydantic's titles: small models read every token of the spec."""
    if isinstance(schema, dict):
        return {k: _clean_schema(v) for k, v in schema.items() if k != "title"}
    if isinstance(schema, list):
        return [_clean_schema(v) for v in schema]
    return schema


def _schema_hint(t: Tool) -> str:
    props = t.parameters.get("properties", {})
    required = set(t.parameters.get("required", []))
    parts = []
    for key, prop in props.items():
        kind = prop.get("type") or "/".join(
            str(p.get("type")) for p in prop.get("anyOf", []) if p.get("type") != "null"
        )
        parts.append(f'"{key}"{"" if key in required else "?"}: {kind or "any"}')
    return "{" + ", ".join(parts) + "}"


def _explain(t: Tool, exc: Exception) -> str:
    import pydantic

    if isinstance(exc, pydantic.ValidationError):
        problems = []
        for error in exc.errors()[:4]:
            where = ".".join(str(p) for p in error["loc"]) or "arguments"
            msg = "unexpected argument" if error["type"] == "extra_forbidden" else error["msg"]
            problems.append(f"{where}: {msg}")
        detail = "; ".join(problems)
    else:
        detail = str(exc)
    return f"bad arguments for {t.name} ({detail}). Expected: {_schema_hint(t)}"


def _not_run(outcome: ApprovalOutcome) -> str:
    if outcome.decided_by is not None:
        who = outcome.decided_by.display_name or outcome.decided_by.id
        why = f" ({outcome.reason})" if outcome.reason else ""
        return (
            f"Not run: denied by {who}{why}. Do not retry it as is; explain or propose "
            "another way."
        )
    reason = outcome.reason or "expired"
    return f"Not run: approval {reason}. Nothing was executed."


class ToolRegistry:
    """The tools of one bot; implements core.tools.base.ToolRunner.

    Built once and shared by every task: per-task state (which task, which thread, whether
    it runs unattended) comes with each call's ToolContext.
    """

    def __init__(
        self,
        tools: Iterable[Tool] = (),
        *,
        broker: ApprovalRequester | None = None,
        secrets: Sequence[str] = (),
        unattended_broker: ApprovalRequester | None = None,
    ) -> None:
        self._tools: dict[str, Tool] = {}
        self._broker = broker
        # Scheduled runs ask through this one (e.g. with a timeout: nobody may be watching).
        self._unattended_broker = unattended_broker
        self._secrets = tuple(secrets)
        self._redact = Redactor(secrets)
        for t in tools:
            self.register(t)

    def extended(self, tools: Iterable[Tool]) -> ToolRegistry:
        """A registry with these tools added; one named like an existing tool is skipped."""
        extra = [t for t in tools if t.name not in self._tools]
        if not extra:
            return self
        out = ToolRegistry(
            [*self._tools.values(), *extra],
            broker=self._broker,
            unattended_broker=self._unattended_broker,
        )
        out._secrets, out._redact = self._secrets, self._redact
        return out

    def register(self, t: Tool) -> None:
        """Add a tool; a second tool with the same name is an error."""
        if t.name in self._tools:
            raise ValueError(f"duplicate tool name {t.name!r}")
        self._tools[t.name] = t

    def get(self, name: str) -> Tool | None:
        """The tool called ``name``, if any."""
        return self._tools.get(name)

    @property
    def names(self) -> list[str]:
        """Registered tool names, in registration order."""
        return list(self._tools)

    def specs(self) -> Sequence[ToolSpec]:
        """Specs of every tool offered to the model."""
        return [t.spec for t in self._tools.values()]

    def is_read_only(self, name: str) -> bool:
        """True for tools that change nothing."""
        t = self._tools.get(name)
        return bool(t and t.read_only)

    async def prepare(self, call: ToolCall) -> PreparedCall:
        """Validate and judge ``call`` once; the verdict travels with it to ``run``."""
        t = self._tools.get(call.name)
        if t is None:
            available = ", ".join(self._tools) or "none"
            return PreparedCall(
                call, error=f"unknown tool {call.name!r}; available tools: {available}"
            )
        import pydantic

        try:
            args = t.validate(call.arguments)
        except (pydantic.ValidationError, TypeError) as exc:
            return PreparedCall(call, error=_explain(t, exc))
        if t.risk is None:
            parallel = t.low_risk(args) if t.low_risk is not None else t.read_only
            return PreparedCall(call, args, LOW, parallel)
        try:
            judged = t.risk(args)
            risk = await judged if inspect.isawaitable(judged) else judged
        except asyncio.CancelledError:
            raise
        except Exception:  # a judge that fails asks a human; it never waves a call through
            log.exception("risk check of %s failed", t.name)
            risk = Risk("high", ("the risk check failed, so it could not be checked",))
        return PreparedCall(call, args, risk, parallel=risk.level == "low")

    async def run(self, call: ToolCall | PreparedCall, ctx: ToolContext) -> ToolResult:
        """Execute one call; every failure is an error result, never an exception."""
        prepared = call if isinstance(call, PreparedCall) else await self.prepare(call)
        call = prepared.call
        if prepared.error is not None:
            return self._error(call, prepared.error)
        t = self._tools[call.name]
        args = dict(prepared.args)
        if t.risk is not None:
            try:
                refusal = await self._gate(t, args, prepared.risk, ctx)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # storage or platform failure: deny, never run unapproved
                log.exception("approval for %s in task %s failed", t.name, ctx.task_id)
                refusal = f"Not run: the approval could not be requested ({exc})."
            if refusal is not None:
                return self._error(call, refusal)
        try:
            out = await (t.func(ctx=ctx, **args) if t.takes_context else t.func(**args))
        except asyncio.CancelledError:
            raise
        except ToolError as exc:
            return self._error(call, str(exc))
        except Exception as exc:
            log.exception("tool %s failed in task %s", t.name, ctx.task_id)
            return self._error(call, f"{t.name} failed: {type(exc).__name__}: {exc}")
        text, is_error = (out.text, out.is_error) if isinstance(out, ToolOutput) else (out, False)
        return ToolResult(call.id, call.name, self._redact(str(text)), is_error)

    async def _gate(
        self, t: Tool, args: dict[str, Any], risk: Risk, ctx: ToolContext
    ) -> str | None:
        """None when the call may run; otherwise the reason it may not."""
        if risk.blocked:
            return (
                f"refused: this is never run ({'; '.join(risk.reasons)}). "
                "Find a safer way, or ask a human to do it themselves."
            )
        if not risk.needs_approval:
            return None
        broker = self._broker
        if ctx.unattended and self._unattended_broker is not None:
            broker = self._unattended_broker
        if broker is None:
            return "Not run: it needs an approval and no approver is configured."
        subject = t.describe(args) if t.describe is not None else str(args[t.approval_subject])
        # Unattended (scheduled) work asks like anyone else: nothing is ever auto-approved.
        outcome = await broker.request(
            chat=ctx.chat,
            command=subject,
            cwd=t.cwd or str(ctx.workspace),
            task_id=ctx.task_id,
            requester=ctx.requester,
            tool_name=t.name,
            reasons=risk.reasons,
        )
        return None if outcome.approved else _not_run(outcome)

    def _error(self, call: ToolCall, text: str) -> ToolResult:
        return ToolResult(call.id, call.name, self._redact(text), is_error=True)
