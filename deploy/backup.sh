#!/usr/bin/env bash
# Nightly backup of the portal's database: a compressed custom-format dump, kept 30 days.
# Restore with: pg_restore --clean --if-exists --no-owner -d "$DATABASE" portal-YYYY-MM-DD.dump
set -euo pipefail
DATABASE="${DATABASE:-portal}"
BACKUP_DIR="${BACKUP_DIR:-/var/backups/schools-portal}"
mkdir -p "$BACKUP_DIR"
pg_dump --format=custom --no-owner --file="$BACKUP_DIR/portal-$(date +%F).dump" "$DATABASE"
find "$BACKUP_DIR" -name 'portal-*.dump' -mtime +30 -delete
