# syntax=docker/dockerfile:1
# Build stage: install everything and compile TypeScript to dist/.
FROM node:24.21.0-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts ./scripts
# Compiles to dist/ and copies the data files beside it (scenarios, presets, schemas). The product image
# leaves out the simulation, the demo and the Slack stand-in (the demo service runs this stage instead).
RUN npm run build \
  && mkdir -p /app/product && cp -r dist /app/product/dist \
  && rm -rf /app/product/dist/sim /app/product/dist/demo /app/product/dist/console

# Runtime stage: production dependencies only, non-root, read-only friendly.
FROM node:24.21.0-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/product/dist ./dist
USER node
EXPOSE 3000 9464
HEALTHCHECK --interval=15s --timeout=3s CMD node -e "fetch('http://127.0.0.1:'+(process.env.OPS_PORT||9464)+'/healthz').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
ENTRYPOINT ["node", "dist/main.js"]
CMD ["all"]
