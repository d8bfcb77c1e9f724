# syntax=docker/dockerfile:1
# nacho in a container, for fleets of `nacho bots` (deploy/kubernetes, deploy/ci):
#   docker build -t nacho .
#   docker run --rm nacho bots --help
#
# Build stage: the official Swift 6.3 image on Debian 12 (bookworm): the release nacho is
# developed with, on the same Debian as the runtime stage, so the libraries linked against
# here are the very versions installed there.
ARG SWIFT_IMAGE=swift:6.3-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${SWIFT_IMAGE} AS build
# The C libraries of the media stack: the "media stack" line of Scripts/bootstrap.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      pkg-config libssl-dev libsrtp2-dev libopus-dev libvpx-dev libasound2-dev libv4l-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# The whole package (.dockerignore keeps build products and the virtualenv out): SwiftPM checks
# every target of the manifest, test targets included, even to build one product.
COPY . .
# --static-swift-stdlib links the Swift runtime and Foundation into the binary, so the runtime
# stage needs no toolchain libraries; the C libraries stay shared (Debian packages below). The
# cache mount keeps .build (dependencies and objects) between image builds. Stripped: 71 MB
# instead of 124 MB on every node that pulls the image.
RUN --mount=type=cache,target=/src/.build \
    swift build -c release --product nacho --static-swift-stdlib \
 && install -D -s -m 0755 "$(swift build -c release --show-bin-path)/nacho" /out/nacho

FROM ${RUNTIME_IMAGE}
# Only what the binary loads (ldd of the static-stdlib build: OpenSSL, libsrtp2 with NSS, Opus,
# libvpx, ALSA, libv4l with libv4lconvert and libjpeg, all pulled in by these packages;
# libstdc++ and libgcc are in the base image); CA certificates for wss:// with verification on.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libssl3 libsrtp2-1 libopus0 libvpx7 libasound2 libv4l-0 ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/nacho /usr/local/bin/nacho
# A numeric non-root user, so Kubernetes' runAsNonRoot can check it without /etc/passwd lookups.
RUN groupadd --system --gid 10001 nacho \
 && useradd --system --uid 10001 --gid 10001 --home-dir /work --create-home --shell /usr/sbin/nologin nacho
USER 10001:10001
WORKDIR /work
ENTRYPOINT ["nacho"]
CMD ["--help"]
