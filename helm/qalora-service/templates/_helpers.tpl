{{/* The chart name, or nameOverride. */}}
{{- define "qalora-service.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The objects' name: fullnameOverride, else "<release>-<chart>" (just the release when it contains the chart name). */}}
{{- define "qalora-service.fullname" -}}
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

{{- define "qalora-service.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every object. */}}
{{- define "qalora-service.labels" -}}
helm.sh/chart: {{ include "qalora-service.chart" . }}
{{ include "qalora-service.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: qalora
{{- end }}

{{/* Labels that select the pods; never change them (a Deployment's selector is immutable). */}}
{{- define "qalora-service.selectorLabels" -}}
app.kubernetes.io/name: {{ include "qalora-service.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "qalora-service.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "qalora-service.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "qalora-service.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* "true" when the embedded H2 database is used. */}}
{{- define "qalora-service.h2" -}}
{{- if eq .Values.database.type "h2" }}true{{ end }}
{{- end }}

{{/* The Secret with the datasource URL, user and password. */}}
{{- define "qalora-service.databaseSecretName" -}}
{{- default (printf "%s-db" (include "qalora-service.fullname" .)) .Values.database.existingSecret }}
{{- end }}

{{/* The most pods this release can run at once. */}}
{{- define "qalora-service.maxReplicas" -}}
{{- if .Values.autoscaling.enabled }}{{ int .Values.autoscaling.maxReplicas }}{{ else }}{{ int .Values.replicaCount }}{{ end }}
{{- end }}

{{/*
JAVA_TOOL_OPTIONS; with the default values it equals the Dockerfile's ENV (HelmChartTests checks it).
/tmp is the emptyDir: JavaCPP unpacks its native libraries there, the root file system being read-only.
*/}}
{{- define "qalora-service.javaToolOptions" -}}
{{- $options := list
      (printf "-XX:MaxRAMPercentage=%v" .Values.jvm.maxRamPercentage)
      (printf "-Dorg.bytedeco.javacpp.maxbytes=%v" .Values.jvm.javacppMaxBytes)
      (printf "-Dorg.bytedeco.javacpp.maxphysicalbytes=%v" .Values.jvm.javacppMaxPhysicalBytes)
      "-Dorg.bytedeco.javacpp.cachedir=/tmp/javacpp"
      "-Djava.io.tmpdir=/tmp" }}
{{- if .Values.jvm.extraOptions }}
{{- $options = append $options .Values.jvm.extraOptions }}
{{- end }}
{{- join " " $options }}
{{- end }}

{{/*
Refuses values that would deploy something broken. Included by the Deployment, so that
`helm template` and `helm install` both stop with the message.
*/}}
{{- define "qalora-service.validate" -}}
{{- if not (has .Values.database.type (list "h2" "postgresql")) }}
{{- fail (printf "database.type must be \"h2\" or \"postgresql\", not %q." .Values.database.type) }}
{{- end }}
{{- if include "qalora-service.h2" . }}
{{- if gt (int (include "qalora-service.maxReplicas" .)) 1 }}
{{- fail (printf "The embedded H2 database (database.type=h2) allows exactly one replica, but this release could run %s (replicaCount=%v, autoscaling.enabled=%v, autoscaling.maxReplicas=%v). Several replicas share their job queue through PostgreSQL: set database.type=postgresql with database.url or database.existingSecret." (include "qalora-service.maxReplicas" .) .Values.replicaCount .Values.autoscaling.enabled .Values.autoscaling.maxReplicas) }}
{{- end }}
{{- if not .Values.persistence.enabled }}
{{- fail "The embedded H2 database (database.type=h2) needs persistence.enabled=true: without a PersistentVolumeClaim every layer, dataset and job is lost when the pod goes." }}
{{- end }}
{{- else if and (not .Values.database.existingSecret) (not .Values.database.url) }}
{{- fail "database.type=postgresql needs database.url (e.g. jdbc:postgresql://postgres:5432/qalora) or database.existingSecret." }}
{{- end }}
{{- $shutdown := add (int .Values.lifecycle.preStopSleepSeconds) 100 }}
{{- if le (int .Values.terminationGracePeriodSeconds) $shutdown }}
{{- fail (printf "terminationGracePeriodSeconds=%v is too short: the preStop sleep (%vs), the workers' hand-back (up to 40s) and the HTTP drain (up to 60s) need more than %vs." .Values.terminationGracePeriodSeconds .Values.lifecycle.preStopSleepSeconds $shutdown) }}
{{- end }}
{{- end }}
