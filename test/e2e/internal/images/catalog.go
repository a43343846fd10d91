package images

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

// The names the images are imported under. Kyverno's are the ones its install manifest names
// (k8s/platform/kyverno), so the upstream declaration runs unchanged; the pause image is the one
// containerd is configured with. The others are this repository's own and are never pulled.
const (
	// PauseImage is the sandbox image: k8s.io/kubernetes's build/pause/linux/pause.c at the
	// pinned version, compiled statically (mk/tools.mk), under the name kubeadm uses for v1.34.
	PauseImage                = "registry.k8s.io/pause:3.10.1"
	CoreDNSImage              = "template-api.local/coredns:v1.14.7"
	RegistryImage             = "template-api.local/e2e-registry:v1"
	KyvernoImage              = "reg.kyverno.io/kyverno/kyverno:v1.19.1"
	KyvernoInitImage          = "reg.kyverno.io/kyverno/kyvernopre:v1.19.1"
	KyvernoBackgroundImage    = "reg.kyverno.io/kyverno/background-controller:v1.19.1"
	KyvernoReportsImage       = "reg.kyverno.io/kyverno/reports-controller:v1.19.1"
	caCertificates            = "/etc/ssl/certs/ca-certificates.crt"
	nonRootUser               = "65532:65532"
	kyvernoUser               = "65534:65534"
	postgresUID               = 70
	postgresImageRepository   = "docker.io/library/postgres"
	postgresEntrypointInImage = "/usr/local/bin/docker-entrypoint"
)

// Sources are the programs the images are made of.
type Sources struct {
	Pause, CoreDNS, Registry                         string
	KyvernoAdmission, KyvernoBackground, KyvernoInit string
	KyvernoReports                                   string
	// PostgresEntrypoint is test/e2e/cmd/pgentrypoint, static; PostgresBinDir the host's
	// PostgreSQL server programs (Debian's postgresql package).
	PostgresEntrypoint, PostgresBinDir string
}

func binary(src, dst string) File { return File{Src: src, Dst: dst, Mode: 0o755, Libraries: true} }

// Node is what the local node runs beside the platform: the sandbox image and CoreDNS (kind's
// node image brings its own).
func (b *Builder) Node(s Sources) ([]Named, error) {
	return b.all([]Spec{
		{Name: PauseImage, Files: []File{binary(s.Pause, "/pause")}, Entrypoint: []string{"/pause"}, User: "65535:65535"},
		{Name: CoreDNSImage, Files: []File{binary(s.CoreDNS, "/coredns")}, Entrypoint: []string{"/coredns"},
			User: nonRootUser, Labels: map[string]string{"org.opencontainers.image.title": "coredns"}},
	})
}

// Platform is what the platform declaration (k8s/platform/local) runs, in kind and locally:
// the registry and Kyverno's admission controller, its init container, background controller
// and reports controller (background scans, policy reports), each under the name the upstream manifest uses, from the binaries tools/kyverno
// builds (CA certificates included, for registries over TLS).
func (b *Builder) Platform(s Sources) ([]Named, error) {
	kyverno := func(name, bin, dst string) Spec {
		return Spec{Name: name, Files: []File{binary(bin, dst), {Src: caCertificates, Dst: caCertificates}},
			Entrypoint: []string{dst}, User: kyvernoUser, Dirs: []string{"/tmp"},
			Labels: map[string]string{"org.opencontainers.image.source": "https://github.com/kyverno/kyverno",
				"org.opencontainers.image.version": "v1.19.1"}}
	}
	return b.all([]Spec{
		{Name: RegistryImage, Files: []File{binary(s.Registry, "/registry")}, Entrypoint: []string{"/registry"}, User: nonRootUser},
		kyverno(KyvernoImage, s.KyvernoAdmission, "/kyverno"),
		kyverno(KyvernoInitImage, s.KyvernoInit, "/kyvernopre"),
		kyverno(KyvernoBackgroundImage, s.KyvernoBackground, "/background-controller"),
		kyverno(KyvernoReportsImage, s.KyvernoReports, "/reports-controller"),
	})
}

func (b *Builder) all(specs []Spec) ([]Named, error) {
	var out []Named
	for _, s := range specs {
		img, err := b.Build(s)
		if err != nil {
			return nil, err
		}
		out = append(out, Named{Name: s.Name, Image: img})
	}
	return out, nil
}

var postgresVersion = regexp.MustCompile(`\(PostgreSQL\) ([0-9]+(?:\.[0-9]+)*)`)

// Postgres assembles the kind overlay's database from the PostgreSQL server installed on this
// machine (Debian's package), behind an entrypoint that honours the official image's variables
// (POSTGRES_USER, POSTGRES_DB, POSTGRES_PASSWORD_FILE, PGDATA), running as the official image's
// UID 70. It is named docker.io/library/postgres:<version>, the repository the overlay and its
// named PolicyException expect, and referenced by its own digest: the cluster never pulls it.
func (b *Builder) Postgres(s Sources) (Named, error) {
	out, err := exec.Command(filepath.Join(s.PostgresBinDir, "postgres"), "--version").Output()
	if err != nil {
		return Named{}, fmt.Errorf("the local node's PostgreSQL image is made from the PostgreSQL server in %s: %w", s.PostgresBinDir, err)
	}
	m := postgresVersion.FindStringSubmatch(string(out))
	if m == nil {
		return Named{}, fmt.Errorf("cannot read the PostgreSQL version from %q", strings.TrimSpace(string(out)))
	}
	version := m[1]
	major := strings.Split(version, ".")[0]
	lib := filepath.Join(filepath.Dir(s.PostgresBinDir), "lib")
	share := filepath.Join("/usr/share/postgresql", major)
	shell, err := filepath.EvalSymlinks("/bin/sh")
	if err != nil {
		return Named{}, fmt.Errorf("initdb runs its helpers through /bin/sh: %w", err)
	}
	files := []File{
		binary(s.PostgresEntrypoint, postgresEntrypointInImage),
		// initdb starts postgres through popen(3), that is /bin/sh (Debian's dash).
		binary(shell, "/bin/sh"),
		{Src: lib, Dst: lib},
		{Src: share, Dst: share},
		{Src: "/usr/share/zoneinfo/UTC", Dst: "/usr/share/zoneinfo/UTC"},
		{Src: "/usr/share/zoneinfo/Etc/UTC", Dst: "/usr/share/zoneinfo/Etc/UTC"},
	}
	for _, prog := range []string{"postgres", "initdb", "pg_isready", "pg_ctl"} {
		files = append(files, binary(filepath.Join(s.PostgresBinDir, prog), filepath.Join(s.PostgresBinDir, prog)))
	}
	files = append(files, Passwd(map[string]int{"postgres": postgresUID})...)
	if _, err := os.Stat(share); err != nil {
		return Named{}, fmt.Errorf("PostgreSQL's shared files: %w", err)
	}
	img, err := b.Build(Spec{
		Name: postgresImageRepository + ":" + version, Files: files,
		Dirs:       []string{"/tmp", "/var/run/postgresql", "/var/lib/postgresql/data"},
		Entrypoint: []string{postgresEntrypointInImage}, Cmd: []string{"postgres"},
		User: fmt.Sprintf("%d:%d", postgresUID, postgresUID),
		Env:  []string{"PATH=" + s.PostgresBinDir + ":/usr/local/bin:/usr/bin:/bin", "PGDATA=/var/lib/postgresql/data", "TZ=UTC", "LANG=C"},
		Labels: map[string]string{"org.opencontainers.image.title": "postgres",
			"org.opencontainers.image.description": "PostgreSQL " + version + " from Debian's package, assembled for the tests' local node"},
	})
	if err != nil {
		return Named{}, err
	}
	d, err := img.Digest()
	if err != nil {
		return Named{}, err
	}
	return Named{Name: postgresImageRepository + ":" + version, Image: img, Digest: d.String()}, nil
}
