# syntax=docker/dockerfile:1
#
# SkillTrack: tracker-host serving the two components of spin.toml.
#
#   docker build -t skilltrack .          builds everything here (Rust + Node stages)
#   make image                            podman/buildah: the same final stage from the
#                                         artefacts already built and tested on this
#                                         machine (--build-arg ARTIFACTS=prebuilt)
#
# Both paths fill /out/rootfs with scripts/deploy/stage-rootfs.sh; the final stage
# only copies it, so the image CI tests is built the way users build theirs.

# Which stage supplies /out/rootfs: `build` (compile here) or `prebuilt` (make image).
ARG ARTIFACTS=build

FROM node:20-bookworm-slim AS web
WORKDIR /src/web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web/ ./
RUN npm run build

FROM rust:1.95-bookworm AS build
# musl-tools: the bundled SQLite C code for the static musl build.
RUN apt-get update \
    && apt-get install -y --no-install-recommends musl-tools \
    && rm -rf /var/lib/apt/lists/* \
    && rustup target add x86_64-unknown-linux-musl wasm32-wasip2
WORKDIR /src
COPY . .
COPY --from=web /src/web/dist web/dist
RUN cargo build --locked --target wasm32-wasip2 --profile wasm -p skilltrack-api -p skilltrack-static \
    && cargo build --locked --release --target x86_64-unknown-linux-musl -p tracker-host \
    && scripts/deploy/stage-rootfs.sh /out target/x86_64-unknown-linux-musl/release/tracker-host /src

# For `make image`: the build context is the dir stage-rootfs.sh filled (rootfs/, data/).
FROM scratch AS prebuilt
COPY rootfs/ /out/rootfs/
COPY data/ /out/data/

FROM ${ARTIFACTS} AS artifacts

FROM scratch
COPY --from=artifacts /out/rootfs/ /
COPY --from=artifacts --chown=65532:65532 /out/data/ /data/
ENV TRACKER_MANIFEST=/app/spin.toml \
    TRACKER_LISTEN=0.0.0.0:3000 \
    TRACKER_DATA_DIR=/data
WORKDIR /app
USER 65532:65532
EXPOSE 3000
VOLUME ["/data"]
ENTRYPOINT ["/tracker-host"]
CMD ["up", "--log-format", "json"]
