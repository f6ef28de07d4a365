# tailgate's container image, built by goreleaser (.goreleaser.yaml,
# dockers_v2) from the release binaries: the static binary on Alpine, which
# brings CA certificates (for TLS targets) and the shell that CI jobs and
# Kubernetes Jobs script with, and runs as a non-root user.
#   docker run --rm -v "$PWD:/work" -w /work ghcr.io/tailgate-dev/tailgate:v1 run -c plan.yaml
# GitLab CI: `image: {name: ghcr.io/tailgate-dev/tailgate:v1, entrypoint: [""]}`.
FROM alpine:3.22
RUN apk add --no-cache ca-certificates && adduser -D -u 10001 tailgate
USER 10001
ARG TARGETPLATFORM
COPY $TARGETPLATFORM/tailgate /usr/bin/tailgate
ENTRYPOINT ["/usr/bin/tailgate"]
