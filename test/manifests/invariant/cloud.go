package invariant

import (
	"regexp"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/platform-template/template-api/test/manifests/manifest"
)

const roleARNAnnotation = "eks.amazonaws.com/role-arn"

var roleARN = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+$`)

// ExternalSecretsV1: every External Secrets object uses the served API external-secrets.io/v1
// (v1beta1 is gone); every SecretStore authenticates to AWS with the workload identity of a
// ServiceAccount defined here that carries an IAM role ARN annotation (never with static keys
// from a Secret); every ExternalSecret uses a SecretStore defined here; at least one
// ExternalSecret or SecretStore exists.
func ExternalSecretsV1(objs []manifest.Object) []Finding {
	f := &findings{check: "ExternalSecretsV1"}
	sas := map[string]corev1.ServiceAccount{}
	for _, sa := range decodeAll[corev1.ServiceAccount](objs, "", "ServiceAccount", f) {
		sas[sa.Namespace+"/"+sa.Name] = sa
	}
	stores := map[string]bool{}
	seen := 0
	for _, o := range objs {
		if o.Group() != "external-secrets.io" {
			continue
		}
		seen++
		if o.APIVersion != "external-secrets.io/v1" {
			f.add(o.ID(), "apiVersion %s, want external-secrets.io/v1", o.APIVersion)
		}
		switch o.Kind {
		case "SecretStore", "ClusterSecretStore":
			stores[o.Kind+"/"+o.Name] = true
			if _, ok := o.Lookup("spec", "provider", "aws"); !ok {
				f.add(o.ID(), "provider is not AWS")
				continue
			}
			if _, static := o.Lookup("spec", "provider", "aws", "auth", "secretRef"); static {
				f.add(o.ID(), "authenticates with static access keys from a Secret")
			}
			sa := o.String("spec", "provider", "aws", "auth", "jwt", "serviceAccountRef", "name")
			if sa == "" {
				f.add(o.ID(), "does not authenticate with a ServiceAccount's workload identity (auth.jwt.serviceAccountRef)")
				continue
			}
			acct, ok := sas[o.Namespace+"/"+sa]
			if !ok {
				f.add(o.ID(), "ServiceAccount %q is not defined in namespace %q", sa, o.Namespace)
				continue
			}
			if !roleARN.MatchString(acct.Annotations[roleARNAnnotation]) {
				f.add(o.ID(), "ServiceAccount %q has no IAM role ARN in %s (got %q)", sa, roleARNAnnotation, acct.Annotations[roleARNAnnotation])
			}
		}
	}
	for _, o := range objs {
		if o.Group() != "external-secrets.io" || o.Kind != "ExternalSecret" {
			continue
		}
		kind := o.String("spec", "secretStoreRef", "kind")
		if kind == "" {
			kind = "SecretStore"
		}
		ref := kind + "/" + o.String("spec", "secretStoreRef", "name")
		if !stores[ref] {
			f.add(o.ID(), "refers to %s, which this overlay does not define", ref)
		}
	}
	if seen == 0 {
		f.add("-", "no External Secrets objects: the overlay has no way to get its credentials")
	}
	return f.list
}

// AppWorkloadIdentity returns the check that the app's ServiceAccount carries an IAM role ARN
// for IRSA (the role RDS IAM auth and any other AWS call use).
func AppWorkloadIdentity(sa string) Check {
	name := "AppWorkloadIdentity"
	return Check{Name: name, Run: func(objs []manifest.Object) []Finding {
		f := &findings{check: name}
		found := false
		for id, acct := range decodeAll[corev1.ServiceAccount](objs, "", "ServiceAccount", f) {
			if acct.Name != sa {
				continue
			}
			found = true
			if !roleARN.MatchString(acct.Annotations[roleARNAnnotation]) {
				f.add(id, "no IAM role ARN in %s (got %q)", roleARNAnnotation, acct.Annotations[roleARNAnnotation])
			}
		}
		if !found {
			f.add("ServiceAccount/"+sa, "not found")
		}
		return f.list
	}}
}

// containerEnv resolves the environment of a container from its envFrom ConfigMaps (as the set
// defines them) and its literal env entries; the second result lists the variables set from
// elsewhere (secrets, field references).
func containerEnv(objs []manifest.Object, ns string, c corev1.Container, f *findings) map[string]string {
	cms := map[string]corev1.ConfigMap{}
	for _, cm := range decodeAll[corev1.ConfigMap](objs, "", "ConfigMap", f) {
		cms[cm.Namespace+"/"+cm.Name] = cm
	}
	env := map[string]string{}
	for _, src := range c.EnvFrom {
		if src.ConfigMapRef == nil {
			continue
		}
		for k, v := range cms[ns+"/"+src.ConfigMapRef.Name].Data {
			env[src.Prefix+k] = v
		}
	}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	return env
}

// Database describes how the app must reach its database in an overlay.
type Database struct {
	App       string // Deployment name
	Container string
	IAMAuth   bool // RDS IAM auth tokens, no password anywhere
}

// DatabaseConnection returns the check on the app's database settings in a cloud overlay:
// APP_ENV=production, TLS with DB_SSLMODE=verify-full against a CA bundle (DB_SSLROOTCERT) that
// is mounted read-only; with IAM auth, DB_IAM_AUTH=true and AWS_REGION set and no password file
// or password volume at all; without it, DB_PASSWORD_FILE on a read-only mount.
func DatabaseConnection(db Database) Check {
	name := "DatabaseConnection"
	return Check{Name: name, Run: func(objs []manifest.Object) []Finding {
		f := &findings{check: name}
		found := false
		for _, pt := range podTemplates(objs, f) {
			if pt.Kind != "Deployment" || pt.Name != db.App {
				continue
			}
			for _, c := range pt.containers() {
				if c.Kind == "container" && c.C.Name != db.Container {
					continue
				}
				found = found || c.C.Name == db.Container
				env := containerEnv(objs, pt.Ns, c.C, f)
				where := c.Kind + " " + c.C.Name
				if env["APP_ENV"] != "production" {
					f.add(pt.Owner, "%s: APP_ENV is %q, want production", where, env["APP_ENV"])
				}
				if env["DB_SSLMODE"] != "verify-full" {
					f.add(pt.Owner, "%s: DB_SSLMODE is %q, want verify-full", where, env["DB_SSLMODE"])
				}
				if !mountedReadOnly(c.C, env["DB_SSLROOTCERT"]) {
					f.add(pt.Owner, "%s: DB_SSLROOTCERT %q is not on a read-only mount", where, env["DB_SSLROOTCERT"])
				}
				if db.IAMAuth {
					if env["DB_IAM_AUTH"] != "true" {
						f.add(pt.Owner, "%s: DB_IAM_AUTH is %q, want true", where, env["DB_IAM_AUTH"])
					}
					if env["AWS_REGION"] == "" {
						f.add(pt.Owner, "%s: AWS_REGION is not set (RDS IAM auth needs it)", where)
					}
					if _, ok := env["DB_PASSWORD_FILE"]; ok {
						f.add(pt.Owner, "%s: DB_PASSWORD_FILE is set although RDS IAM auth needs no password", where)
					}
				} else if !mountedReadOnly(c.C, env["DB_PASSWORD_FILE"]) {
					f.add(pt.Owner, "%s: DB_PASSWORD_FILE %q is not on a read-only mount", where, env["DB_PASSWORD_FILE"])
				}
			}
			if db.IAMAuth {
				for _, v := range pt.Spec.Volumes {
					if v.Secret != nil {
						f.add(pt.Owner, "mounts Secret %q although RDS IAM auth needs no password", v.Secret.SecretName)
					}
				}
			}
		}
		if !found {
			f.add("Deployment/"+db.App, "no container %q found", db.Container)
		}
		return f.list
	}}
}

func mountedReadOnly(c corev1.Container, path string) bool {
	if path == "" {
		return false
	}
	return slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool {
		return m.ReadOnly && strings.HasPrefix(path, strings.TrimSuffix(m.MountPath, "/")+"/")
	})
}
