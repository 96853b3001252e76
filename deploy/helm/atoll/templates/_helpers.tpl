{{- define "atoll.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "atoll.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "atoll.selector" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* "true" when atoll keeps its state in PostgreSQL, "" otherwise. */}}
{{- define "atoll.database" -}}
{{- if or .Values.database.enabled .Values.database.url }}true{{ end -}}
{{- end -}}

{{- define "atoll.secretName" -}}
{{- .Values.existingSecret | default (include "atoll.fullname" .) -}}
{{- end -}}

{{/* The server configuration: the chart's keys, then .Values.config over them. */}}
{{- define "atoll.config" -}}
{{- $sets := list -}}
{{- range .Values.policySets -}}
{{- $sets = append $sets (merge (dict "path" (printf "/etc/atoll/policies/%s" .name)) (omit . "files")) -}}
{{- end -}}
{{- $cfg := dict
  "listen" ":4141"
  "metrics_listen" (printf ":%v" .Values.metrics.port)
  "url" .Values.url
  "data_dir" "/var/lib/atoll"
  "shutdown_grace" .Values.shutdownGrace
  "github" (dict
    "app_id" .Values.github.appId
    "api_url" .Values.github.apiUrl
    "private_key_file" "/etc/atoll/secrets/private-key.pem"
    "webhook_secret_file" "/etc/atoll/secrets/webhook-secret") -}}
{{- if $sets }}{{ $_ := set $cfg "policy_sets" $sets }}{{ end -}}
{{- if include "atoll.database" . }}{{ $_ := set $cfg "database_file" "/etc/atoll/secrets/database-url" }}{{ end -}}
{{- toYaml (mustMergeOverwrite $cfg (deepCopy .Values.config)) -}}
{{- end -}}
