{{- /*
The sidecar's environment. Names are exactly docs/contract.md's configuration list. The listener
addresses, ports and data directory are the chart's to decide (they must agree with the ports,
probes and volumes it renders), so they are not among postOffice.config's keys.
Argument: dict v (merged values), mode.
*/ -}}
{{- define "post-office-lib.env" -}}
{{- $v := .v -}}
- name: POST_OFFICE_HOST
  {{- /* Loopback in a pod: only the app's containers can reach the API, no token needed. */}}
  value: {{ ternary "0.0.0.0" "127.0.0.1" (eq .mode "standalone") | quote }}
- name: POST_OFFICE_PORT
  value: {{ include "post-office-lib.scalar" $v.ports.api | quote }}
- name: POST_OFFICE_ADMIN_HOST
  value: "0.0.0.0"
- name: POST_OFFICE_ADMIN_PORT
  value: {{ include "post-office-lib.scalar" $v.ports.admin | quote }}
{{- /* The webhook listener starts only when a backend has `webhook` settings. Off in the
chart, it is kept on loopback, so no setting in the Secret can open a port the chart did not
declare; on, it listens on the pod IP for the Service or Ingress in front. */}}
- name: POST_OFFICE_WEBHOOK_HOST
  value: {{ ternary "0.0.0.0" "127.0.0.1" (not (not $v.webhooks.enabled)) | quote }}
- name: POST_OFFICE_WEBHOOK_PORT
  value: {{ include "post-office-lib.scalar" $v.ports.webhooks | quote }}
- name: POST_OFFICE_DATA_DIR
  value: /data
{{- with $v.secret.name }}
{{- if $v.secret.databaseUrlKey }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ $v.secret.databaseUrlKey }}
{{- end }}
{{- if $v.secret.backendsKey }}
- name: POST_OFFICE_BACKENDS
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ $v.secret.backendsKey }}
{{- end }}
{{- if $v.secret.apiTokenKey }}
- name: POST_OFFICE_API_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ $v.secret.apiTokenKey }}
{{- end }}
{{- end }}
{{- range $name, $value := $v.config }}
{{- if not (kindIs "invalid" $value) }}
- name: {{ $name }}
  value: {{ include "post-office-lib.scalar" $value | quote }}
{{- end }}
{{- end }}
{{- with $v.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- /* Values arrive as float64; 33554432 must stay 33554432, not 3.3554432e+07. */ -}}
{{- define "post-office-lib.scalar" -}}
{{- if and (kindIs "float64" .) (eq (. | int64 | float64) .) -}}
{{ . | int64 }}
{{- else -}}
{{ . }}
{{- end -}}
{{- end -}}
