{{- /*
The library's defaults and their merge with the caller's block.

Every template here takes one argument, a dict:
  root   - the calling chart's top context ($)
  values - the caller's `postOffice` block (may be partial; defaults fill the rest)

Defaults live in a template rather than in values.yaml because a library chart's values are not
merged into its parent's, and every including chart must get the same defaults.
Keys under `config` are exactly the environment names of docs/contract.md's configuration list; null
means "leave it unset" so the sidecar's own default applies.
*/ -}}
{{- define "post-office-lib.defaults" -}}
enabled: true
native: true
containerName: post-office
image:
  repository: registry.example.com/post-office
  tag: "0.1.0"
  digest: ""
  pullPolicy: IfNotPresent
ports:
  api: 8587
  admin: 9587
  webhooks: 8588
webhooks:
  enabled: false
secret:
  name: ""
  databaseUrlKey: DATABASE_URL
  backendsKey: POST_OFFICE_BACKENDS
  apiTokenKey: ""
database:
  embedded: false
config:
  POST_OFFICE_THREADS: null
  POST_OFFICE_THREAD_IDLE_SECONDS: null
  POST_OFFICE_HTTP_CONNECTIONS: null
  POST_OFFICE_DB_POOL_MAX: null
  POST_OFFICE_DISPATCHER: null
  POST_OFFICE_LEASE_SECONDS: null
  POST_OFFICE_RETRY_BASE_SECONDS: null
  POST_OFFICE_MAX_ATTEMPTS: null
  POST_OFFICE_SHUTDOWN_GRACE_SECONDS: null
  POST_OFFICE_BATCH_SIZE: null
  POST_OFFICE_MAX_BODY_BYTES: null
  POST_OFFICE_DEFAULT_FROM: null
extraEnv: []
resources:
  requests:
    cpu: 50m
    memory: 160Mi
  limits:
    memory: 384Mi
securityContext: {}
probes:
  startup:
    periodSeconds: 2
    timeoutSeconds: 2
    failureThreshold: 90
  liveness:
    periodSeconds: 10
    timeoutSeconds: 2
    failureThreshold: 3
  readiness:
    periodSeconds: 5
    timeoutSeconds: 2
    failureThreshold: 2
classic:
  preStopDelaySeconds: 10
dataVolume:
  sizeLimit: 1Gi
  medium: ""
tmpVolume:
  sizeLimit: 64Mi
metricsAnnotations: false
{{- end -}}

{{- /* Maps whose keys are the library's own: a key not in the defaults is a typo and fails. */ -}}
{{- define "post-office-lib.closedMaps" -}}
image ports webhooks secret database config probes classic dataVolume tmpVolume
{{- end -}}

{{- /* The merged values, as YAML; callers `fromYaml` it. Fails on an unknown key. */ -}}
{{- define "post-office-lib.values" -}}
{{- $defaults := include "post-office-lib.defaults" . | fromYaml -}}
{{- $given := .values | default dict -}}
{{- range $key, $value := $given -}}
  {{- if not (hasKey $defaults $key) -}}
    {{- fail (printf "postOffice.%s is not a setting of the post-office sidecar (known: %s)" $key (keys $defaults | sortAlpha | join ", ")) -}}
  {{- end -}}
{{- end -}}
{{- range $map := splitList " " (include "post-office-lib.closedMaps" .) -}}
  {{- $inner := get $given $map -}}
  {{- if kindIs "map" $inner -}}
    {{- $known := get $defaults $map -}}
    {{- range $key, $_ := $inner -}}
      {{- if not (hasKey $known $key) -}}
        {{- fail (printf "postOffice.%s.%s is not a setting of the post-office sidecar (known: %s)" $map $key (keys $known | sortAlpha | join ", ")) -}}
      {{- end -}}
    {{- end -}}
  {{- end -}}
{{- end -}}
{{- /* Sprig's merge functions skip false and 0 ("empty") values, so `native: false` would be
lost; this merge sets every given value, recursing into maps like Helm's own values do. */ -}}
{{- $merged := deepCopy $defaults -}}
{{- include "post-office-lib.deepMerge" (dict "dst" $merged "src" (deepCopy $given)) -}}
{{- toYaml $merged -}}
{{- end -}}

{{- define "post-office-lib.deepMerge" -}}
{{- $dst := .dst -}}
{{- range $key, $value := .src -}}
  {{- $current := get $dst $key -}}
  {{- if and (kindIs "map" $value) (kindIs "map" $current) -}}
    {{- include "post-office-lib.deepMerge" (dict "dst" $current "src" $value) -}}
  {{- else -}}
    {{- $_ := set $dst $key $value -}}
  {{- end -}}
{{- end -}}
{{- end -}}
