{{/*
A business service (user, post, comment): a Deployment that registers itself through the hub with its pod IP, its data
on a PersistentVolumeClaim (embedded SQLite, then one replica and the Recreate strategy) or in an external
PostgreSQL, a Service (for metrics and port-forward; callers find instances through the hub), a
PodDisruptionBudget. Call with the dict of switchboard.container plus "extraEnv", "extraMounts", "extraVolumes".
*/}}
{{- define "switchboard.businessService" -}}
{{- $v := .values }}
{{- $name := include "switchboard.componentName" . }}
{{- $embedded := not $v.postgresql.url }}
{{- $env := list
      (dict "name" "HUB_ENDPOINTS" "value" (include "switchboard.hubEndpoints" .root))
      (dict "name" "REGISTRY_ADVERTISE_HOST" "valueFrom" (dict "fieldRef" (dict "fieldPath" "status.podIP")))
      (dict "name" "REGISTRY_INSTANCE_ID" "valueFrom" (dict "fieldRef" (dict "fieldPath" "metadata.name")))
      (dict "name" "DATA_DIR" "value" "/data") }}
{{- if not $embedded }}
{{- $env = append $env (dict "name" "DB_URL" "value" $v.postgresql.url) }}
{{- $env = append $env (dict "name" "DB_USER" "valueFrom" (dict "secretKeyRef" (dict "name" $v.postgresql.existingSecret "key" $v.postgresql.userKey))) }}
{{- $env = append $env (dict "name" "DB_PASSWORD" "valueFrom" (dict "secretKeyRef" (dict "name" $v.postgresql.existingSecret "key" $v.postgresql.passwordKey))) }}
{{- end }}
{{- $c := merge (dict "env" (concat $env (default list .extraEnv)) "mounts" (concat (list (dict "name" "data" "mountPath" "/data")) (default list .extraMounts))) . }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $name }}
  labels:
    {{- include "switchboard.labels" . | nindent 4 }}
spec:
  replicas: {{ $v.replicaCount }}
  {{- if $embedded }}
  # one pod owns the ReadWriteOnce volume: the old one stops before the new one starts
  strategy:
    type: Recreate
  {{- end }}
  selector:
    matchLabels:
      {{- include "switchboard.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "switchboard.labels" . | nindent 8 }}
      annotations:
        {{- include "switchboard.scrapeAnnotations" . | nindent 8 }}
        {{- with $v.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      {{- include "switchboard.podCommon" . | nindent 6 }}
      containers:
        {{- include "switchboard.container" $c | nindent 8 }}
      volumes:
        - name: tmp
          emptyDir: {}
        {{- include "switchboard.identityVolume" . | nindent 8 }}
        - name: data
          {{- if $embedded }}
          persistentVolumeClaim:
            claimName: {{ $name }}-data
          {{- else }}
          emptyDir: {}
          {{- end }}
        {{- with .extraVolumes }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
{{- if $embedded }}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: {{ $name }}-data
  labels:
    {{- include "switchboard.labels" . | nindent 4 }}
spec:
  accessModes:
    - ReadWriteOnce
  {{- with $v.persistence.storageClass }}
  storageClassName: {{ . }}
  {{- end }}
  resources:
    requests:
      storage: {{ $v.persistence.size }}
{{- end }}
---
{{ include "switchboard.service" . }}
{{- with include "switchboard.pdb" . }}
---
{{ . }}
{{- end }}
{{- end }}

{{/* The defaults of a service of your own (values `services`): post's. Call with the root context. */}}
{{- define "switchboard.serviceDefaults" -}}
replicaCount: 1
image:
  pullPolicy: IfNotPresent
config: {}
env: []
jvmOptions: -XX:MaxRAMPercentage=40 -XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError
resources:
  requests: {cpu: 200m, memory: 384Mi}
  limits: {memory: 384Mi}
persistence:
  size: 1Gi
  storageClass: ""
postgresql:
  url: ""
  existingSecret: ""
  userKey: username
  passwordKey: password
preStopSleepSeconds: 5
terminationGracePeriodSeconds: 30
podDisruptionBudget:
  enabled: true
  maxUnavailable: 1
podAnnotations: {}
nodeSelector: {}
tolerations: []
affinity: {}
calls: []
{{- end }}
