{{- /*
The templates an application chart includes to add the sidecar to its pod. Each takes
  (dict "root" $ "values" .Values.postOffice)
and renders nothing when postOffice.enabled is false, so an app chart can make the sidecar
optional without any `if` of its own. List templates render list items: place them under the
matching key (see helm/README.md for the worked example).
*/ -}}

{{- /* Native sidecar (Kubernetes 1.29+): list items for the pod's initContainers. */ -}}
{{- define "post-office-lib.initContainers" -}}
{{- $v := include "post-office-lib.values" . | fromYaml -}}
{{- if and $v.enabled $v.native -}}
{{- include "post-office-lib.container" (dict "root" .root "values" .values "mode" "native") -}}
{{- end -}}
{{- end -}}

{{- /* Classic sidecar: list items for the pod's containers. */ -}}
{{- define "post-office-lib.containers" -}}
{{- $v := include "post-office-lib.values" . | fromYaml -}}
{{- if and $v.enabled (not $v.native) -}}
{{- include "post-office-lib.container" (dict "root" .root "values" .values "mode" "classic") -}}
{{- end -}}
{{- end -}}

{{- /* The sidecar's scratch space: list items for the pod's volumes. The root filesystem is
read-only, so the data directory (outbox, embedded PostgreSQL) and /tmp are emptyDirs. */ -}}
{{- define "post-office-lib.volumes" -}}
{{- $v := include "post-office-lib.values" . | fromYaml -}}
{{- if $v.enabled -}}
{{- $data := dict -}}
{{- with $v.dataVolume.medium }}{{ $_ := set $data "medium" . }}{{ end -}}
{{- with $v.dataVolume.sizeLimit }}{{ $_ := set $data "sizeLimit" . }}{{ end -}}
{{- $tmp := dict -}}
{{- with $v.tmpVolume.sizeLimit }}{{ $_ := set $tmp "sizeLimit" . }}{{ end -}}
- name: post-office-data
  emptyDir: {{ toJson $data }}
- name: post-office-tmp
  emptyDir: {{ toJson $tmp }}
{{- end -}}
{{- end -}}

{{- /* Env list items for the app's own container(s): where to reach the queue. */ -}}
{{- define "post-office-lib.appEnv" -}}
{{- $v := include "post-office-lib.values" . | fromYaml -}}
{{- if $v.enabled -}}
- name: POST_OFFICE_URL
  value: {{ printf "http://127.0.0.1:%s" (include "post-office-lib.scalar" $v.ports.api) | quote }}
{{- end -}}
{{- end -}}

{{- /* "true" when the sidecar is on and serves delivery webhooks (postOffice.webhooks.enabled),
else empty: for the app chart's own Service and Ingress in front of the port named po-webhooks. */ -}}
{{- define "post-office-lib.webhooksEnabled" -}}
{{- $v := include "post-office-lib.values" . | fromYaml -}}
{{- if and $v.enabled $v.webhooks.enabled -}}
true
{{- end -}}
{{- end -}}

{{- /* Pod labels (a map's lines). post-office/sidecar is what the post-office chart's
PodMonitor selects, so sidecars in any app are scraped without per-app monitors. */ -}}
{{- define "post-office-lib.podLabels" -}}
{{- $v := include "post-office-lib.values" . | fromYaml -}}
{{- if $v.enabled -}}
post-office/sidecar: "true"
{{- end -}}
{{- end -}}

{{- /* Pod annotations (a map's lines): the prometheus.io/* convention, for a Prometheus that
discovers pods by annotation instead of through the operator's PodMonitor. Off by default. */ -}}
{{- define "post-office-lib.podAnnotations" -}}
{{- $v := include "post-office-lib.values" . | fromYaml -}}
{{- if and $v.enabled $v.metricsAnnotations -}}
prometheus.io/scrape: "true"
prometheus.io/port: {{ include "post-office-lib.scalar" $v.ports.admin | quote }}
prometheus.io/path: /metrics
{{- end -}}
{{- end -}}
