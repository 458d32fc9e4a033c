#!/usr/bin/env bash
# Read-only state of a service: systemd unit, container, processes. Usage: service-status.sh [name]
set -u
name="${1:-}"
if [ -z "$name" ]; then
  echo "## failed systemd units"
  systemctl --failed --no-legend 2>/dev/null || echo "(systemctl not available)"
  echo "## containers not running"
  docker ps -a --filter status=exited --filter status=restarting --format '{{.Names}} {{.Status}}' 2>/dev/null \
    || echo "(docker not available)"
  exit 0
fi
echo "## systemd unit $name"
if command -v systemctl >/dev/null 2>&1 && systemctl cat "$name" >/dev/null 2>&1; then
  systemctl status "$name" --no-pager --lines=0 2>&1 | head -n 12
  journalctl -u "$name" -n 40 --no-pager 2>&1
else
  echo "(no such unit)"
fi
echo "## container $name"
if command -v docker >/dev/null 2>&1 && docker inspect "$name" >/dev/null 2>&1; then
  docker inspect -f 'state={{.State.Status}} restarts={{.RestartCount}} exit={{.State.ExitCode}} error={{.State.Error}}' "$name"
  docker logs --tail 40 "$name" 2>&1
else
  echo "(no such container)"
fi
echo "## processes matching $name"
ps -eo pid,pcpu,pmem,etime,args --sort=-pcpu | grep -i -- "$name" | grep -v -e grep -e service-status | head -n 10 \
  || echo "(none)"
