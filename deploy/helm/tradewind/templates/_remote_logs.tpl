{{/*
Remote log storage (logs.remote): the settings go into tradewind.toml (_config.tpl), which every Tradewind
container and the worker pod template mount; this is the connection's env from a Secret, for the services
that look connections up themselves (scheduler, webserver, triggerer).
*/}}
{{- define "tradewind.remoteLogsEnv" -}}
{{- $remote := .Values.logs.remote }}
{{- if and $remote.baseLogFolder $remote.connId $remote.connectionSecret.name }}
- name: TRADEWIND_CONN_{{ $remote.connId | upper }}
  valueFrom:
    secretKeyRef:
      name: {{ $remote.connectionSecret.name }}
      key: {{ $remote.connectionSecret.key }}
{{- end }}
{{- end }}

{{/* "true" when the webserver reads running worker pods' output (logs.readRunningPods, kubernetes executor). */}}
{{- define "tradewind.webserverReadsPods" -}}
{{- if and .Values.logs.readRunningPods (eq .Values.executor "kubernetes") }}true{{ end }}
{{- end }}
