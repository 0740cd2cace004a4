# Vigil's images, one target per program:
#   docker build --target exporter -t vigil-exporter .
#   docker build --target scraper  -t vigil-scraper .
#   docker build --target console  -t vigil-console .
# (docker compose build does all three.) Each runs as its own unprivileged user
# and holds only its release directory (`npm run release`): the program's
# bundle and the few packages it loads at run time, on the Node.js base image.
#
# Where no image registry is reachable, make the two bases locally and name
# them here: scripts/docker-base.sh prints the build arguments.
ARG NODE_IMAGE=node:20-bookworm-slim
ARG BUILD_IMAGE=node:20-bookworm

# ---- build: the whole workspace, then its releases in /release
FROM ${BUILD_IMAGE} AS build
WORKDIR /src
# The lockfile and package files first: this layer is rebuilt only when they change.
COPY package.json package-lock.json ./
COPY core/package.json core/
COPY migrations/package.json migrations/
COPY db/package.json db/
COPY exporter/package.json exporter/
COPY scraper/package.json scraper/
COPY console/package.json console/
COPY cli/package.json cli/
COPY deploy/package.json deploy/
# No install scripts but the one native module that builds from source (node-pty,
# for terminals); koffi and argon2 come as prebuilt per-platform packages.
RUN npm ci --ignore-scripts --no-audit --no-fund && npm rebuild node-pty
COPY . .
RUN npm run release -- --out /release

# ---- what every program's image starts from
FROM ${NODE_IMAGE} AS runtime
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.vendor="Vigil" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.base.name="${NODE_IMAGE}"
# The programs' user, written directly so that the same line works on Debian and Alpine bases.
RUN echo 'vigil:x:10001:10001:Vigil:/nonexistent:/sbin/nologin' >> /etc/passwd \
 && echo 'vigil:x:10001:' >> /etc/group
COPY deploy/healthcheck.mjs /opt/vigil/healthcheck.mjs
ENV NODE_ENV=production

# ---- the exporter: host, container and service metrics (reads the host under /host)
FROM runtime AS exporter
LABEL org.opencontainers.image.title="vigil-exporter" \
      org.opencontainers.image.description="Vigil's exporter: host, container and service metrics in node_exporter's, cAdvisor's and blackbox_exporter's names"
COPY --from=build /release/vigil-exporter /opt/vigil/exporter
USER 10001:10001
ENV VIGIL_EXPORTER_LISTEN=:9110
EXPOSE 9110
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "/opt/vigil/healthcheck.mjs", "VIGIL_EXPORTER_LISTEN", ":9110", "/health"]
# With the V8 flags of bin/node-flags.js, so that it runs as one process.
ENTRYPOINT ["node", "--single-threaded", "--max-semi-space-size=1", "--optimize-for-size", "--expose-gc", "--no-opt", "--no-sparkplug", "/opt/vigil/exporter/bin/vigil-exporter.js"]

# ---- the scraper: scrapes every target, records heartbeats, sends notifications; migrates the database on start
FROM runtime AS scraper
LABEL org.opencontainers.image.title="vigil-scraper" \
      org.opencontainers.image.description="Vigil's scraper: polls every exporter, records heartbeats in PostgreSQL, alerts"
COPY --from=build /release/vigil-scraper /opt/vigil/scraper
USER 10001:10001
ENV VIGIL_SCRAPER_LISTEN=:9111
EXPOSE 9111
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "/opt/vigil/healthcheck.mjs", "VIGIL_SCRAPER_LISTEN", ":9111", "/health"]
ENTRYPOINT ["node", "--max-semi-space-size=2", "/opt/vigil/scraper/bin/vigil-scraper.js"]

# ---- the console: the web app, its API and the terminal relay
FROM runtime AS console
LABEL org.opencontainers.image.title="vigil-console" \
      org.opencontainers.image.description="Vigil's console: fleet, hosts, events, terminals, API"
COPY --from=build /release/vigil-console /opt/vigil/console
USER 10001:10001
ENV VIGIL_CONSOLE_LISTEN=:3000
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "/opt/vigil/healthcheck.mjs", "VIGIL_CONSOLE_LISTEN", ":3000", "/health/db"]
ENTRYPOINT ["node", "/opt/vigil/console/bin/vigil-console.js"]
