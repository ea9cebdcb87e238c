#!/usr/bin/env bash
# Nightly backup of the portal's database: a compressed custom-format dump, kept
# BACKUP_KEEP_DAYS days (14 by default). Restore with deploy/restore.sh, which applies the
# retention policy again straight after (README, "Backups and the retention policy").
#
# The dumps hold everything the portal holds, children's details included, so:
# - every file and the folder are readable by their owner only, whatever the caller's umask;
# - a dump is written under a temporary name and takes its real name only once pg_dump has
#   finished without error, so a failed night leaves no file that looks like a backup, and
#   the script exits non-zero for the timer (and whoever watches it) to see.
set -euo pipefail
umask 077

DATABASE="${DATABASE:-portal}"
BACKUP_DIR="${BACKUP_DIR:-/var/backups/schools-portal}"
BACKUP_KEEP_DAYS="${BACKUP_KEEP_DAYS:-14}"

if ! [[ "$BACKUP_KEEP_DAYS" =~ ^[0-9]+$ ]] || [ "$BACKUP_KEEP_DAYS" -lt 1 ]; then
  echo "backup.sh: BACKUP_KEEP_DAYS must be a whole number of days, 1 or more" >&2
  exit 2
fi

mkdir -p "$BACKUP_DIR"
chmod 700 "$BACKUP_DIR"

target="$BACKUP_DIR/portal-$(date +%F).dump"
partial="$(mktemp "$BACKUP_DIR/.portal-XXXXXX.partial")"
trap 'rm -f "$partial"' EXIT

if ! pg_dump --format=custom --no-owner --file="$partial" "$DATABASE"; then
  echo "backup.sh: pg_dump of $DATABASE failed; no backup was written" >&2
  exit 1
fi
chmod 600 "$partial"
mv -f "$partial" "$target"
trap - EXIT

# Dumps older than the retention of backups go, and with them the last copies of details
# the portal's own retention policy has since removed. Temporary files a crash left behind
# go too.
find "$BACKUP_DIR" -maxdepth 1 -name 'portal-*.dump' -mtime +"$((BACKUP_KEEP_DAYS - 1))" -delete
find "$BACKUP_DIR" -maxdepth 1 -name '.portal-*.partial' -mmin +1440 -delete
echo "backup.sh: wrote $target"
