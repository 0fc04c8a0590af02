# Multi-stage build: compile on Debian with the -dev packages, run on a slim
# Debian with only the shared libraries, as a non-root user.
FROM debian:12 AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential meson ninja-build pkg-config \
      libmicrohttpd-dev libpq-dev libcjson-dev libcurl4-openssl-dev libssl-dev zlib1g-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN meson setup /build -Dbuildtype=release -Dtests=false && ninja -C /build

FROM debian:12-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libmicrohttpd12 libpq5 libcjson1 libcurl4 libssl3 zlib1g curl ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --no-create-home streamq
COPY --from=build /build/streamq /usr/local/bin/streamq
USER streamq
ENV STREAMQ_LISTEN=0.0.0.0:8080
EXPOSE 8080
# Liveness; start-period covers the migrations a first start applies.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["/usr/local/bin/streamq"]
CMD ["serve"]
