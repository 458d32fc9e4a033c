"""`hearth jobs …`: scheduled jobs from the command line."""

from __future__ import annotations

from bot.config import Settings
from core.storage import MIGRATIONS, Database
from core.storage.jobs import JobStore


async def jobs_cli(settings: Settings, action: str, job_id: str | None) -> tuple[bool, str]:
    """`hearth jobs list|pause|resume|remove`; a running hearth follows within ACCESS_SYNC."""
    db = Database(settings.db_path, MIGRATIONS)
    await db.start()
    try:
        store = JobStore(db)
        if action == "list":
            lines = []
            for job in await store.live():
                runs = await store.runs(job.id, limit=1)
                last = runs[0].status if runs else "not run yet"
                lines.append(
                    f"{job.id}  {job.status}  {job.channel.platform}:{job.channel.channel_id}  "
                    f"{job.creator}  {job.describe} ({job.tz})  last: {last}  {job.task}"
                )
            return True, "\n".join(lines) or "no scheduled jobs"
        job = await store.get(job_id or "")
        if job is None or job.status not in ("active", "paused"):
            return False, f"no live job {job_id!r} (see `hearth jobs list`)"
        status = {"pause": "paused", "resume": "active", "remove": "removed"}[action]
        await store.set_status(job.id, status, "from the command line")
        return True, f"job {job.id} is {status}"
    finally:
        await db.close()
