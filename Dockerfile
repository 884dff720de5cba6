# syntax=docker/dockerfile:1
# Multi-stage build on Node 22 LTS. Not built on the development machine (no
# Docker engine there); see docs/operating.md "Docker".

FROM node:22-bookworm-slim AS build
WORKDIR /app
# npm 10 runs every install script: no install telemetry from @scarf/scarf (docs/dependencies.md).
ENV SCARF_ANALYTICS=false
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build.mjs ./scripts/
COPY src ./src
COPY migrations ./migrations
RUN npm run build

FROM node:22-bookworm-slim AS runtime
ENV NODE_ENV=production \
    ENV=prod \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/data \
    SCARF_ANALYTICS=false
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
RUN mkdir -p /data && chown node:node /data
VOLUME ["/data"]
USER node
EXPOSE 3000
# Node 22 has fetch built in: no curl in the slim image needed.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/api/v1/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# The app drains in-flight requests on SIGTERM, then exits 0; migrations run at start.
STOPSIGNAL SIGTERM
CMD ["node", "dist/src/main.js"]
