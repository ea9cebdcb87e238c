#!/usr/bin/env bash
# Restore a dump made by backup.sh, then bring it up to date with the code and apply the
# retention policy again: a dump can hold details of CAF support requests that
# `support anonymise` has removed from the live database since, and a restore must not bring
# them back (README, "Backups and the retention policy").
#
# Usage (web and worker units stopped, settings as the units read them):
#   set -a; . /etc/schools-portal/portal.env; set +a
#   DATABASE=portal deploy/restore.sh /var/backups/schools-portal/portal-YYYY-MM-DD.dump
set -euo pipefail

if [ "$#" -ne 1 ] || [ ! -f "$1" ]; then
  echo "usage: DATABASE=<database> $0 <dump file made by backup.sh>" >&2
  exit 2
fi
DUMP="$1"
DATABASE="${DATABASE:-portal}"
FLASK="${FLASK:-/opt/schools-portal/.venv/bin/flask}"

pg_restore --clean --if-exists --no-owner --exit-on-error -d "$DATABASE" "$DUMP"
"$FLASK" --app portal db upgrade
"$FLASK" --app portal support anonymise
echo "restore.sh: restored $DUMP into $DATABASE, migrated it, and applied the retention policy"
