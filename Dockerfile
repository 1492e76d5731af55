# syntax=docker/dockerfile:1
# The appliance image: game server (default), balancer, migrations and load generator are all
# `node dist/<module>.js` of this one image. Built by infra/components/image.ts (`pulumi up`) or
#   docker build -t game-appliance .
ARG NODE_IMAGE=node:24.22.3-bookworm-slim

# 1. Compile TypeScript → dist/ with the full (dev) dependency set.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
# Only the app: infra/ (the Pulumi program) and dashboards/ never run in a container, and keeping
# them out of the build context (.dockerignore) means a change there does not rebuild the image or
# replace the game servers.
COPY app ./app
RUN npm run build

# 2. Production dependencies only.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# 3. Runtime: compiled JS + production node_modules, run as the unprivileged `node` user.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
USER node
EXPOSE 7777 7780 9464
# PING → PONG on the game port (GAME_PORT; the balancer's container passes --port).
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 CMD ["node", "dist/app/cli/healthcheck.js"]
# Node is PID 1 and the app handles SIGTERM/SIGINT itself (graceful shutdown within
# SHUTDOWN_DEADLINE_MS); containers also run with an init (`init: true`) that reaps zombies.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "--enable-source-maps"]
CMD ["dist/app/main.js"]
