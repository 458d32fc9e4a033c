"""Scheduled tasks from chat: the `every`/`at` grammar, the job service, its commands."""
