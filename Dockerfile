# dvflow against a ClickHouse server (see docker-compose.yml). The embedded engine is not needed here,
# but npm installs it as a dependency; it is only loaded when no --clickhouse-url is given.

# Stage 1: build the dashboard (Vite and the Vue toolchain are build-time dependencies only).
FROM node:20-bookworm-slim AS ui
WORKDIR /app
COPY package.json package-lock.json ./
COPY collector/package.json collector/package.json
COPY web/package.json web/package.json
COPY web/ui/package.json web/ui/package.json
RUN npm install --no-audit --no-fund
COPY web/ui web/ui
RUN npm run build -w @dvflow/ui

# Stage 2: the daemon, with the built dashboard.
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
COPY collector/package.json collector/package.json
COPY web/package.json web/package.json
COPY web/ui/package.json web/ui/package.json
RUN npm install --omit=dev --no-audit --no-fund
COPY . .
# The CLI bundle (collector/dist): the daemon and every `dvflow` command start without compiling TypeScript.
RUN node scripts/build-cli.mjs
COPY --from=ui /app/web/ui/dist web/ui/dist
EXPOSE 23456/udp 8080/tcp
ENTRYPOINT ["node", "collector/bin/dvflow.js"]
CMD ["start", "--http-bind", "0.0.0.0", "--clickhouse-url", "http://clickhouse:8123"]
