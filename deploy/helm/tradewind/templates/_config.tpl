{{/*
Tradewind's settings as the chart renders them: the user's `config` merged with the keys the chart owns,
written as TOML ($TRADEWIND_HOME/tradewind.toml). Section and key names are those of
tradewind.config.settings (env form: TRADEWIND__SECTION__KEY).
*/}}

{{/* The settings dict: `config` plus the keys the chart decides. Returns JSON (include cannot return maps). */}}
{{- define "tradewind.settings" -}}
{{- $s := deepCopy .Values.config }}
{{- range $section := list "core" "secrets" "logging" "scheduler" "triggerer" "webserver" "execution_api" "celery" "kubernetes" }}
{{- if not (hasKey $s $section) }}{{ $_ := set $s $section dict }}{{ end }}
{{- if not (get $s $section) }}{{ $_ := set $s $section dict }}{{ end }}
{{- end }}
{{- $_ := set $s.core "executor" .Values.executor }}
{{- $_ := set $s.core "dags_folder" (include "tradewind.dagsFolder" .) }}
{{- $_ := set $s.logging "base_log_folder" .Values.logs.mountPath }}
{{- with .Values.logs.remote }}
{{- if .baseLogFolder }}
{{- $_ := set $s.logging "remote_base_log_folder" .baseLogFolder }}
{{- $_ := set $s.logging "remote_log_conn_id" .connId }}
{{- $_ := set $s.logging "delete_local_logs" .deleteLocalLogs }}
{{- end }}
{{- end }}
{{- $_ := set $s.triggerer "capacity" (int .Values.triggerer.capacity) }}
{{- $_ := set $s.webserver "host" "0.0.0.0" }}
{{- $_ := set $s.webserver "port" 8080 }}
{{- with include "tradewind.forwardedAllowIps" . }}
{{- $_ := set $s.webserver "forwarded_allow_ips" . }}
{{- end }}
{{- if .Values.secretFiles.connectionsSecret }}
{{- $_ := set $s.secrets "connections_path" (printf "%s/connections" (include "tradewind.secretFilesPath" .)) }}
{{- end }}
{{- if .Values.secretFiles.variablesSecret }}
{{- $_ := set $s.secrets "variables_path" (printf "%s/variables" (include "tradewind.secretFilesPath" .)) }}
{{- end }}
{{- with include "tradewind.executionApiUrl" . }}
{{- $_ := set (get $s "execution_api") "url" . }}
{{- end }}
{{- if eq .Values.executor "celery" }}
{{- $_ := set $s.celery "default_queue" (first .Values.celery.queues) }}
{{- $_ := set $s.celery "worker_concurrency" .Values.celery.concurrency }}
{{- end }}
{{- if eq .Values.executor "kubernetes" }}
{{- $k := $s.kubernetes }}
{{- $_ := set $k "namespace" (include "tradewind.workerNamespace" .) }}
{{- $_ := set $k "in_cluster" true }}
{{- $_ := set $k "image" (include "tradewind.image" .) }}
{{- $_ := set $k "image_pull_policy" .Values.image.pullPolicy }}
{{- $_ := set $k "service_account_name" (include "tradewind.workerServiceAccountName" .) }}
{{- $_ := set $k "pod_template_file" (include "tradewind.podTemplatePath" .) }}
{{- $_ := set $k "delete_worker_pods" .Values.kubernetesExecutor.deleteWorkerPods }}
{{- $_ := set $k "delete_worker_pods_on_failure" .Values.kubernetesExecutor.deleteWorkerPodsOnFailure }}
{{- /* No env_from_secret: worker pods hold no secret; they reach shared state through the execution API
with the token of their try. */}}
{{- $_ := set $k "env_from_configmap" (include "tradewind.envConfigMapName" .) }}
{{- if eq .Values.dags.mode "persistent" }}
{{- $_ := set $k "dags_volume_claim" (include "tradewind.dagsClaimName" .) }}
{{- end }}
{{- if .Values.logs.persistence.enabled }}
{{- $_ := set $k "logs_volume_claim" (include "tradewind.logsClaimName" .) }}
{{- end }}
{{- $_ := set $k "dags_mount_path" .Values.dags.mountPath }}
{{- $_ := set $k "logs_mount_path" .Values.logs.mountPath }}
{{- end }}
{{- toJson $s }}
{{- end }}

{{/* One TOML value. Helm reads YAML numbers as floats: whole numbers are written as integers. */}}
{{- define "tradewind.tomlValue" -}}
{{- if kindIs "bool" . }}{{ . }}
{{- else if kindIs "float64" . }}{{ if eq . (floor .) }}{{ int64 . }}{{ else }}{{ . }}{{ end }}
{{- else if or (kindIs "int" .) (kindIs "int64" .) }}{{ . }}
{{- else if kindIs "string" . }}{{ toJson . }}
{{- else if kindIs "slice" . }}{{ toJson . }}
{{- else }}{{ fail (printf "config: value %v is not a string, number, boolean or list" .) }}
{{- end }}
{{- end }}

{{/* The settings as TOML, sections and keys sorted, empty sections and null values left out. */}}
{{- define "tradewind.toml" -}}
{{- $settings := include "tradewind.settings" . | fromJson }}
{{- $lines := list }}
{{- range $section := keys $settings | sortAlpha }}
{{- $values := get $settings $section }}
{{- if $values }}
{{- if $lines }}{{ $lines = append $lines "" }}{{ end }}
{{- $lines = append $lines (printf "[%s]" $section) }}
{{- range $key := keys $values | sortAlpha }}
{{- $value := get $values $key }}
{{- if kindIs "map" $value }}
{{- fail (printf "config.%s.%s: settings sections are flat; a table is not a valid value" $section $key) }}
{{- end }}
{{- if not (kindIs "invalid" $value) }}
{{- $lines = append $lines (printf "%s = %s" $key (include "tradewind.tomlValue" $value)) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- join "\n" $lines }}
{{- end }}
