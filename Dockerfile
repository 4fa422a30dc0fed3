# syntax=docker/dockerfile:1.7
# Post Office image. The build type-checks the TypeScript and compiles it to JavaScript (dist/):
# the image runs plain JavaScript, so no thread loads Node's TypeScript stripper (about 20 MiB a
# thread).
#
# Pinned to bookworm because the embedded PostgreSQL binaries (used when DATABASE_URL is unset)
# link against that libc/libstdc++, and CI proves the production path on the same Debian release.
ARG NODE_IMAGE=node:24-bookworm-slim

# --- deps: every dependency, for the type check -------------------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

# --- build: type check and compile; fails the image build on a type error -------------------
FROM deps AS build
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npx tsc --noEmit -p tsconfig.json && npm run build

# --- prod-deps: runtime dependencies only ---------------------------------------------------
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# --- runtime ----------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
# tini as PID 1: node does not reap orphaned children, and the embedded PostgreSQL forks some.
# npm, npx and corepack are removed: nothing at run time installs packages, and less to patch.
# A named user, not only a uid: initdb (embedded PostgreSQL) refuses a uid without a passwd entry.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/* \
 && rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
           /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack \
 && groupadd --gid 10001 postoffice \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin postoffice \
 && mkdir -p /data && chown 10001:10001 /data

# Two malloc arenas, not eight per core: glibc gives each thread that allocates its own arena and
# keeps what a burst left in it (measured: 1–2 MiB less idle, 6–10 MiB less once a burst is over,
# no change in emails/s).
ENV NODE_ENV=production \
    POST_OFFICE_DATA_DIR=/data \
    MALLOC_ARENA_MAX=2
WORKDIR /app
# App files stay owned by root: the process can read them but never rewrite its own code,
# which also holds when Kubernetes mounts the root filesystem read-only.
COPY --from=prod-deps /app/node_modules ./node_modules
# dist comes from the build stage, so BuildKit cannot skip the type check for the final target.
COPY --from=build /app/dist ./dist
COPY package.json ./

USER 10001:10001
# 8587: API (127.0.0.1 unless POST_OFFICE_HOST says otherwise); 8588: providers' webhooks (only
# with a backend's webhook settings); 9587: /livez, /readyz, /metrics.
EXPOSE 8587 8588 9587
ENTRYPOINT ["/usr/bin/tini", "--"]
# node directly, never `npm start`: npm would sit between tini and node and swallow SIGTERM.
# A 1 MiB semi-space and a 192 MiB old space for the main thread: it only orchestrates, and
# without a ceiling V8 lets the heap grow with every burst (50,000 emails: 258 MiB peak RSS
# uncapped, 181 MiB capped). 192 MiB still takes a 45 MB email (the SES and Resend limit).
CMD ["node", "--max-semi-space-size=1", "--max-old-space-size=192", "dist/src/main.js"]
