{{/* Chart name, at most 63 characters. */}}
{{- define "switchboard.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Release-qualified name; component objects append "-<component>", so it stays within 52 characters. */}}
{{- define "switchboard.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "switchboard.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Name of a component's objects. Call with (dict "root" $ "component" "hub"). */}}
{{- define "switchboard.componentName" -}}
{{- printf "%s-%s" (include "switchboard.fullname" .root) .component }}
{{- end }}

{{/* Labels that select a component's pods; never change them (Deployment selectors are immutable). */}}
{{- define "switchboard.selectorLabels" -}}
app.kubernetes.io/name: {{ include "switchboard.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* The standard labels of a component's objects. */}}
{{- define "switchboard.labels" -}}
helm.sh/chart: {{ include "switchboard.chart" .root }}
{{ include "switchboard.selectorLabels" . }}
app.kubernetes.io/part-of: switchboard
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
{{- end }}

{{/* A component's image, the tag defaulting to the chart's appVersion. Call with (dict "root" $ "image" .image). */}}
{{- define "switchboard.image" -}}
{{- printf "%s:%s" .image.repository (default .root.Chart.AppVersion .image.tag) }}
{{- end }}

{{/* The hub's Service address, as every other component's hub.endpoints. */}}
{{- define "switchboard.hubEndpoints" -}}
{{- printf "%s:%d" (include "switchboard.componentName" (dict "root" . "component" "hub")) 8004 }}
{{- end }}

{{/* etcd's client URLs: the chart's members by their stable names (https with identities), or the external ones. */}}
{{- define "switchboard.etcdEndpoints" -}}
{{- if .Values.etcd.enabled }}
{{- $name := include "switchboard.componentName" (dict "root" . "component" "etcd") }}
{{- $urls := list }}
{{- range $i := until (int .Values.etcd.replicaCount) }}
{{- $urls = append $urls (printf "%s://%s-%d.%s-headless.%s.svc.%s:2379" (ternary "https" "http" (ne $.Values.tls.mode "plaintext")) $name $i $name $.Release.Namespace $.Values.clusterDomain) }}
{{- end }}
{{- join "," $urls }}
{{- else }}
{{- join "," .Values.etcd.external.endpoints }}
{{- end }}
{{- end }}

{{/*
Configuration keys as environment variables, the way Helidon reads them: upper case, "." and "-" become "_".
Numbers that are whole print without an exponent (Helm reads every YAML number as a float).
*/}}
{{- define "switchboard.configEnv" -}}
{{- range $key, $value := . }}
- name: {{ $key | replace "." "_" | replace "-" "_" | upper }}
  {{- if and (kindIs "float64" $value) (eq $value (floor $value)) }}
  value: {{ int64 $value | quote }}
  {{- else }}
  value: {{ $value | toString | quote }}
  {{- end }}
{{- end }}
{{- end }}

{{/* Pod-level security: non-root with fixed ids, seccomp RuntimeDefault. */}}
{{- define "switchboard.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.securityContext.runAsUser }}
runAsGroup: {{ .Values.securityContext.runAsGroup }}
fsGroup: {{ .Values.securityContext.fsGroup }}
fsGroupChangePolicy: OnRootMismatch
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* Container-level security: read-only root filesystem, no capabilities, no privilege escalation. */}}
{{- define "switchboard.containerSecurityContext" -}}
runAsNonRoot: true
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
privileged: false
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* Prometheus scrape annotations for a pod serving /observe/metrics on its management port. */}}
{{- define "switchboard.scrapeAnnotations" -}}
{{- if .root.Values.metrics.podAnnotations }}
prometheus.io/scrape: "true"
prometheus.io/port: {{ include "switchboard.managementPort" . | quote }}
prometheus.io/path: /observe/metrics
prometheus.io/scheme: {{ include "switchboard.scheme" . | lower }}
{{- end }}
{{- end }}

{{/*
A component's management port (server.management-port), where it serves /observe (and the hub its dashboard): the
given "managementPort", else its port + 1000 (9004 to 9008 for the platform's own).
*/}}
{{- define "switchboard.managementPort" -}}
{{- .managementPort | default (add .port 1000) }}
{{- end }}

{{/*
How a component's management port answers HTTP: HTTPS with its identity (tls.mode certManager or secrets; a client
certificate is asked for, not required), HTTP in tls.mode plaintext.
*/}}
{{- define "switchboard.scheme" -}}
{{- if ne .root.Values.tls.mode "plaintext" }}HTTPS{{ else }}HTTP{{ end }}
{{- end }}

{{/* The volume of a component's identity Secret (cert-manager's, or the operator's in tls.mode secrets), readable by
the pod's group only. */}}
{{- define "switchboard.identityVolume" -}}
{{- if ne .root.Values.tls.mode "plaintext" }}
- name: identity
  secret:
    secretName: {{ include "switchboard.componentName" . }}-tls
    defaultMode: 0440
{{- end }}
{{- end }}

{{/*
The container of a Switchboard component: image, port, the JVM options, its configuration as environment
variables, probes on the observe endpoints of its management port, a preStop pause, security. Call with
(dict "root" $ "component" "hub" "values" .Values.hub "port" 8004 "env" (list of EnvVar) "mounts" (list)), and
"managementPort" when it is not port + 1000.
*/}}
{{- define "switchboard.container" -}}
- name: {{ .component }}
  image: {{ include "switchboard.image" (dict "root" .root "image" .values.image) | quote }}
  imagePullPolicy: {{ .values.image.pullPolicy }}
  ports:
    - name: http
      containerPort: {{ .port }}
      protocol: TCP
    # health and metrics (and the hub's dashboard): not on the API's port
    - name: management
      containerPort: {{ include "switchboard.managementPort" . }}
      protocol: TCP
  env:
    - name: JDK_JAVA_OPTIONS
      value: {{ .values.jvmOptions | quote }}
    - name: SERVER_MANAGEMENT_PORT
      value: {{ include "switchboard.managementPort" . | quote }}
    {{- if ne .root.Values.tls.mode "plaintext" }}
    # the component's identity, from its Secret <component>-tls (re-read when it is renewed)
    - name: TLS_CERTIFICATE
      value: /etc/switchboard/tls/tls.crt
    - name: TLS_PRIVATE_KEY
      value: /etc/switchboard/tls/tls.key
    - name: TLS_TRUST_BUNDLE
      value: /etc/switchboard/tls/ca.crt
    {{- else }}
    # tls.mode plaintext: no identity (the component logs a warning)
    - name: TLS_PLAINTEXT
      value: "true"
    {{- end }}
    {{- with .root.Values.tracing.otlpEndpoint }}
    # tracing: spans over OTLP/HTTP, named by component
    - name: OTEL_EXPORTER_OTLP_ENDPOINT
      value: {{ . | quote }}
    - name: OTEL_SERVICE_NAME
      value: {{ $.component | quote }}
    - name: OTEL_RESOURCE_ATTRIBUTES
      value: {{ printf "service.namespace=%s" $.root.Release.Namespace | quote }}
    - name: OTEL_TRACES_SAMPLER
      value: parentbased_traceidratio
    - name: OTEL_TRACES_SAMPLER_ARG
      value: {{ $.root.Values.tracing.samplingRatio | toString | quote }}
    {{- end }}
    {{- with .env }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
    {{- include "switchboard.configEnv" .values.config | nindent 4 }}
    {{- with .values.env }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  startupProbe:
    httpGet:
      path: /observe/health/live
      port: management
      scheme: {{ include "switchboard.scheme" . }}
    periodSeconds: 2
    failureThreshold: 60
  livenessProbe:
    httpGet:
      path: /observe/health/live
      port: management
      scheme: {{ include "switchboard.scheme" . }}
    periodSeconds: 10
    timeoutSeconds: 3
    failureThreshold: 3
  readinessProbe:
    httpGet:
      path: /observe/health/ready
      port: management
      scheme: {{ include "switchboard.scheme" . }}
    periodSeconds: 5
    timeoutSeconds: 3
    failureThreshold: 2
  lifecycle:
    preStop:
      sleep:
        seconds: {{ .values.preStopSleepSeconds }}
  resources:
    {{- toYaml .values.resources | nindent 4 }}
  securityContext:
    {{- include "switchboard.containerSecurityContext" .root | nindent 4 }}
  volumeMounts:
    - name: tmp
      mountPath: /tmp
    {{- if ne .root.Values.tls.mode "plaintext" }}
    - name: identity
      mountPath: /etc/switchboard/tls
      readOnly: true
    {{- end }}
    {{- with .mounts }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end }}

{{/* What every component's pod spec shares: scheduling, security, grace period. Same arguments. */}}
{{- define "switchboard.podCommon" -}}
{{- with .root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
automountServiceAccountToken: false
enableServiceLinks: false
terminationGracePeriodSeconds: {{ .values.terminationGracePeriodSeconds }}
securityContext:
  {{- include "switchboard.podSecurityContext" .root | nindent 2 }}
{{- with .values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* A PodDisruptionBudget for a component with more than one replica. Same arguments. */}}
{{- define "switchboard.pdb" -}}
{{- if and .values.podDisruptionBudget.enabled (gt (int .values.replicaCount) 1) }}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "switchboard.componentName" . }}
  labels:
    {{- include "switchboard.labels" . | nindent 4 }}
spec:
  maxUnavailable: {{ .values.podDisruptionBudget.maxUnavailable }}
  selector:
    matchLabels:
      {{- include "switchboard.selectorLabels" . | nindent 6 }}
{{- end }}
{{- end }}

{{/* A component's ClusterIP Service on its port and its management port (what a ServiceMonitor scrapes). Same
arguments. */}}
{{- define "switchboard.service" -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "switchboard.componentName" . }}
  labels:
    {{- include "switchboard.labels" . | nindent 4 }}
spec:
  type: ClusterIP
  selector:
    {{- include "switchboard.selectorLabels" . | nindent 4 }}
  ports:
    - name: http
      port: {{ .port }}
      targetPort: http
      protocol: TCP
    - name: management
      port: {{ include "switchboard.managementPort" . }}
      targetPort: management
      protocol: TCP
{{- end }}
