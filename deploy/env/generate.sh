#!/usr/bin/env bash
# Writes deploy/env/<name>.env from each <name>.env.example beside it, with fresh secrets:
#   GENERATE_PASSWORD_<NAME>  a random password, the same wherever the same NAME appears (postgres.env
#                             creates the role, <service>.env connects with it)
#   GENERATE_KEY              a new Ed25519 private key (PKCS#8 PEM, newlines written as \n), one per
#                             occurrence: `npm run -s service-keys -- generate` (docs/identity/service-identity.md),
#                             or `openssl genpkey -algorithm ed25519` before `npm ci`
# All files are written together or none: the passwords must agree across them, and PostgreSQL
# keeps the ones of its first start (deploy/datastores/init-databases.sh), so new files need a new
# volume too (`docker compose down -v`). Usage: deploy/env/generate.sh   (docs/deploy.md)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"

existing=""
for example in "$here"/*.env.example; do
  [ -e "${example%.example}" ] && existing="$existing ${example%.example}"
done
if [ -n "$existing" ]; then
  echo "generate.sh: already there:$existing" >&2
  echo "generate.sh: remove every deploy/env/*.env (and the postgres volume: docker compose down -v) to start over" >&2
  exit 1
fi

new_key() {
  if [ -d "$root/node_modules/@campus/kit" ]; then
    (cd "$root" && npm run -s service-keys -- generate)
  else
    openssl genpkey -algorithm ed25519
  fi
}
password() { od -An -tx1 -N24 /dev/urandom | tr -d ' \n'; }

umask 077
for example in "$here"/*.env.example; do
  content="$(cat "$example")"
  for name in $(grep -o 'GENERATE_PASSWORD_[A-Z]*' <<<"$content" | sort -u); do
    eval "value=\${pw_$name:-}"
    if [ -z "$value" ]; then
      value="$(password)"
      eval "pw_$name=\$value"
    fi
    content="${content//"$name"/"$value"}"
  done
  while [[ "$content" == *GENERATE_KEY* ]]; do
    key="$(new_key | awk '{ printf "%s\\n", $0 }')"
    content="${content/GENERATE_KEY/"$key"}"
  done
  printf '%s\n' "$content" > "${example%.example}"
  echo "wrote ${example%.example}"
done
