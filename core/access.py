"""Who may use hearth: allowlisted users and admins; everybody else is refused politely."""

from __future__ import annotations

from dataclasses import dataclass

from core.events import User


@dataclass(frozen=True, slots=True)
class AccessPolicy:
    """Deny by default: an empty allowlist means only admins may run tasks."""

    allowed_users: frozenset[str] = frozenset()
    admins: frozenset[str] = frozenset()

    def is_admin(self, user: User) -> bool:
        """True for users listed in ADMINS."""
        return user.qualified in self.admins

    def is_allowed(self, user: User) -> bool:
        """True for admins and users listed in ALLOWED_USERS."""
        return not user.is_bot and (self.is_admin(user) or user.qualified in self.allowed_users)

    def refusal(self, user: User) -> str:
        """The one polite line an unauthorized user gets."""
        return (
            f"Sorry, I only take requests from people on my allowlist. "
            f"Ask an admin to add `{user.qualified}` to ALLOWED_USERS."
        )
