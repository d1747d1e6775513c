# The worker and the API, built from this repo (one image, two commands).
FROM node:20.20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev
COPY tsconfig.json ./
COPY domain ./domain
COPY common ./common
COPY workflows ./workflows
COPY activities ./activities
COPY worker ./worker
COPY api ./api
# The audit volume (docker-compose.yml) takes this directory's owner when first mounted.
RUN mkdir -p /audit && chown node:node /audit && chmod 700 /audit
USER node
CMD ["npx", "tsx", "worker/main.ts"]
