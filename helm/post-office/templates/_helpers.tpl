{{- define "post-office.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "post-office.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "post-office.selectorLabels" -}}
app.kubernetes.io/name: {{ include "post-office.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: standalone
{{- end -}}

{{- define "post-office.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "post-office.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: post-office
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "post-office.serviceAccountName" -}}
{{- if .Values.standalone.serviceAccount.create -}}
{{- default (include "post-office.fullname" .) .Values.standalone.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.standalone.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- /* Relabeling shared by both monitors: one job name, so alerts and the dashboard can select
post-office targets the same way whether they are sidecars or the standalone Deployment. */ -}}
{{- define "post-office.jobRelabeling" -}}
- action: replace
  targetLabel: job
  replacement: post-office
{{- end -}}
