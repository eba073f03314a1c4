# scimhub in a container: a build stage with the Rust toolchain, then a small
# Debian runtime that runs `scimhub serve` as an unprivileged user with its
# SQLite database on a volume. See docs/operations.md ("Docker").
#
#   docker build -t scimhub .
#   docker run -d --name scimhub -p 8080:8080 -v scimhub-data:/var/lib/scimhub \
#       -e SCIMHUB_SECRET_KEY="$(openssl rand -hex 32)" --stop-timeout 35 scimhub
#   docker exec scimhub scimhub token create --name okta
#
# BuildKit (the default builder since Docker 23) is needed for the cache mounts.

ARG RUST_VERSION=1
ARG DEBIAN_RELEASE=bookworm

FROM rust:${RUST_VERSION}-${DEBIAN_RELEASE} AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends libssl-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# The registry and target caches survive between builds; the binary is copied
# out of the cached target directory in the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin scimhub \
 && install -m 0755 target/release/scimhub /usr/local/bin/scimhub

FROM debian:${DEBIAN_RELEASE}-slim
# libssl3: the bundled libpq links OpenSSL; ca-certificates: HTTPS to sync
# targets, webhooks and SMTP; curl: the health check.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl libssl3 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 scimhub \
 && useradd --system --uid 10001 --gid scimhub --home-dir /var/lib/scimhub \
        --shell /usr/sbin/nologin scimhub \
 && install -d -o scimhub -g scimhub -m 0750 /var/lib/scimhub
COPY --from=build /usr/local/bin/scimhub /usr/local/bin/scimhub

# Listen on every interface of the container; keep the database on the volume.
# `docker exec scimhub scimhub …` sees the same settings, hence the same database.
ENV SCIMHUB_LISTEN=0.0.0.0:8080 \
    SCIMHUB_DATABASE_URL=sqlite:///var/lib/scimhub/scimhub.db
USER scimhub:scimhub
WORKDIR /var/lib/scimhub
VOLUME ["/var/lib/scimhub"]
EXPOSE 8080

# /healthz answers 200 while the database answers (no token needed).
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
# SIGTERM lets in-flight requests finish (shutdown_timeout_secs, 30 s by
# default): give the container more than that with --stop-timeout.
STOPSIGNAL SIGTERM
ENTRYPOINT ["scimhub"]
CMD ["serve"]
