# syntax=docker/dockerfile:1
# The hvflow worker (docker-compose.yml's hvflow-worker service).
#
# TypeScript runs through tsx, a runtime dependency: no build step, and `npm ci --omit=dev` keeps
# everything the worker needs while vitest, playwright-core, typescript and the test server stay out.
# glibc (bookworm), not alpine: the Temporal core bridge ships prebuilt binaries for linux-gnu.
ARG NODE_IMAGE=node:20-bookworm-slim
FROM ${NODE_IMAGE}

ENV NODE_ENV=production \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false
WORKDIR /app

# Dependencies first (cached while only the sources change). --ignore-scripts: the only install
# scripts are ssh2's optional native crypto binding and cpu-features (no compiler here: ssh2 falls
# back to Node's crypto) and esbuild's binary check (its platform package is installed anyway).
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

# What the worker process loads: its own code, the activities, the pure domain code and the
# workflows (bundled at start-up). No lab, client, tests or scripts.
COPY tsconfig.json ./
COPY domain ./domain
COPY activities ./activities
COPY workflows ./workflows
COPY worker ./worker

# The worker's own ipmitool (HVFLOW_IPMITOOL): where the inventory's ipmiFrom names `worker`, a cold
# start-up powers the first hypervisors on from here.
RUN apt-get update && apt-get install -y --no-install-recommends ipmitool && rm -rf /var/lib/apt/lists/*

# The worker holds no state: everything durable is in Temporal. It runs unprivileged; the SSH key
# and the BMC password are mounted read-only (compose secrets) and must be readable by uid 1000.
USER node
# Prometheus metrics (HVFLOW_METRICS_PORT in docker-compose.yml).
EXPOSE 9464
# One node process (tsx as a loader, no forked child): SIGTERM reaches the worker, which stops
# polling, lets in-flight activities finish and exits.
CMD ["node", "--import", "tsx", "worker/main.ts"]
