{{/* Prometheus metrics (values `metrics:`; docs/metrics.md). The scheduler and triggerer serve /metrics on
metrics.port (the scheduler's DAG processor child on metrics.port + 1), the webserver on its own port; every
scrape presents the bearer token from the metrics Secret. */}}

{{- define "tradewind.metricsSecretName" -}}
{{- .Values.metrics.token.existingSecret | default (printf "%s-metrics" (include "tradewind.fullname" .)) }}
{{- end }}

{{/* The token for every Tradewind container: the webserver checks it, the services require it. Call with
(dict "root" $ "serve" true) for the scheduler and triggerer, which also serve on metrics.port. */}}
{{- define "tradewind.metricsEnv" -}}
{{- $m := .root.Values.metrics }}
{{- if $m.enabled }}
- name: TRADEWIND__METRICS__TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ include "tradewind.metricsSecretName" .root }}
      key: {{ $m.token.existingSecretKey }}
{{- if .serve }}
- name: TRADEWIND__METRICS__SERVE_HOST
  value: "0.0.0.0"
- name: TRADEWIND__METRICS__SERVE_PORT
  value: {{ $m.port | quote }}
{{- end }}
{{- end }}
{{- end }}

{{/* Container ports of the services that serve /metrics themselves: (dict "root" $ "dagProcessor" true). */}}
{{- define "tradewind.metricsPorts" -}}
{{- $m := .root.Values.metrics }}
{{- if $m.enabled }}
- name: metrics
  containerPort: {{ $m.port }}
{{- if .dagProcessor }}
- name: metrics-parsing
  containerPort: {{ add $m.port 1 }}
{{- end }}
{{- end }}
{{- end }}

{{/* prometheus.io/* annotations on a pod: (dict "root" $ "port" 9102). */}}
{{- define "tradewind.metricsAnnotations" -}}
{{- $m := .root.Values.metrics }}
{{- if and $m.enabled $m.scrapeAnnotations }}
prometheus.io/scrape: "true"
prometheus.io/port: {{ .port | quote }}
prometheus.io/path: /metrics
{{- end }}
{{- end }}
