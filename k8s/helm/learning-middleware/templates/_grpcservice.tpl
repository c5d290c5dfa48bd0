{{/*
The shape of one service of the mesh: ServiceAccount, Service, Deployment, PodDisruptionBudget and (when
enabled) a HorizontalPodAutoscaler and a ServiceMonitor (its /metrics port). gRPC services get native gRPC probes (grpc.health.v1); the BFF passes
httpHealthPath and gets httpGet probes instead.

Call with a dict:
  root            $ (the top context)
  component       learner | instructor | orchestrator | sme | bff   (also the values block name)
  module          the Python module run as `python -m <module>`
  env             YAML list (string) of service-specific env vars, appended after LMW_*
  volumes         YAML list (string) of extra volumes                 (optional)
  volumeMounts    YAML list (string) of extra volume mounts           (optional)
  image           image reference (optional; default from <component>.image)
  pullPolicy      (optional; default from <component>.image.pullPolicy)
  resources       resources dict (optional; default <component>.resources)
  nodeSelector, tolerations, runtimeClassName, affinity   (optional overrides)
  strategy        Deployment strategy dict (optional)
  httpHealthPath  "" for gRPC; the HTTP health path otherwise
*/}}
{{- define "lmw.grpcService" -}}
{{- $root := .root -}}
{{- $c := .component -}}
{{- $v := index $root.Values $c -}}
{{- $name := printf "%s-%s" (include "lmw.fullname" $root) $c -}}
{{- $ctx := dict "root" $root "component" $c -}}
{{- $portName := ternary "http" "grpc" (not (empty .httpHealthPath)) -}}
{{- $image := .image | default (include "lmw.image" (dict "root" $root "image" $v.image)) -}}
{{- $pullPolicy := .pullPolicy | default $v.image.pullPolicy -}}
{{- $resources := .resources | default $v.resources -}}
{{- $nodeSelector := .nodeSelector | default $v.nodeSelector -}}
{{- $tolerations := .tolerations | default $v.tolerations -}}
{{- $affinity := .affinity | default $v.affinity -}}
{{- $strategy := .strategy | default (dict "type" "RollingUpdate" "rollingUpdate" (dict "maxSurge" 1 "maxUnavailable" 0)) -}}
{{- $spread := $v.topologySpreadConstraints -}}
{{- if not $spread -}}
{{- /* By default, spread the replicas over nodes when the scheduler can (a preference, not a rule). */ -}}
{{- $selector := include "lmw.componentSelectorLabels" $ctx | fromYaml -}}
{{- $spread = list (dict "maxSkew" 1 "topologyKey" "kubernetes.io/hostname" "whenUnsatisfiable" "ScheduleAnyway" "labelSelector" (dict "matchLabels" $selector)) -}}
{{- end -}}
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ $name }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "lmw.componentLabels" $ctx | nindent 4 }}
  {{- with $v.serviceAccount.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
# The services never call the Kubernetes API.
automountServiceAccountToken: false
---
apiVersion: v1
kind: Service
metadata:
  name: {{ $name }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "lmw.componentLabels" $ctx | nindent 4 }}
  {{- with $v.service.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  {{- if .httpHealthPath }}
  type: {{ $v.service.type }}
  {{- else }}
  type: ClusterIP
  {{- if $v.service.headless }}
  clusterIP: None
  {{- end }}
  {{- end }}
  selector:
    {{- include "lmw.componentSelectorLabels" $ctx | nindent 4 }}
  ports:
    - name: {{ $portName }}
      port: {{ $v.port }}
      targetPort: {{ $portName }}
      protocol: TCP
      appProtocol: {{ ternary "http" "kubernetes.io/h2c" (not (empty .httpHealthPath)) }}
    {{- if $root.Values.metrics.enabled }}
    - name: metrics
      port: {{ $root.Values.metrics.port }}
      targetPort: metrics
      protocol: TCP
      appProtocol: http
    {{- end }}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $name }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "lmw.componentLabels" $ctx | nindent 4 }}
  annotations:
    {{- include "lmw.checkovSkips" (dict) | nindent 4 }}
spec:
  {{- if not $v.autoscaling.enabled }}
  replicas: {{ $v.replicaCount }}
  {{- end }}
  revisionHistoryLimit: 5
  strategy:
    {{- toYaml $strategy | nindent 4 }}
  selector:
    matchLabels:
      {{- include "lmw.componentSelectorLabels" $ctx | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "lmw.componentLabels" $ctx | nindent 8 }}
      {{- $annotations := deepCopy ($v.podAnnotations | default dict) -}}
      {{- if and $root.Values.metrics.enabled $root.Values.metrics.scrapeAnnotations -}}
      {{- $_ := set $annotations "prometheus.io/scrape" "true" -}}
      {{- $_ := set $annotations "prometheus.io/port" ($root.Values.metrics.port | toString) -}}
      {{- $_ := set $annotations "prometheus.io/path" "/metrics" -}}
      {{- end }}
      {{- with $annotations }}
      annotations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    spec:
      serviceAccountName: {{ $name }}
      automountServiceAccountToken: false
      # No *_SERVICE_HOST/*_PORT variables: they could collide with the services' own settings.
      enableServiceLinks: false
      {{- if $root.Values.global.imagePullSecrets }}
      {{- include "lmw.imagePullSecrets" $root | nindent 6 }}
      {{- end }}
      {{- include "lmw.podSecurityContext" $root | nindent 6 }}
      terminationGracePeriodSeconds: {{ $v.terminationGracePeriodSeconds }}
      {{- with .runtimeClassName }}
      runtimeClassName: {{ . }}
      {{- end }}
      {{- with $nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      topologySpreadConstraints:
        {{- toYaml $spread | nindent 8 }}
      containers:
        - name: {{ $c }}
          image: {{ $image | quote }}
          imagePullPolicy: {{ $pullPolicy }}
          command: ["python", "-m", {{ .module | quote }}]
          ports:
            - name: {{ $portName }}
              containerPort: {{ $v.port }}
              protocol: TCP
            {{- if $root.Values.metrics.enabled }}
            - name: metrics
              containerPort: {{ $root.Values.metrics.port }}
              protocol: TCP
            {{- end }}
          env:
            {{- include "lmw.commonEnv" $root | nindent 12 }}
            {{- with .env }}
            {{- . | nindent 12 }}
            {{- end }}
            {{- with $v.extraEnv }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          {{- range $probe := list "startupProbe" "livenessProbe" "readinessProbe" }}
          {{ $probe }}:
            {{- if $.httpHealthPath }}
            httpGet:
              path: {{ $.httpHealthPath }}
              port: {{ $portName }}
            {{- else }}
            grpc:
              port: {{ $v.port }}
            {{- end }}
            {{- if eq $probe "startupProbe" }}
            periodSeconds: 5
            timeoutSeconds: {{ $v.probes.timeoutSeconds }}
            failureThreshold: {{ $v.probes.startupFailureThreshold }}
            {{- else }}
            periodSeconds: {{ $v.probes.periodSeconds }}
            timeoutSeconds: {{ $v.probes.timeoutSeconds }}
            failureThreshold: {{ $v.probes.failureThreshold }}
            {{- end }}
          {{- end }}
          resources:
            {{- toYaml $resources | nindent 12 }}
          {{- include "lmw.containerSecurityContext" $root | nindent 10 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
            {{- with .volumeMounts }}
            {{- . | nindent 12 }}
            {{- end }}
      volumes:
        # The only writable place besides the data volumes (HOME=/tmp): the root filesystem is read-only.
        - name: tmp
          emptyDir:
            sizeLimit: {{ $v.tmpSizeLimit }}
        {{- with .volumes }}
        {{- . | nindent 8 }}
        {{- end }}
{{- if $v.podDisruptionBudget.enabled }}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ $name }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "lmw.componentLabels" $ctx | nindent 4 }}
spec:
  maxUnavailable: {{ $v.podDisruptionBudget.maxUnavailable }}
  selector:
    matchLabels:
      {{- include "lmw.componentSelectorLabels" $ctx | nindent 6 }}
{{- end }}
{{- if $v.autoscaling.enabled }}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ $name }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "lmw.componentLabels" $ctx | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ $name }}
  minReplicas: {{ $v.autoscaling.minReplicas }}
  maxReplicas: {{ $v.autoscaling.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ $v.autoscaling.targetCPUUtilizationPercentage }}
{{- end }}
{{- if and $root.Values.metrics.enabled $root.Values.metrics.serviceMonitor.enabled }}
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: {{ $name }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "lmw.componentLabels" $ctx | nindent 4 }}
    {{- with $root.Values.metrics.serviceMonitor.labels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  selector:
    matchLabels:
      {{- include "lmw.componentSelectorLabels" $ctx | nindent 6 }}
  endpoints:
    - port: metrics
      path: /metrics
      interval: {{ $root.Values.metrics.serviceMonitor.interval }}
{{- end }}
{{- end -}}
