# syntax=docker/dockerfile:1
# One image for the seven services of the sales system; the command picks the service:
#   docker build -t sales .
#   docker run --rm -e BIND_HOST=0.0.0.0 -e DB_HOST=… sales product      # or gateway, order, …
# docker-compose.yml runs the whole system with it; deploy/k8s for Kubernetes; see docs/deploy.md.
#
# Stage "build" compiles the services (Release, no tests) through ccache in a cache mount,
# so a rebuild after a small change takes seconds (Docker BuildKit, podman/buildah).
# Stage "runtime" is debian:bookworm-slim with the shared libraries the binaries link,
# a non-root user, and a HEALTHCHECK; the image works with a read-only root file system.

ARG DEBIAN_IMAGE=debian:bookworm-slim

FROM ${DEBIAN_IMAGE} AS build
ARG BUILD_JOBS=2
ENV DEBIAN_FRONTEND=noninteractive
# The same toolchain and -dev packages as scripts/lib-deps.sh (without test and bench tools).
RUN apt-get update -q \
 && apt-get install -y -q --no-install-recommends \
      g++ cmake ninja-build ccache pkg-config binutils \
      libboost1.81-dev \
      libpq-dev librabbitmq-dev libspdlog-dev libfmt-dev libmimalloc-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Only what the services' build reads: a change to docs, tests or deploy files reuses the
# compiled layer. (The top CMakeLists.txt adds tests/, bench/ and deploy/ only when present.)
COPY CMakeLists.txt ./
COPY cmake/ cmake/
COPY platform/ platform/
COPY services/ services/
COPY tools/ tools/
ENV CCACHE_DIR=/ccache CCACHE_BASEDIR=/src CCACHE_NOHASHDIR=1 CCACHE_COMPILERCHECK=content \
    CCACHE_MAXSIZE=2G
RUN --mount=type=cache,id=sales-ccache,target=/ccache \
    cmake -S /src -B /tmp/build -G Ninja -DCMAKE_BUILD_TYPE=Release -DSALES_TESTS=OFF \
 && cmake --build /tmp/build --parallel "${BUILD_JOBS}" --target \
      sales-gateway sales-product sales-order sales-customer sales-payment sales-inventory sales-shipping \
      sales-dlq \
 && { ccache --show-stats --verbose | grep -E 'Hits|Misses|Cache size' || true; } \
 && mkdir -p /out \
 && for b in /tmp/build/bin/sales-*; do strip --strip-unneeded -o "/out/${b##*/}" "$b"; done \
 && rm -rf /tmp/build

FROM ${DEBIAN_IMAGE} AS runtime
ENV DEBIAN_FRONTEND=noninteractive
# Runtime libraries only (what `ldd` shows the binaries need; checked below): libpq (and
# its libcrypto) for the six services, mimalloc for the gateway. Boost, rabbitmq-c, spdlog,
# fmt and libstdc++ are linked statically (cmake/LeanLinking.cmake).
RUN apt-get update -q \
 && apt-get install -y -q --no-install-recommends \
      libpq5 libmimalloc2.0 \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/apt /var/log/dpkg.log
RUN groupadd --system --gid 10001 sales \
 && useradd --system --uid 10001 --gid sales --home-dir /nonexistent --no-create-home \
      --shell /usr/sbin/nologin sales
COPY --from=build /out/ /usr/local/bin/
RUN for s in gateway product order customer payment inventory shipping dlq; do \
      test -x "/usr/local/bin/sales-$s" || { echo "sales-$s was not built" >&2; exit 1; }; \
    done \
 && if ldd /usr/local/bin/sales-* | grep 'not found'; then echo 'missing runtime libraries' >&2; exit 1; fi \
 && mkdir -p /srv/sales
COPY deploy/image/sales-service deploy/image/sales-healthcheck /usr/local/bin/
# A service reads an optional .env from its working directory (mount one at /srv/sales/.env,
# or point SALES_ENV_FILE elsewhere); nothing is written to the file system: logs go to
# stderr, state to PostgreSQL. Run it with a read-only root file system.
WORKDIR /srv/sales
# GnuTLS comes in only through libpq → libldap and is never used; without this its
# constructor initialises it in every service (~0.8 MB of RSS each).
ENV BIND_HOST=0.0.0.0 GNUTLS_NO_IMPLICIT_INIT=1
USER 10001:10001
EXPOSE 8080 8001 8002 8003 8004 8005 8006
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
  CMD ["/usr/local/bin/sales-healthcheck"]
ENTRYPOINT ["/usr/local/bin/sales-service"]
CMD ["gateway"]
LABEL org.opencontainers.image.title="sales" \
      org.opencontainers.image.description="The sales system's services (gateway, product, order, customer, payment, inventory, shipping); the command picks one." \
      org.opencontainers.image.source="Dockerfile"
