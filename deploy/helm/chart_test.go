// Package helm tests atoll's Helm chart: it renders the chart with Helm's
// own engine (helm.sh/helm/v3) and decodes every manifest strictly into
// Kubernetes' API types, so a misspelt field fails as kubectl would, then
// checks what an operator relies on: probes, the non-root read-only
// security context, the data volume, secrets, resources, and that the
// server configuration the chart writes is one atoll accepts.
//
// It is a module of its own so that atoll's module does not carry Helm
// and Kubernetes' libraries.
package helm

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/yaml"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"

	"github.com/atollhq/atoll/runner/config"
)

// rendered is one release's manifests by kind.
type rendered struct {
	deployment *appsv1.Deployment
	service    *corev1.Service
	configMap  *corev1.ConfigMap
	secret     *corev1.Secret
	pvc        *corev1.PersistentVolumeClaim
	ingress    *networkingv1.Ingress
	monitor    map[string]any
}

func render(t *testing.T, values string) rendered {
	t.Helper()
	chart, err := loader.Load("atoll")
	if err != nil {
		t.Fatal(err)
	}
	var vals map[string]any
	if err := yaml.Unmarshal([]byte(values), &vals); err != nil {
		t.Fatal(err)
	}
	top, err := chartutil.ToRenderValues(chart, vals, chartutil.ReleaseOptions{Name: "atoll", Namespace: "infra", IsInstall: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	files, err := engine.Render(chart, top)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	var r rendered
	for name, body := range files {
		if !strings.HasSuffix(name, ".yaml") || strings.TrimSpace(body) == "" {
			continue
		}
		var head struct{ Kind string }
		if err := yaml.Unmarshal([]byte(body), &head); err != nil {
			t.Fatalf("%s does not parse: %v\n%s", name, err, body)
		}
		var obj any
		switch head.Kind {
		case "Deployment":
			r.deployment = &appsv1.Deployment{}
			obj = r.deployment
		case "Service":
			r.service = &corev1.Service{}
			obj = r.service
		case "ConfigMap":
			r.configMap = &corev1.ConfigMap{}
			obj = r.configMap
		case "Secret":
			r.secret = &corev1.Secret{}
			obj = r.secret
		case "PersistentVolumeClaim":
			r.pvc = &corev1.PersistentVolumeClaim{}
			obj = r.pvc
		case "Ingress":
			r.ingress = &networkingv1.Ingress{}
			obj = r.ingress
		case "ServiceMonitor":
			r.monitor = map[string]any{}
			obj = &r.monitor
		default:
			t.Fatalf("%s: unexpected kind %q", name, head.Kind)
		}
		if err := yaml.UnmarshalStrict([]byte(body), obj); err != nil {
			t.Fatalf("%s is not a valid %s: %v\n%s", name, head.Kind, err, body)
		}
	}
	return r
}

const secretValues = `
github: {appId: 1234}
url: https://atoll.acme.dev
secrets:
  privateKey: "-----BEGIN RSA PRIVATE KEY-----\nMII\n-----END RSA PRIVATE KEY-----\n"
  webhookSecret: "hook\n"
  clientSecret: "client"
`

func TestChartDefaults(t *testing.T) {
	r := render(t, secretValues)
	if r.deployment == nil || r.service == nil || r.configMap == nil || r.secret == nil || r.pvc == nil {
		t.Fatalf("missing manifests: %+v", r)
	}
	if r.ingress != nil || r.monitor != nil {
		t.Error("Ingress and ServiceMonitor are rendered though not enabled")
	}
	d := r.deployment
	if *d.Spec.Replicas != 1 || d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
		t.Errorf("replicas %d, strategy %s: one pod, recreated, owns the database", *d.Spec.Replicas, d.Spec.Strategy.Type)
	}
	pod := d.Spec.Template.Spec
	if got := *pod.TerminationGracePeriodSeconds; got != 630 {
		t.Errorf("terminationGracePeriodSeconds %d, want shutdown grace (600) + 30", got)
	}
	if pod.SecurityContext.RunAsNonRoot == nil || !*pod.SecurityContext.RunAsNonRoot || *pod.SecurityContext.RunAsUser == 0 {
		t.Errorf("pod security context is not non-root: %+v", pod.SecurityContext)
	}
	c := pod.Containers[0]
	sc := c.SecurityContext
	if sc == nil || !*sc.ReadOnlyRootFilesystem || *sc.AllowPrivilegeEscalation || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" || sc.Privileged != nil {
		t.Errorf("container security context: %+v", sc)
	}
	if c.LivenessProbe.HTTPGet.Path != "/healthz" || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
		t.Errorf("probes: liveness %s, readiness %s", c.LivenessProbe.HTTPGet.Path, c.ReadinessProbe.HTTPGet.Path)
	}
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() {
		t.Errorf("no resource requests: %+v", c.Resources)
	}
	mounts := map[string]string{}
	for _, m := range c.VolumeMounts {
		mounts[m.MountPath] = m.Name
	}
	volumes := map[string]corev1.Volume{}
	for _, v := range pod.Volumes {
		volumes[v.Name] = v
	}
	if v := volumes[mounts["/var/lib/atoll"]]; v.PersistentVolumeClaim == nil || v.PersistentVolumeClaim.ClaimName != r.pvc.Name {
		t.Errorf("the data dir is not the chart's PVC: %+v", v)
	}
	if v := volumes[mounts["/tmp"]]; v.EmptyDir == nil {
		t.Errorf("/tmp is not an emptyDir on a read-only root: %+v", v)
	}
	if v := volumes[mounts["/etc/atoll/secrets"]]; v.Secret == nil || v.Secret.SecretName != r.secret.Name {
		t.Errorf("the secrets are not mounted from the chart's Secret: %+v", v)
	}
	for _, k := range []string{"private-key.pem", "webhook-secret", "client-secret"} {
		if len(r.secret.Data[k]) == 0 {
			t.Errorf("Secret lacks %s", k)
		}
	}
	ports := map[string]int32{}
	for _, p := range r.service.Spec.Ports {
		ports[p.Name] = p.Port
	}
	if ports["http"] == 0 || ports["metrics"] != 9090 {
		t.Errorf("service ports: %v", ports)
	}
	cfg := loadConfig(t, r)
	if cfg.GitHub.AppID != 1234 || cfg.URL != "https://atoll.acme.dev" || cfg.DataDir != "/var/lib/atoll" ||
		cfg.MetricsListen != ":9090" || cfg.LogFormat != "json" || cfg.GitHub.WebhookSecret != "hook" {
		t.Errorf("server config: %+v", cfg.Redacted())
	}
}

func TestChartOptions(t *testing.T) {
	r := render(t, secretValues+`
existingSecret: atoll-app
ingress: {enabled: true, className: nginx, host: atoll.acme.dev, tls: [{secretName: atoll-tls, hosts: [atoll.acme.dev]}]}
metrics: {port: 9100, serviceMonitor: {enabled: true, labels: {release: prom}}}
persistence: {existingClaim: atoll-data}
config: {workers: 8, drift: {enabled: true}}
policySets:
  - name: safety
    owners: [acme/platform]
    files:
      safety.rego: |
        package atoll
`)
	if r.secret != nil {
		t.Error("a Secret is rendered though existingSecret names one")
	}
	if r.pvc != nil {
		t.Error("a PVC is rendered though existingClaim names one")
	}
	if r.ingress == nil || *r.ingress.Spec.IngressClassName != "nginx" || r.ingress.Spec.Rules[0].Host != "atoll.acme.dev" ||
		r.ingress.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Port.Name != "http" {
		t.Errorf("ingress: %+v", r.ingress)
	}
	ep := r.monitor["spec"].(map[string]any)["endpoints"].([]any)[0].(map[string]any)
	if ep["port"] != "metrics" || ep["path"] != "/metrics" || r.monitor["metadata"].(map[string]any)["labels"].(map[string]any)["release"] != "prom" {
		t.Errorf("service monitor: %v", r.monitor)
	}
	pod := r.deployment.Spec.Template.Spec
	var policies *corev1.Volume
	for i, v := range pod.Volumes {
		switch v.Name {
		case "secrets":
			if v.Secret.SecretName != "atoll-app" {
				t.Errorf("secret volume: %s", v.Secret.SecretName)
			}
		case "data":
			if v.PersistentVolumeClaim.ClaimName != "atoll-data" {
				t.Errorf("data volume: %s", v.PersistentVolumeClaim.ClaimName)
			}
		case "policies":
			policies = &pod.Volumes[i]
		}
	}
	if policies == nil || policies.ConfigMap.Items[0].Path != "safety/safety.rego" ||
		r.configMap.Data[policies.ConfigMap.Items[0].Key] == "" {
		t.Fatalf("policy files are not mounted: %+v", policies)
	}
	cfg := loadConfig(t, r)
	if cfg.Workers != 8 || !cfg.Drift.Enabled || cfg.MetricsListen != ":9100" || len(cfg.PolicySets) != 1 ||
		cfg.PolicySets[0].Path != "/etc/atoll/policies/safety" || cfg.PolicySets[0].Owners[0] != "acme/platform" {
		t.Errorf("server config: %+v", cfg.Redacted())
	}
}

// loadConfig reads the chart's server configuration with atoll's own
// strict loader, the files it names replaced by local copies.
func loadConfig(t *testing.T, r rendered) config.Server {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(r.configMap.Data["config.yaml"]), 0o600); err != nil {
		t.Fatal(err)
	}
	key, hook := filepath.Join(dir, "key.pem"), filepath.Join(dir, "hook")
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	_ = os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rk)}), 0o600)
	_ = os.WriteFile(hook, []byte("hook\n"), 0o600)
	flags := map[string]string{"github-private-key-file": key, "github-webhook-secret-file": hook}
	if url := r.secret; url != nil && len(url.Data["database-url"]) > 0 {
		db := filepath.Join(dir, "database-url")
		_ = os.WriteFile(db, url.Data["database-url"], 0o600)
		flags["database-file"] = db
	}
	cfg, err := config.LoadServer(path, nil, flags)
	if err != nil {
		t.Fatalf("atoll refuses the chart's server config: %v\n%s", err, r.configMap.Data["config.yaml"])
	}
	return cfg
}

// With a PostgreSQL URL the chart runs N replicas, each with a data dir
// of its own (an emptyDir, for git mirrors), and no PVC.
func TestChartReplicasOnPostgreSQL(t *testing.T) {
	r := render(t, secretValues+`
database: {url: "postgres://atoll:pw@db.acme.dev:5432/atoll"}
replicas: 4
`)
	if r.pvc != nil {
		t.Error("a PVC is rendered though the database is PostgreSQL")
	}
	d := r.deployment
	if *d.Spec.Replicas != 4 || d.Spec.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType {
		t.Errorf("replicas %d, strategy %s; want 4, rolling", *d.Spec.Replicas, d.Spec.Strategy.Type)
	}
	for _, v := range d.Spec.Template.Spec.Volumes {
		if v.Name == "data" && (v.EmptyDir == nil || v.PersistentVolumeClaim != nil) {
			t.Errorf("each replica's data dir is not an emptyDir of its own: %+v", v)
		}
	}
	if string(r.secret.Data["database-url"]) != "postgres://atoll:pw@db.acme.dev:5432/atoll" {
		t.Errorf("Secret's database-url = %q", r.secret.Data["database-url"])
	}
	if strings.Contains(r.configMap.Data["config.yaml"], "pw@") {
		t.Error("the database password is in the ConfigMap")
	}
	cfg := loadConfig(t, r)
	if cfg.Database != "postgres://atoll:pw@db.acme.dev:5432/atoll" {
		t.Errorf("server config database = %q, want the URL from database_file", cfg.Database)
	}

	// Without a database: one pod, the PVC, whatever replicas says.
	one := render(t, secretValues+"replicas: 4\n")
	if *one.deployment.Spec.Replicas != 1 || one.pvc == nil {
		t.Errorf("bbolt: replicas %d, PVC %v; want one pod on its PVC", *one.deployment.Spec.Replicas, one.pvc != nil)
	}
}
