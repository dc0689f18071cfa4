#!/bin/sh
# One PostgreSQL role and one database per service, each database owned by its role and closed to
# the others: a service can reach only its own data (README.md, "What production needs"). Its
# role owns the database, so it may run its own migrations (docs/migrations.md).
#
# Run once by the postgres image on an empty data directory (/docker-entrypoint-initdb.d/), in
# deploy/compose.yaml and in the development cluster's PostgreSQL (postgres.yaml beside it). The
# passwords come from CAMPUS_<SERVICE>_DB_PASSWORD and must match the ones in each service's
# <SERVICE>_DATABASE_URL (deploy/env/generate.sh writes both). No `set -u`: an image may source
# this file into its own entrypoint rather than execute it.
set -e

for service in users courses payments; do
  var="CAMPUS_$(echo "$service" | tr '[:lower:]' '[:upper:]')_DB_PASSWORD"
  eval "password=\${$var:-}"
  if [ -z "$password" ]; then
    echo "init-databases: $var is not set" >&2
    exit 1
  fi
  # psql variables (:"name" quoted as an identifier, :'name' as a literal), so no password is ever
  # pasted into SQL text.
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "${POSTGRES_DB:-$POSTGRES_USER}" \
    -v name="campus_$service" -v password="$password" <<'SQL'
CREATE ROLE :"name" LOGIN PASSWORD :'password';
CREATE DATABASE :"name" OWNER :"name";
REVOKE ALL ON DATABASE :"name" FROM PUBLIC;
SQL
done
