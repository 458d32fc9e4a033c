"""Commands an approval prompt must show exactly, on every platform."""

from __future__ import annotations

# Parameter expansions and "password:=" look like a secret to pattern redaction; the second
# is several lines, of which an approver must see every one.
PASSWORD_TRICK = "echo password:=hunter2; ${password:=}rm${IFS}-rf${IFS}/srv/project"
MULTI_LINE = "cd /srv/project\ngit pull --ff-only\nrm -rf build\necho 'done: ${HOME}'"
VERBATIM = (PASSWORD_TRICK, MULTI_LINE)
# A configured secret that appears in none of them (the wrapper still redacts replies).
UNRELATED_SECRET = "xoxb-unrelated-secret-1234"
