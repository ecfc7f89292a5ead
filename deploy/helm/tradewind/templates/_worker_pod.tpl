{{/* The worker pod of the Kubernetes executor, as a complete Pod manifest. */}}
{{- define "tradewind.workerPodTemplate" -}}
{{- $worker := .Values.kubernetesExecutor -}}
apiVersion: v1
kind: Pod
metadata:
  name: placeholder-name
  labels:
    {{- include "tradewind.selectorLabels" (dict "root" . "component" "worker") | nindent 4 }}
    app.kubernetes.io/part-of: tradewind
    {{- with $worker.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- with $worker.podAnnotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  restartPolicy: Never
  serviceAccountName: {{ include "tradewind.workerServiceAccountName" . }}
  automountServiceAccountToken: false
  securityContext:
    {{- include "tradewind.podSecurityContext" . | nindent 4 }}
  {{- with .Values.image.pullSecrets }}
  imagePullSecrets:
    {{- range . }}
    - name: {{ . }}
    {{- end }}
  {{- end }}
  {{- if eq .Values.dags.mode "git" }}
  initContainers:
    {{- include "tradewind.gitSyncContainer" (dict "root" . "init" true) | nindent 4 }}
  {{- end }}
  containers:
    - name: base
      image: {{ include "tradewind.image" . }}
      imagePullPolicy: {{ .Values.image.pullPolicy }}
      {{- /* envFrom comes from the executor (kubernetes.env_from_configmap): no Secret at all. The runner
      reaches shared state through the execution API with the token its workload carries. */}}
      resources:
        {{- toYaml $worker.resources | nindent 8 }}
      securityContext:
        {{- include "tradewind.containerSecurityContext" . | nindent 8 }}
      volumeMounts:
        {{- /* A worker runs once: it mounts the synced commit itself, so the DAG folder is the mount path
        (the executor sets TRADEWIND__CORE__DAGS_FOLDER to kubernetes.dags_mount_path). */}}
        {{- $subPath := ternary (include "tradewind.gitDagsSubPath" .) "" (eq .Values.dags.mode "git") }}
        {{- include "tradewind.volumeMounts" (dict "root" . "dags" true "dagsSubPath" $subPath) | nindent 8 }}
  volumes:
    {{- include "tradewind.volumes" (dict "root" . "dags" true) | nindent 4 }}
  {{- with $worker.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $worker.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $worker.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
