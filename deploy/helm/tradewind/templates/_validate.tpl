{{/*
Checks across several values that a JSON schema cannot express clearly. Each failure names the value at
fault and what to do instead. Included once, from configmap.yaml.
*/}}
{{- define "tradewind.validate" -}}
{{- $config := .Values.config | default dict }}
{{- $owned := dict
  "core" (list "executor" "dags_folder")
  "logging" (list "base_log_folder" "remote_base_log_folder" "remote_log_conn_id" "delete_local_logs")
  "webserver" (list "host" "port" "forwarded_allow_ips")
  "execution_api" (list "url")
  "metrics" (list "serve_host" "serve_port")
  "secrets" (list "connections_path" "variables_path")
  "celery" (list "default_queue" "worker_concurrency")
  "kubernetes" (list "namespace" "in_cluster" "image" "image_pull_policy" "service_account_name" "pod_template_file" "delete_worker_pods" "delete_worker_pods_on_failure" "env_from_configmap" "dags_volume_claim" "logs_volume_claim" "dags_mount_path" "logs_mount_path")
}}
{{- $instead := dict
  "core.executor" "executor"
  "secrets.connections_path" "secretFiles.connectionsSecret"
  "secrets.variables_path" "secretFiles.variablesSecret"
  "core.dags_folder" "dags.mountPath and dags.gitSync.subPath"
  "logging.base_log_folder" "logs.mountPath"
  "logging.remote_base_log_folder" "logs.remote.baseLogFolder"
  "logging.remote_log_conn_id" "logs.remote.connId"
  "logging.delete_local_logs" "logs.remote.deleteLocalLogs"
  "webserver.host" "nothing (the webserver listens on 0.0.0.0)"
  "webserver.port" "webserver.service.port (the container listens on 8080)"
  "webserver.forwarded_allow_ips" "webserver.forwardedAllowIps"
  "execution_api.url" "executionApi.url"
  "metrics.serve_host" "metrics.enabled (the services listen on 0.0.0.0 with the token)"
  "metrics.serve_port" "metrics.port"
  "celery.default_queue" "celery.queues (its first entry)"
  "celery.worker_concurrency" "celery.concurrency"
  "kubernetes.namespace" "kubernetesExecutor.namespace"
  "kubernetes.image" "image.repository and image.tag"
  "kubernetes.image_pull_policy" "image.pullPolicy"
  "kubernetes.delete_worker_pods" "kubernetesExecutor.deleteWorkerPods"
  "kubernetes.delete_worker_pods_on_failure" "kubernetesExecutor.deleteWorkerPodsOnFailure"
  "kubernetes.dags_mount_path" "dags.mountPath"
  "kubernetes.logs_mount_path" "logs.mountPath"
}}
{{- range $section, $keys := $owned }}
{{- $values := get $config $section | default dict }}
{{- range $key := $keys }}
{{- if hasKey $values $key }}
{{- $name := printf "%s.%s" $section $key }}
{{- fail (printf "config.%s is set by the chart; use %s instead" $name (get $instead $name | default "the chart's own values")) }}
{{- end }}
{{- end }}
{{- end }}
{{- $secrets := dict
  "database.url" "externalDatabase.url or externalDatabase.existingSecret"
  "webserver.secret_key" "webserver.secretKey or webserver.existingSecret"
  "execution_api.jwt_secret" "executionApi.jwtSecret or executionApi.existingSecret"
  "core.fernet_key" "fernetKey or fernetKeySecretName"
  "celery.broker_url" "celery.brokerUrl or celery.existingSecret"
  "celery.result_backend" "celery.resultBackend or celery.existingSecret"
  "metrics.token" "metrics.token.existingSecret (or the Secret the chart generates)"
  "traces.otlp_headers" "a collector agent beside the pods that adds the headers (the chart takes none)"
}}
{{- range $name, $use := $secrets }}
{{- $parts := splitList "." $name }}
{{- $values := get $config (first $parts) | default dict }}
{{- if hasKey $values (last $parts) }}
{{- fail (printf "config.%s is a secret and would land in a ConfigMap; use %s instead" $name $use) }}
{{- end }}
{{- end }}
{{- with (get $config "kubernetes" | default dict).env_from_secret }}
{{- $databaseSecrets := list (include "tradewind.envSecretName" $) (printf "%s-postgresql" (include "tradewind.fullname" $)) $.Values.externalDatabase.existingSecret }}
{{- if has . $databaseSecrets }}
{{- fail (printf "config.kubernetes.env_from_secret names %s, which holds database credentials: worker pods must never get them (they use the execution API)" .) }}
{{- end }}
{{- end }}
{{- if and (eq .Values.dags.mode "git") (not .Values.dags.gitSync.repo) }}
{{- fail "dags.mode is git but dags.gitSync.repo is empty: give the repository to clone (--git-repo)" }}
{{- end }}
{{- if and .Values.dags.gitSync.credentialsSecret .Values.dags.gitSync.sshKeySecret }}
{{- fail "dags.gitSync.credentialsSecret (HTTPS) and dags.gitSync.sshKeySecret (SSH) are both set: keep the one matching dags.gitSync.repo" }}
{{- end }}
{{- if not .Values.postgresql.enabled }}
{{- if and (not .Values.externalDatabase.url) (not .Values.externalDatabase.existingSecret) }}
{{- fail "postgresql.enabled is false: set externalDatabase.url or externalDatabase.existingSecret to a PostgreSQL database" }}
{{- end }}
{{- if and .Values.externalDatabase.url .Values.externalDatabase.existingSecret }}
{{- fail "externalDatabase.url and externalDatabase.existingSecret are both set: keep one" }}
{{- end }}
{{- else if or .Values.externalDatabase.url .Values.externalDatabase.existingSecret }}
{{- fail "externalDatabase is set while postgresql.enabled is true: set postgresql.enabled=false to use the external database" }}
{{- end }}
{{- if and (eq .Values.executor "celery") (not .Values.redis.enabled) (not .Values.celery.brokerUrl) (not .Values.celery.existingSecret) }}
{{- fail "executor is celery and redis.enabled is false: set celery.brokerUrl or celery.existingSecret" }}
{{- end }}
{{- if and .Values.networkPolicy.enabled (eq .Values.executor "celery") (not .Values.redis.enabled) (not .Values.networkPolicy.workerEgress) }}
{{- fail "networkPolicy.enabled with an external Celery broker: Celery workers could not reach it; add an egress rule to it in networkPolicy.workerEgress" }}
{{- end }}
{{- if eq .Values.executor "kubernetes" }}
{{- $elsewhere := without (include "tradewind.executorNamespaces" . | fromJsonArray) .Release.Namespace }}
{{- if $elsewhere }}
{{- if and (eq .Values.dags.mode "persistent") (not .Values.dags.persistence.existingClaim) }}
{{- fail (printf "worker pods run in namespace(s) %s, where a claim created in %s cannot be mounted: set dags.persistence.existingClaim to a claim of that name present in every worker namespace, or use dags.mode=git" (join ", " $elsewhere) .Release.Namespace) }}
{{- end }}
{{- if and .Values.logs.persistence.enabled (not .Values.logs.persistence.existingClaim) }}
{{- fail (printf "worker pods run in namespace(s) %s, where a claim created in %s cannot be mounted: set logs.persistence.existingClaim to a claim of that name present in every worker namespace" (join ", " $elsewhere) .Release.Namespace) }}
{{- end }}
{{- end }}
{{- end }}
{{- if and .Values.webserver.ingress.enabled .Values.webserver.ingress.tls.enabled (not .Values.webserver.ingress.tls.secretName) }}
{{- fail "webserver.ingress.tls.enabled is true but webserver.ingress.tls.secretName is empty" }}
{{- end }}
{{- if and .Values.webserver.service.nodePort (ne .Values.webserver.service.type "NodePort") }}
{{- fail (printf "webserver.service.nodePort is set but webserver.service.type is %s, not NodePort" .Values.webserver.service.type) }}
{{- end }}
{{- end }}
