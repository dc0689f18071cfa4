# syntax=docker/dockerfile:1
#
# Campus images: one Dockerfile, one target per process (docs/deploy.md).
#
#   docker build --target users    -t campus-users:0.1.0 .
#   docker build --target courses  -t campus-courses:0.1.0 .
#   docker build --target payments -t campus-payments:0.1.0 .
#   docker build --target router   -t campus-router:0.1.0 .
#
# Each image runs its compiled JavaScript with plain node (docs/builds.md: `npm run build` writes
# every workspace's dist/, `npm start -w <workspace>` is `node dist/index.js`), as a non-root user,
# with production dependencies only. Every image also carries the operator commands, compiled:
# `node scripts/dist/db-migrate.js` is `npm run db:migrate` (a service's migration job runs it in
# that service's own image, so the migrations applied are exactly the ones the image was built
# with), likewise db-seed.js, events-dead-letters.js, service-keys.js and audit-verify.js
# (deploy/docker/tsconfig.scripts.json says why they are compiled rather than copied or run by tsx).

# Debian (glibc), not Alpine: the tests and CI run on glibc Linux, so the glibc builds of the native
# packages (@node-rs/argon2, which hashes passwords) are the ones exercised; their musl builds and
# Node's musl port (an experimental platform for Node) are not.
ARG NODE_IMAGE=node:20.20.2-bookworm-slim
# The npm of package.json's packageManager, which wrote package-lock.json (the image's own npm is older).
ARG NPM_VERSION=11.19.1

# ---- What `npm ci` reads: the lockfile and every workspace's package.json (npm refuses a
# workspace the lockfile names but the tree lacks). Copied alone, so the dependency layers are
# rebuilt only when dependencies change.
FROM ${NODE_IMAGE} AS manifests
ARG NPM_VERSION
RUN npm install --global --no-audit --no-fund npm@${NPM_VERSION}
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
COPY packages/kit/package.json packages/kit/
COPY packages/test-kit/package.json packages/test-kit/
COPY packages/stack/package.json packages/stack/
COPY router/package.json router/
COPY subgraphs/users/package.json subgraphs/users/
COPY subgraphs/courses/package.json subgraphs/courses/
COPY subgraphs/payments/package.json subgraphs/payments/

# ---- Build: every dependency (generators, TypeScript, tsx), then generation and compilation.
# --ignore-scripts: nothing here relies on install scripts (.npmrc), and @prisma/engines' would
# download a schema-engine binary that generation never runs (scripts/generate.ts).
FROM manifests AS build
ENV TURBO_TELEMETRY_DISABLED=1
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
# 1. `npm run build`: Prisma clients and resolver types into each subgraph's src/generated/ (so
#    the generated clients are compiled into dist/ with the rest), router/supergraph.graphql,
#    then `tsc -b` into every workspace's dist/.
# 2. The operator scripts, compiled against those dist/ folders.
# 3. The router's default supergraph is the deployed one: `npm run build` composed
#    supergraph.yaml, whose subgraphs are on localhost, which is never right in a container of
#    its own. deploy/supergraph.yaml routes to the names of deploy/compose.yaml and deploy/k8s/.
RUN npm run build \
 && npx tsc -p deploy/docker/tsconfig.scripts.json \
 && npm run -s compose -- --config deploy/supergraph.yaml --out router/supergraph.graphql

# ---- Production dependencies only. npm nests some packages per workspace at versions other than
# the root's (packages/kit/node_modules/@opentelemetry/*), so the whole tree is kept as npm lays it
# out, workspace-level node_modules and the node_modules/@campus/* links included.
FROM manifests AS prod-deps
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# ---- Runtime: production node_modules plus what each process loads at run time. Prisma needs
# nothing else: Prisma 7 with driver adapters has no query engine binary, its query compiler is
# WebAssembly inside @prisma/client, and the generated clients are compiled into dist/.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=prod-deps /app ./
COPY --from=build /app/packages/kit/dist packages/kit/dist
# The stack's service list, which the compiled db-migrate/db-seed read (scripts/service-databases.ts).
COPY --from=build /app/packages/stack/dist packages/stack/dist
COPY --from=build /app/scripts/dist scripts/dist
# Files read at run time stay beside dist/, found relative to the compiled modules (docs/builds.md).
COPY --from=build /app/router/dist router/dist
COPY --from=build /app/router/supergraph.graphql /app/router/persisted-queries.json router/
COPY --from=build /app/subgraphs/users/dist subgraphs/users/dist
COPY --from=build /app/subgraphs/users/schema.graphql subgraphs/users/
COPY --from=build /app/subgraphs/users/prisma/migrations subgraphs/users/prisma/migrations
COPY --from=build /app/subgraphs/courses/dist subgraphs/courses/dist
COPY --from=build /app/subgraphs/courses/schema.graphql subgraphs/courses/
COPY --from=build /app/subgraphs/courses/prisma/migrations subgraphs/courses/prisma/migrations
COPY --from=build /app/subgraphs/payments/dist subgraphs/payments/dist
COPY --from=build /app/subgraphs/payments/schema.graphql subgraphs/payments/
COPY --from=build /app/subgraphs/payments/prisma/migrations subgraphs/payments/prisma/migrations
# The image's `node` user, by number: Kubernetes' runAsNonRoot can only verify a numeric user.
# Everything above stays owned by root, so the process cannot change its own code.
USER 1000:1000

# ---- One target per process. The HEALTHCHECK asks the liveness endpoint, /health, which touches
# no dependency (docs/readiness.md); orchestrators that order starts ask /ready themselves
# (deploy/compose.yaml, deploy/k8s/). node's fetch, since the slim image has no curl.
# On SIGTERM each process drains itself (packages/kit/src/core/run-process.ts), so node runs as
# PID 1 with no init in between.
FROM runtime AS users
WORKDIR /app/subgraphs/users
EXPOSE 4001
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.USERS_PORT||4001)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/index.js"]

FROM runtime AS courses
WORKDIR /app/subgraphs/courses
EXPOSE 4002
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.COURSES_PORT||4002)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/index.js"]

FROM runtime AS payments
WORKDIR /app/subgraphs/payments
EXPOSE 4003
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PAYMENTS_PORT||4003)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/index.js"]

# Last, so a build without --target gives the router.
FROM runtime AS router
WORKDIR /app/router
EXPOSE 4000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.ROUTER_PORT||4000)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/index.js"]
