package dockerfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRepositoryDockerfilePasses(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", "..", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := Check(src)
	if err != nil {
		t.Fatal(err)
	}
	if len(v) != 0 {
		t.Fatalf("Dockerfile violates: %v", v)
	}
	// And it is the shape the rules assume: a build stage and a distroless nonroot final stage
	// that copies only the binary.
	for _, want := range []string{"COPY go.mod go.sum ./", "go mod download", "CGO_ENABLED=0", "-trimpath", "-X main.version=",
		"distroless/static-debian12:nonroot@sha256:", "USER 65532:65532", `ENTRYPOINT ["/api"]`} {
		if !strings.Contains(string(src), want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
}

func TestBadDockerfilesAreRefused(t *testing.T) {
	const pinnedGo = "golang:1.26-alpine@sha256:f1ddd9fe14fffc091dd98cb4bfa999f32c5fc77d2f2305ea9f0e2595c5437c14"
	const pinnedRun = "gcr.io/distroless/static-debian12:nonroot@sha256:d093aa3e30dbadd3efe1310db061a14da60299baff8450a17fe0ccc514a16639"
	tests := []struct {
		name, file, rule, text string
	}{
		{"base by tag", "FROM golang:1.26 AS build\nRUN true\nFROM " + pinnedRun + "\nUSER 65532:65532\n", RuleBaseDigest, "golang:1.26 is not pinned"},
		{"final base by tag", "FROM " + pinnedGo + " AS build\nFROM gcr.io/distroless/static-debian12:nonroot\nUSER 65532\n", RuleBaseDigest, "not pinned by digest"},
		{"base from variable", "ARG BASE=alpine\nFROM ${BASE}\nUSER 1000\n", RuleBaseDigest, "from a variable"},
		{"syntax by tag", "# syntax=docker/dockerfile:1\nFROM " + pinnedRun + "\nUSER 65532\n", RuleBaseDigest, "syntax frontend"},
		{"no user", "FROM " + pinnedRun + "\nCOPY a /a\n", RuleNonRoot, "has no USER"},
		{"root user", "FROM " + pinnedRun + "\nUSER root\n", RuleNonRoot, "runs as root"},
		{"uid 0", "FROM " + pinnedRun + "\nUSER 0:0\n", RuleNonRoot, "runs as 0:0"},
		{"group 0", "FROM " + pinnedRun + "\nUSER 65532:0\n", RuleNonRoot, "runs as 65532:0"},
		{"non-root then root", "FROM " + pinnedRun + "\nUSER 65532\nUSER root\n", RuleNonRoot, "runs as root"},
		{"add url", "FROM " + pinnedRun + "\nADD https://example.com/tool.tgz /tool\nUSER 65532\n", RuleNoADDURL, "fetches from a URL"},
		{"add git", "FROM " + pinnedRun + "\nADD git@github.com:o/r.git /src\nUSER 65532\n", RuleNoADDURL, "fetches from a URL"},
		{"secret env", "FROM " + pinnedRun + "\nENV DB_PASSWORD=hunter2\nUSER 65532\n", RuleNoSecretEnv, "ENV DB_PASSWORD"},
		{"secret arg", "FROM " + pinnedRun + "\nARG GITHUB_TOKEN\nUSER 65532\n", RuleNoSecretEnv, "ARG GITHUB_TOKEN"},
		{"secret global arg", "ARG AWS_SECRET_ACCESS_KEY\nFROM " + pinnedRun + "\nUSER 65532\n", RuleNoSecretEnv, "ARG AWS_SECRET_ACCESS_KEY"},
		{"copy from an image by tag", "FROM " + pinnedRun + "\nCOPY --from=busybox:1.37 /bin/sh /bin/sh\nUSER 65532\n", RuleBaseDigest, "COPY --from pulls image busybox:1.37"},
		{"mount from an image by tag", "FROM " + pinnedGo + " AS build\nRUN --mount=type=bind,from=alpine:3.22,target=/x true\nFROM " + pinnedRun + "\nUSER 65532\n", RuleBaseDigest, "RUN --mount from= pulls image alpine:3.22"},
		{"privileged run step", "FROM " + pinnedGo + " AS build\nRUN --security=insecure mount -t proc proc /proc\nFROM " + pinnedRun + "\nUSER 65532\n", RuleNoBuildPriv, "RUN --security=insecure"},
		{"run step on the host network", "FROM " + pinnedGo + " AS build\nRUN --network=host wget -qO- http://169.254.169.254/latest/meta-data/\nFROM " + pinnedRun + "\nUSER 65532\n", RuleNoBuildPriv, "RUN --network=host"},
		{"run step with a host device", "FROM " + pinnedGo + " AS build\nRUN --device=/dev/kvm true\nFROM " + pinnedRun + "\nUSER 65532\n", RuleNoBuildPriv, "RUN --device=/dev/kvm"},
		{"credentials in an env URL", "FROM " + pinnedRun + "\nENV DATABASE_URL=postgres://app:hunter2@db:5432/app\nUSER 65532\n", RuleNoSecretEnv, "ENV DATABASE_URL holds a URL with a password"},
		{"credentials in an arg URL", "ARG GOPROXY=https://ci:hunter2@proxy.example.com\nFROM " + pinnedRun + "\nUSER 65532\n", RuleNoSecretEnv, "ARG GOPROXY holds a URL with a password"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := Check([]byte(tc.file))
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range v {
				if x.Rule == tc.rule && strings.Contains(x.Text, tc.text) {
					return
				}
			}
			t.Fatalf("want %s (%q), got %v", tc.rule, tc.text, v)
		})
	}
}

func TestGoodFixturePasses(t *testing.T) {
	good := "FROM golang:1.26-alpine@sha256:f1ddd9fe14fffc091dd98cb4bfa999f32c5fc77d2f2305ea9f0e2595c5437c14 AS build\n" +
		"ARG VERSION=dev\nENV CGO_ENABLED=0 GOPROXY=https://proxy.golang.org\nRUN --mount=type=cache,target=/root/.cache/go-build go build -o /out/api .\n" +
		"FROM scratch\nCOPY --from=build /out/api /api\nCOPY --from=0 /etc/ssl/certs /etc/ssl/certs\n" +
		"COPY --from=gcr.io/distroless/static-debian12:nonroot@sha256:d093aa3e30dbadd3efe1310db061a14da60299baff8450a17fe0ccc514a16639 /etc/passwd /etc/passwd\n" +
		"USER 65532:65532\n"
	v, err := Check([]byte(good))
	if err != nil || len(v) != 0 {
		t.Fatalf("good Dockerfile refused: %v %v", v, err)
	}
}
