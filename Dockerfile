# The worker and the API, built from this repo (one image, two commands), compiled:
# node runs `npm run build`'s JavaScript and the prebuilt workflow bundle, no tsx and no
# bundling at start-up.

# Build: with the dev dependencies (TypeScript), `npm run build` writes dist/ (README: Compiled build).
FROM node:20.20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build.ts ./scripts/build.ts
COPY domain ./domain
COPY common ./common
COPY workflows ./workflows
COPY activities ./activities
COPY worker ./worker
COPY api ./api
RUN npm run build

# Run: the production dependencies and the build's output only.
FROM node:20.20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force
COPY --from=build /app/dist ./dist
# The audit volume (docker-compose.yml) takes this directory's owner when first mounted.
RUN mkdir -p /audit && chown node:node /audit && chmod 700 /audit
USER node
CMD ["node", "dist/worker/main.js"]
