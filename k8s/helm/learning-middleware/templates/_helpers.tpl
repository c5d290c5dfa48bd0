{{/* Names, labels, images, secrets and the service call graph shared by every template. */}}

{{- define "lmw.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 45 | trimSuffix "-" -}}
{{- end -}}

{{/* The resource name prefix; 45 characters at most so "<fullname>-postgresql-initdb" stays <= 63. */}}
{{- define "lmw.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 45 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 45 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 45 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "lmw.selectorLabels" -}}
app.kubernetes.io/name: {{ include "lmw.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "lmw.labels" -}}
{{ include "lmw.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: learning-middleware
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* Selector labels of one component. Call with (dict "root" $ "component" "learner"). */}}
{{- define "lmw.componentSelectorLabels" -}}
{{ include "lmw.selectorLabels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "lmw.componentLabels" -}}
{{ include "lmw.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* An image reference. Call with (dict "root" $ "image" .Values.learner.image). */}}
{{- define "lmw.image" -}}
{{- $registry := .root.Values.global.imageRegistry -}}
{{- $repo := .image.repository -}}
{{- if $registry -}}{{- $repo = printf "%s/%s" (trimSuffix "/" $registry) $repo -}}{{- end -}}
{{- if .image.digest -}}
{{- printf "%s@%s" $repo .image.digest -}}
{{- else -}}
{{- printf "%s:%s" $repo (default .root.Chart.AppVersion .image.tag | toString) -}}
{{- end -}}
{{- end -}}

{{/* Include only when global.imagePullSecrets is not empty. */}}
{{- define "lmw.imagePullSecrets" -}}
imagePullSecrets:
{{- range .Values.global.imagePullSecrets }}
  - name: {{ . | quote }}
{{- end }}
{{- end -}}

{{/* Pod and container security contexts: non-root 10001, read-only root, no privilege, no capability. */}}
{{- define "lmw.podSecurityContext" -}}
securityContext:
  runAsNonRoot: true
  runAsUser: 10001
  runAsGroup: 10001
  fsGroup: 10001
  fsGroupChangePolicy: OnRootMismatch
  seccompProfile:
    type: RuntimeDefault
{{- end -}}

{{- define "lmw.containerSecurityContext" -}}
securityContext:
  runAsNonRoot: true
  runAsUser: 10001
  runAsGroup: 10001
  readOnlyRootFilesystem: true
  allowPrivilegeEscalation: false
  privileged: false
  capabilities:
    drop:
      - ALL
  seccompProfile:
    type: RuntimeDefault
{{- end -}}

{{/*
The checkov findings this chart accepts, each with its reason (checkov reads checkov.io/skipN annotations
on the workload). Everything else checkov's Kubernetes checks flag is fixed, not skipped.
*/}}
{{- define "lmw.checkovSkips" -}}
checkov.io/skip1: CKV_K8S_43=Images are pinned by version tag; set <component>.image.digest to pin a digest
{{- if not .dbOnly }}
checkov.io/skip2: CKV_K8S_35=The services read settings only from env (pydantic-settings); values come via secretKeyRef
{{- end }}
{{- end -}}

{{/* ---------------------------------------------------------------- secrets */}}

{{- define "lmw.jwtSecretName" -}}
{{- default (printf "%s-jwt" (include "lmw.fullname" .)) .Values.jwt.existingSecret -}}
{{- end -}}

{{- define "lmw.jwtSecretKey" -}}
{{- if .Values.jwt.existingSecret -}}{{ .Values.jwt.existingSecretKey }}{{- else -}}jwt-secret{{- end -}}
{{- end -}}

{{/*
Where the PostgreSQL URLs come from: incluster | secret (external.existingSecret) | values (external.url.*)
| convention (a Secret named <fullname>-db that the user creates). Fails on half-given or conflicting values.
*/}}
{{- define "lmw.pgSource" -}}
{{- $pg := .Values.postgresql -}}
{{- $urls := list $pg.external.url.learner $pg.external.url.instructor $pg.external.url.orchestrator -}}
{{- $given := 0 -}}
{{- range $urls }}{{ if . }}{{ $given = add1 $given }}{{ end }}{{ end -}}
{{- if and $pg.enabled (or $pg.external.existingSecret (gt $given 0)) -}}
{{- fail "postgresql: set either postgresql.enabled or postgresql.external.*, not both" -}}
{{- else if $pg.enabled -}}incluster
{{- else if and $pg.external.existingSecret (gt $given 0) -}}
{{- fail "postgresql.external: set either existingSecret or url.*, not both" -}}
{{- else if $pg.external.existingSecret -}}secret
{{- else if eq $given 3 -}}values
{{- else if gt $given 0 -}}
{{- fail "postgresql.external.url: set all of learner, instructor and orchestrator" -}}
{{- else -}}convention
{{- end -}}
{{- end -}}

{{- define "lmw.mongoSource" -}}
{{- $m := .Values.mongodb -}}
{{- if and $m.enabled (or $m.external.existingSecret $m.external.url) -}}
{{- fail "mongodb: set either mongodb.enabled or mongodb.external.*, not both" -}}
{{- else if $m.enabled -}}incluster
{{- else if and $m.external.existingSecret $m.external.url -}}
{{- fail "mongodb.external: set either existingSecret or url, not both" -}}
{{- else if $m.external.existingSecret -}}secret
{{- else if $m.external.url -}}values
{{- else -}}convention
{{- end -}}
{{- end -}}

{{/* true when this chart writes the Secret <fullname>-db (in-cluster databases or URLs given as values). */}}
{{- define "lmw.chartDbSecret" -}}
{{- $pg := include "lmw.pgSource" . -}}
{{- $mongo := include "lmw.mongoSource" . -}}
{{- $chart := list "incluster" "values" -}}
{{- if or (has $pg $chart) (has $mongo $chart) -}}
{{- if or (eq $pg "convention") (eq $mongo "convention") -}}
{{- fail "the chart writes the Secret <fullname>-db for one database, so the other needs enabled, external.url or external.existingSecret too" -}}
{{- end -}}
true
{{- end -}}
{{- end -}}

{{/* mongodb.external.url with the service's database as its path. Call with (dict "root" $ "svc" "sme"). */}}
{{- define "lmw.mongoServiceUrl" -}}
{{- $db := index .root.Values.mongodb.external.databases .svc -}}
{{- regexReplaceAll "^(mongodb(?:\\+srv)?://[^/?]+)(?:/[^?]*)?(\\?.*)?$" .root.Values.mongodb.external.url (printf "${1}/%s${2}" $db) -}}
{{- end -}}

{{- define "lmw.pgSecretName" -}}
{{- if eq (include "lmw.pgSource" .) "secret" -}}{{ .Values.postgresql.external.existingSecret }}
{{- else -}}{{ include "lmw.fullname" . }}-db{{- end -}}
{{- end -}}

{{- define "lmw.mongoSecretName" -}}
{{- if eq (include "lmw.mongoSource" .) "secret" -}}{{ .Values.mongodb.external.existingSecret }}
{{- else -}}{{ include "lmw.fullname" . }}-db{{- end -}}
{{- end -}}

{{/* The Secret the migration Job reads: a hook copy when the URLs came as values (it must exist
before the release's own resources at pre-install). Call with (dict "root" $ "db" "pg"|"mongo"). */}}
{{- define "lmw.migrationSecretName" -}}
{{- $source := ternary (include "lmw.pgSource" .root) (include "lmw.mongoSource" .root) (eq .db "pg") -}}
{{- if eq $source "values" -}}{{ include "lmw.fullname" .root }}-db-migrations
{{- else if eq .db "pg" -}}{{ include "lmw.pgSecretName" .root }}
{{- else -}}{{ include "lmw.mongoSecretName" .root }}{{- end -}}
{{- end -}}

{{- define "lmw.anyInClusterDb" -}}
{{- if or .Values.postgresql.enabled .Values.mongodb.enabled -}}true{{- end -}}
{{- end -}}

{{/* When the migration hooks run: after the install when a database is part of the release. */}}
{{- define "lmw.migrationsHook" -}}
{{- if include "lmw.anyInClusterDb" . -}}post-install,pre-upgrade{{- else -}}pre-install,pre-upgrade{{- end -}}
{{- end -}}

{{- define "lmw.smeOpenaiSecretName" -}}
{{- default (printf "%s-sme-openai" (include "lmw.fullname" .)) .Values.sme.generator.openai.existingSecret -}}
{{- end -}}

{{- define "lmw.smeOpenaiSecretKey" -}}
{{- if .Values.sme.generator.openai.existingSecret -}}{{ .Values.sme.generator.openai.existingSecretKey }}
{{- else -}}api-key{{- end -}}
{{- end -}}

{{- define "lmw.smeHasOpenaiKey" -}}
{{- if or .Values.sme.generator.openai.existingSecret .Values.sme.generator.openai.apiKey -}}true{{- end -}}
{{- end -}}

{{/* ---------------------------------------------------------------- the call graph */}}

{{/*
Who calls whom (ARCHITECTURE.md "Service map"), the databases each component uses, and their ports.
networkpolicies.yaml and the *_TARGET variables are derived from this one place.
*/}}
{{- define "lmw.graph" -}}
calls:
  bff: [learner, instructor, orchestrator]
  orchestrator: [learner, instructor, sme]
  instructor: [sme, learner]
  sme: [instructor]
  learner: [instructor]
  migrations: []
databases:
  bff: []
  learner: [postgresql]
  instructor: [postgresql, mongodb]
  orchestrator: [postgresql, mongodb]
  sme: [mongodb]
  migrations: [postgresql, mongodb]
{{- end -}}

{{/* host:port of a gRPC service (dns:/// form for headless Services). Call with (dict "root" $ "component" "sme"). */}}
{{- define "lmw.target" -}}
{{- $v := index .root.Values .component -}}
{{- $host := printf "%s-%s" (include "lmw.fullname" .root) .component -}}
{{- if $v.service.headless -}}
{{- printf "dns:///%s.%s.svc:%v" $host .root.Release.Namespace $v.port -}}
{{- else -}}
{{- printf "%s:%v" $host $v.port -}}
{{- end -}}
{{- end -}}

{{/* Env shared by every service container: LMW_ENV, LMW_LOG_LEVEL, the metrics port, the OTLP exporter
(only when tracing has an endpoint) and LMW_JWT_SECRET. */}}
{{- define "lmw.commonEnv" -}}
- name: LMW_ENV
  value: production
- name: LMW_LOG_LEVEL
  value: {{ .Values.global.logLevel | quote }}
- name: LMW_METRICS_ENABLED
  value: {{ .Values.metrics.enabled | quote }}
- name: LMW_METRICS_PORT
  value: {{ .Values.metrics.port | quote }}
{{- with .Values.tracing }}
{{- if .otlpEndpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ .otlpEndpoint | quote }}
- name: OTEL_EXPORTER_OTLP_PROTOCOL
  value: {{ .otlpProtocol | quote }}
- name: OTEL_TRACES_SAMPLER
  value: parentbased_traceidratio
- name: OTEL_TRACES_SAMPLER_ARG
  value: {{ .samplerRatio | quote }}
{{- end }}
{{- end }}
- name: LMW_JWT_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ include "lmw.jwtSecretName" . }}
      key: {{ include "lmw.jwtSecretKey" . }}
{{- end -}}

{{/* An env var read from a Secret. Call with (dict "name" "X" "secret" "s" "key" "k"). */}}
{{- define "lmw.secretEnv" -}}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ .secret }}
      key: {{ .key }}
{{- end -}}

{{/* A volume from a {type, existingClaim, sizeLimit} block. Call with (dict "name" "n" "claim" "c" "spec" $block). */}}
{{- define "lmw.volume" -}}
- name: {{ .name }}
{{- if eq .spec.type "persistentVolumeClaim" }}
  persistentVolumeClaim:
    claimName: {{ default .claim .spec.existingClaim }}
{{- if .readOnly }}
    readOnly: true
{{- end }}
{{- else }}
  emptyDir:
    sizeLimit: {{ .spec.sizeLimit | default "1Gi" }}
{{- end }}
{{- end -}}

{{/* A PersistentVolumeClaim made by the chart. Call with (dict "root" $ "component" "c" "name" "n" "spec" $block). */}}
{{- define "lmw.pvc" -}}
{{- if and (eq .spec.type "persistentVolumeClaim") (not .spec.existingClaim) }}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: {{ .name }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "lmw.componentLabels" (dict "root" .root "component" .component) | nindent 4 }}
  annotations:
    # Keep uploaded data when the release is uninstalled.
    helm.sh/resource-policy: keep
spec:
  accessModes:
    {{- toYaml .spec.accessModes | nindent 4 }}
  {{- with .spec.storageClass }}
  storageClassName: {{ . | quote }}
  {{- end }}
  resources:
    requests:
      storage: {{ .spec.size }}
{{- end }}
{{- end -}}
