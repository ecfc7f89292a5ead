{{/*
Names, labels and the pieces every Tradewind pod shares: image, environment, volumes, security contexts.
*/}}

{{- define "tradewind.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "tradewind.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "tradewind.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Selector labels of one component: call with (dict "root" $ "component" "webserver"). */}}
{{- define "tradewind.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tradewind.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* All labels of one component's objects: call with (dict "root" $ "component" "webserver"). */}}
{{- define "tradewind.labels" -}}
{{ include "tradewind.selectorLabels" . }}
helm.sh/chart: {{ include "tradewind.chart" .root }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: tradewind
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "tradewind.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag | toString) }}
{{- end }}

{{- define "tradewind.home" -}}/opt/tradewind{{- end }}
{{- define "tradewind.podTemplatePath" -}}/opt/tradewind/pod_templates/pod_template.yaml{{- end }}

{{- define "tradewind.workerNamespace" -}}
{{- default .Release.Namespace .Values.kubernetesExecutor.namespace }}
{{- end }}

{{/* The DAG folder as Tradewind sees it: the mount itself, or git-sync's "repo" link plus the subpath. */}}
{{- define "tradewind.dagsFolder" -}}
{{- if eq .Values.dags.mode "git" }}
{{- $sub := trimAll "/" .Values.dags.gitSync.subPath }}
{{- if $sub }}{{ printf "%s/repo/%s" .Values.dags.mountPath $sub }}{{ else }}{{ printf "%s/repo" .Values.dags.mountPath }}{{ end }}
{{- else }}
{{- .Values.dags.mountPath }}
{{- end }}
{{- end }}

{{/* In git mode, where the DAG files are inside the volume: git-sync's "repo" link plus the subpath. */}}
{{- define "tradewind.gitDagsSubPath" -}}
{{- $sub := trimAll "/" .Values.dags.gitSync.subPath }}
{{- if $sub }}{{ printf "repo/%s" $sub }}{{ else }}repo{{ end }}
{{- end }}

{{/* The TCP port of dags.gitSync.repo's server: given in the URL, else its scheme's (https 443, http 80,
git 9418, ssh and scp-like user@host:path 22). */}}
{{- define "tradewind.gitPort" -}}
{{- $repo := .Values.dags.gitSync.repo }}
{{- $defaults := dict "https" "443" "http" "80" "git" "9418" "ssh" "22" }}
{{- if regexMatch "^[a-z+]+://" $repo }}
{{- $url := urlParse $repo }}
{{- $host := regexReplaceAll "^.*@" $url.host "" }}
{{- if regexMatch ":[0-9]+$" $host }}{{ regexFind "[0-9]+$" $host }}{{ else }}{{ get $defaults $url.scheme | default "443" }}{{ end }}
{{- else }}22
{{- end }}
{{- end }}

{{- define "tradewind.dagsClaimName" -}}
{{- default (printf "%s-dags" (include "tradewind.fullname" .)) .Values.dags.persistence.existingClaim }}
{{- end }}

{{- define "tradewind.logsClaimName" -}}
{{- default (printf "%s-logs" (include "tradewind.fullname" .)) .Values.logs.persistence.existingClaim }}
{{- end }}

{{/* Secret settings of the services (scheduler, webserver, migration and admin jobs): the database URL
and the Celery broker. Never given to a worker. */}}
{{- define "tradewind.envSecretName" -}}{{ include "tradewind.fullname" . }}-env{{- end }}
{{/* Secret settings of Celery workers: the broker and result backend URLs only. */}}
{{- define "tradewind.workerEnvSecretName" -}}{{ include "tradewind.fullname" . }}-celery-worker{{- end }}
{{- define "tradewind.envConfigMapName" -}}{{ include "tradewind.fullname" . }}-env{{- end }}
{{- define "tradewind.configMapName" -}}{{ include "tradewind.fullname" . }}-config{{- end }}
{{- define "tradewind.podTemplateConfigMapName" -}}{{ include "tradewind.fullname" . }}-pod-template{{- end }}

{{- define "tradewind.webserverSecretName" -}}
{{- default (printf "%s-webserver" (include "tradewind.fullname" .)) .Values.webserver.existingSecret }}
{{- end }}

{{- define "tradewind.executionApiSecretName" -}}
{{- default (printf "%s-execution-api" (include "tradewind.fullname" .)) .Values.executionApi.existingSecret }}
{{- end }}

{{- define "tradewind.fernetKeySecretName" -}}
{{- default (printf "%s-fernet-key" (include "tradewind.fullname" .)) .Values.fernetKeySecretName }}
{{- end }}

{{/* The URL task runners call: executionApi.url, else the webserver Service's /execution (the celery and
kubernetes executors; the local executor's tries call the scheduler's own loopback API). */}}
{{- define "tradewind.executionApiUrl" -}}
{{- if .Values.executionApi.url }}
{{- .Values.executionApi.url }}
{{- else if ne .Values.executor "local" }}
{{- printf "http://%s-webserver.%s.svc:%v/execution" (include "tradewind.fullname" .) .Release.Namespace (int .Values.webserver.service.port) }}
{{- end }}
{{- end }}

{{/* The proxies the webserver trusts for X-Forwarded-*: webserver.forwardedAllowIps, else with the Ingress
on the private address ranges an in-cluster ingress controller connects from; empty: Tradewind's default. */}}
{{- define "tradewind.forwardedAllowIps" -}}
{{- if .Values.webserver.forwardedAllowIps }}
{{- .Values.webserver.forwardedAllowIps }}
{{- else if .Values.webserver.ingress.enabled -}}
10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,100.64.0.0/10,fc00::/7
{{- end }}
{{- end }}

{{- define "tradewind.adminSecretName" -}}
{{- default (printf "%s-admin" (include "tradewind.fullname" .)) .Values.admin.existingSecret }}
{{- end }}

{{- define "tradewind.schedulerServiceAccountName" -}}
{{- if .Values.serviceAccount.create }}{{ include "tradewind.fullname" . }}-scheduler
{{- else }}{{ default "default" .Values.serviceAccount.schedulerName }}{{ end }}
{{- end }}

{{- define "tradewind.triggererServiceAccountName" -}}
{{- if .Values.serviceAccount.create }}{{ include "tradewind.fullname" . }}-triggerer{{ else }}default{{ end }}
{{- end }}

{{- define "tradewind.webserverServiceAccountName" -}}
{{- if .Values.serviceAccount.create }}{{ include "tradewind.fullname" . }}-webserver{{ else }}default{{ end }}
{{- end }}

{{- define "tradewind.workerServiceAccountName" -}}
{{- if .Values.serviceAccount.create }}{{ include "tradewind.fullname" . }}-worker
{{- else }}{{ default "default" .Values.serviceAccount.workerName }}{{ end }}
{{- end }}

{{/* Namespaces the executor's rules must cover, the worker namespace first. */}}
{{- define "tradewind.executorNamespaces" -}}
{{- $all := list (include "tradewind.workerNamespace" .) }}
{{- range .Values.kubernetesExecutor.extraNamespaces }}{{ $all = append $all . }}{{ end }}
{{- toJson (uniq $all) }}
{{- end }}

{{/* Namespaces that need the configuration ConfigMaps: the release's, plus the executor's when worker pods
run elsewhere (a pod can only reference objects of its own namespace). Secrets stay in the release's. */}}
{{- define "tradewind.configNamespaces" -}}
{{- $all := list .Release.Namespace }}
{{- if eq .Values.executor "kubernetes" }}
{{- $all = concat $all (include "tradewind.executorNamespaces" . | fromJsonArray) }}
{{- end }}
{{- toJson (uniq $all) }}
{{- end }}

{{- define "tradewind.podSecurityContext" -}}
{{ toYaml .Values.securityContexts.pod }}
{{- end }}

{{- define "tradewind.containerSecurityContext" -}}
{{ toYaml .Values.securityContexts.container }}
{{- end }}

{{/* Security context of the bundled PostgreSQL and Redis: their images' own non-root user (999). */}}
{{- define "tradewind.bundledPodSecurityContext" -}}
runAsNonRoot: true
runAsUser: 999
runAsGroup: 999
fsGroup: 999
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* Environment of the services (scheduler, webserver, migration and admin jobs): non-secret values by
ConfigMap, secret ones by Secret reference (never inlined). Call with the root context. */}}
{{- define "tradewind.envFrom" -}}
- configMapRef:
    name: {{ include "tradewind.envConfigMapName" . }}
- secretRef:
    name: {{ include "tradewind.envSecretName" . }}
{{- if and (eq .Values.executor "celery") .Values.celery.existingSecret }}
- secretRef:
    name: {{ .Values.celery.existingSecret }}
{{- end }}
{{- end }}

{{/* Environment of Celery workers: the non-secret ConfigMap and the broker's Secret, nothing of the
database (task runners reach shared state through the execution API only). */}}
{{- define "tradewind.workerEnvFrom" -}}
- configMapRef:
    name: {{ include "tradewind.envConfigMapName" . }}
{{- if .Values.celery.existingSecret }}
- secretRef:
    name: {{ .Values.celery.existingSecret }}
{{- else }}
- secretRef:
    name: {{ include "tradewind.workerEnvSecretName" . }}
{{- end }}
{{- end }}

{{/* The execution API's signing key: the scheduler issues tokens with it, the webserver checks them. */}}
{{- define "tradewind.executionApiEnv" -}}
- name: TRADEWIND__EXECUTION_API__JWT_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ include "tradewind.executionApiSecretName" . }}
      key: jwt-secret
{{- end }}

{{/* The Fernet key(s) encrypting connection secrets in the database: only the services that read or write
them (scheduler, triggerer, webserver) get it; a try reads a connection through the execution API, decrypted, and
a trigger through the triggerer. */}}
{{- define "tradewind.fernetKeyEnv" -}}
- name: TRADEWIND__CORE__FERNET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "tradewind.fernetKeySecretName" . }}
      key: fernet-key
{{- end }}

{{/* Mounts of the mounted-files secrets backend (secretFiles.*), for the scheduler, triggerer and webserver only. */}}
{{- define "tradewind.secretFileMounts" -}}
{{- with .Values.secretFiles.connectionsSecret }}
- name: secret-connections
  mountPath: {{ include "tradewind.secretFilesPath" $ }}/connections
  readOnly: true
{{- end }}
{{- with .Values.secretFiles.variablesSecret }}
- name: secret-variables
  mountPath: {{ include "tradewind.secretFilesPath" $ }}/variables
  readOnly: true
{{- end }}
{{- end }}

{{- define "tradewind.secretFileVolumes" -}}
{{- with .Values.secretFiles.connectionsSecret }}
- name: secret-connections
  secret:
    secretName: {{ . }}
    defaultMode: 256
{{- end }}
{{- with .Values.secretFiles.variablesSecret }}
- name: secret-variables
  secret:
    secretName: {{ . }}
    defaultMode: 256
{{- end }}
{{- end }}

{{- define "tradewind.secretFilesPath" -}}{{ include "tradewind.home" . }}/secrets{{- end }}

{{/* Secret environment of the services that reach the database, beyond envFrom. */}}
{{- define "tradewind.env" -}}
{{- if and (not .Values.postgresql.enabled) .Values.externalDatabase.existingSecret }}
- name: TRADEWIND__DATABASE__URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.externalDatabase.existingSecret }}
      key: {{ .Values.externalDatabase.existingSecretKey }}
{{- end }}
{{- end }}

{{/* Mounts of every Tradewind container. Call with (dict "root" $ "dags" true "logsReadOnly" false
"dagsSubPath" ""). Volume names match the ones the Kubernetes executor gives worker pods
(tradewind-dags, tradewind-logs), so its settings merge into the template instead of doubling it. */}}
{{- define "tradewind.volumeMounts" -}}
- name: config
  mountPath: {{ include "tradewind.home" .root }}/tradewind.toml
  subPath: tradewind.toml
  readOnly: true
- name: tradewind-logs
  mountPath: {{ .root.Values.logs.mountPath }}
  {{- if .logsReadOnly }}
  readOnly: true
  {{- end }}
- name: tmp
  mountPath: /tmp
{{- if .dags }}
- name: tradewind-dags
  mountPath: {{ .root.Values.dags.mountPath }}
  readOnly: true
  {{- with .dagsSubPath }}
  subPath: {{ . }}
  {{- end }}
{{- end }}
{{- end }}

{{/* Volumes behind tradewind.volumeMounts. Call with (dict "root" $ "dags" true). */}}
{{- define "tradewind.volumes" -}}
- name: config
  configMap:
    name: {{ include "tradewind.configMapName" .root }}
- name: tradewind-logs
{{- if .root.Values.logs.persistence.enabled }}
  persistentVolumeClaim:
    claimName: {{ include "tradewind.logsClaimName" .root }}
{{- else }}
  emptyDir: {}
{{- end }}
- name: tmp
  emptyDir: {}
{{- if .dags }}
- name: tradewind-dags
{{- if eq .root.Values.dags.mode "persistent" }}
  persistentVolumeClaim:
    claimName: {{ include "tradewind.dagsClaimName" .root }}
    readOnly: true
{{- else }}
  emptyDir: {}
- name: git-sync-tmp
  emptyDir: {}
{{- if .root.Values.dags.gitSync.sshKeySecret }}
- name: git-ssh-key
  secret:
    secretName: {{ .root.Values.dags.gitSync.sshKeySecret }}
    defaultMode: 288
    items:
      - key: gitSshKey
        path: ssh
{{- end }}
{{- if .root.Values.dags.gitSync.knownHosts }}
- name: git-known-hosts
  configMap:
    name: {{ include "tradewind.fullname" .root }}-git-known-hosts
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/* A git-sync container. Call with (dict "root" $ "init" true): init clones once and exits, the sidecar
keeps the clone current every `period`. */}}
{{- define "tradewind.gitSyncContainer" -}}
{{- $git := .root.Values.dags.gitSync -}}
- name: {{ if .init }}git-sync-init{{ else }}git-sync{{ end }}
  image: {{ printf "%s:%s" $git.image.repository $git.image.tag }}
  imagePullPolicy: {{ $git.image.pullPolicy }}
  args:
    - --repo={{ $git.repo }}
    - --ref={{ $git.branch }}
    - --root={{ .root.Values.dags.mountPath }}
    - --link=repo
    - --depth={{ $git.depth }}
    - --group-write
{{- if .init }}
    - --one-time
{{- else }}
    - --period={{ $git.period }}
    - --max-failures={{ $git.maxFailures }}
    - --http-bind=:8000
{{- end }}
{{- if $git.sshKeySecret }}
    - --ssh-key-file=/etc/git-secret/ssh
{{- if $git.knownHosts }}
    - --ssh-known-hosts-file=/etc/git-secret/known_hosts
{{- else }}
    - --ssh-known-hosts=false
{{- end }}
{{- end }}
  env:
    # git writes its config under HOME; the root filesystem is read-only.
    - name: HOME
      value: /tmp
{{- if $git.credentialsSecret }}
    - name: GITSYNC_USERNAME
      valueFrom:
        secretKeyRef:
          name: {{ $git.credentialsSecret }}
          key: GITSYNC_USERNAME
    - name: GITSYNC_PASSWORD
      valueFrom:
        secretKeyRef:
          name: {{ $git.credentialsSecret }}
          key: GITSYNC_PASSWORD
{{- end }}
{{- if not .init }}
  ports:
    - name: git-sync
      containerPort: 8000
  livenessProbe:
    httpGet:
      path: /
      port: git-sync
    initialDelaySeconds: 10
    periodSeconds: 30
    timeoutSeconds: 5
    failureThreshold: 10
{{- end }}
  resources:
    {{- toYaml $git.resources | nindent 4 }}
  securityContext:
    {{- toYaml (merge (dict "runAsNonRoot" true "runAsUser" $git.uid) (deepCopy .root.Values.securityContexts.container)) | nindent 4 }}
  volumeMounts:
    - name: tradewind-dags
      mountPath: {{ .root.Values.dags.mountPath }}
    - name: git-sync-tmp
      mountPath: /tmp
{{- if $git.sshKeySecret }}
    - name: git-ssh-key
      mountPath: /etc/git-secret/ssh
      subPath: ssh
      readOnly: true
{{- end }}
{{- if $git.knownHosts }}
    - name: git-known-hosts
      mountPath: /etc/git-secret/known_hosts
      subPath: known_hosts
      readOnly: true
{{- end }}
{{- end }}

{{/* Init container holding a pod back until `tradewind db check` reports the schema current. */}}
{{- define "tradewind.waitForMigrations" -}}
- name: wait-for-migrations
  image: {{ include "tradewind.image" . }}
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  args: ["wait-for-migrations"]
  env:
    - name: TRADEWIND_MIGRATION_WAIT_TIMEOUT
      value: {{ .Values.migrations.waitTimeoutSeconds | int | quote }}
    {{- with include "tradewind.env" . }}{{ . | nindent 4 }}{{ end }}
  envFrom:
    {{- include "tradewind.envFrom" . | nindent 4 }}
  resources:
    {{- toYaml .Values.migrations.resources | nindent 4 }}
  securityContext:
    {{- include "tradewind.containerSecurityContext" . | nindent 4 }}
  volumeMounts:
    {{- include "tradewind.volumeMounts" (dict "root" . "dags" false) | nindent 4 }}
{{- end }}

{{/* Pod annotations that roll Deployments when their configuration changes. */}}
{{- define "tradewind.configChecksums" -}}
checksum/config: {{ include (print .Template.BasePath "/configmap.yaml") . | sha256sum }}
{{- end }}
