# The service image: a static Go binary on distroless, running as a non-root user.
# Both bases are pinned by digest (the tag is for humans; the digest decides). Dependabot keeps
# them fresh (.github/dependabot.yml). test/dockerfile parses this file and refuses unpinned
# bases, a root final stage, ADD from a URL and secrets in ENV or ARG.

# One Go release everywhere: this image's, the root go.mod's toolchain line and CI's setup-go
# (test/dockerfile's TestGoVersionIsTheSameEverywhere fails when they differ).
# golang:1.26.8-alpine3.24 (multi-platform index; Go 1.26.8)
FROM golang:1.26.8-alpine3.24@sha256:ce864e7223ac17b1775e6fd0b4c0db580c2eb50e7953a427916379e4b92a1628 AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOTOOLCHAIN=local
# Module files first: the download layer stays cached until go.mod or go.sum change.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download && go mod verify
COPY src/ ./src/
ARG VERSION=dev
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/api ./src/cmd/api

# gcr.io/distroless/static-debian12:nonroot (CA certificates and tzdata included, no shell)
FROM gcr.io/distroless/static-debian12:nonroot@sha256:d093aa3e30dbadd3efe1310db061a14da60299baff8450a17fe0ccc514a16639
COPY --from=build /out/api /api
USER 65532:65532
EXPOSE 8080 9090
ENTRYPOINT ["/api"]
