{{- /*
The Post Office container, as one list item. Argument: dict root, values, mode, where mode is
  "native"     - native sidecar: goes under initContainers with restartPolicy Always; the
                 startupProbe holds the app containers back until the queue accepts enqueues,
                 and the kubelet stops it only after the app containers have exited.
  "classic"    - a regular container beside the app; a preStop delay keeps it serving while the
                 app drains, because every container gets SIGTERM at the same time.
  "standalone" - the post-office chart's own Deployment: API on the pod network, token required,
                 and the same preStop delay so endpoints drop the pod before it stops listening.
*/ -}}
{{- define "post-office-lib.container" -}}
{{- $v := include "post-office-lib.values" . | fromYaml -}}
{{- $mode := .mode -}}
{{- if not (has $mode (list "native" "classic" "standalone")) -}}
{{- fail (printf "post-office-lib.container: mode must be native, classic or standalone (got %v)" $mode) -}}
{{- end -}}
{{- if and (eq $mode "standalone") (or (empty $v.secret.name) (empty $v.secret.apiTokenKey)) -}}
{{- fail "standalone mode listens on the pod network: set postOffice.secret.name and postOffice.secret.apiTokenKey (a Secret key holding POST_OFFICE_API_TOKEN, at least 16 characters)" -}}
{{- end -}}
{{- /* Without DATABASE_URL each pod queues its mail in its own emptyDir, which dies with the
pod: only an explicit demo setting may render that. */ -}}
{{- $database := and $v.secret.name $v.secret.databaseUrlKey -}}
{{- range $v.extraEnv -}}
{{- if eq (get . "name") "DATABASE_URL" -}}{{- $database = true -}}{{- end -}}
{{- end -}}
{{- if and (not $database) (not $v.database.embedded) -}}
{{- fail "postOffice has no shared database: set postOffice.secret.name and postOffice.secret.databaseUrlKey (a Secret key holding DATABASE_URL), or postOffice.database.embedded=true for a demo whose queued mail is lost with each pod" -}}
{{- end -}}
- name: {{ $v.containerName }}
  image: {{ include "post-office-lib.image" $v.image | quote }}
  imagePullPolicy: {{ $v.image.pullPolicy }}
  {{- if eq $mode "native" }}
  restartPolicy: Always
  {{- end }}
  ports:
    - name: po-api
      containerPort: {{ $v.ports.api }}
      protocol: TCP
    - name: po-admin
      containerPort: {{ $v.ports.admin }}
      protocol: TCP
    {{- if $v.webhooks.enabled }}
    - name: po-webhooks
      containerPort: {{ $v.ports.webhooks }}
      protocol: TCP
    {{- end }}
  env:
    {{- include "post-office-lib.env" (dict "v" $v "mode" $mode) | nindent 4 }}
  startupProbe:
    httpGet:
      path: /readyz
      port: po-admin
    {{- toYaml $v.probes.startup | nindent 4 }}
  livenessProbe:
    httpGet:
      path: /livez
      port: po-admin
    {{- toYaml $v.probes.liveness | nindent 4 }}
  readinessProbe:
    httpGet:
      path: /readyz
      port: po-admin
    {{- toYaml $v.probes.readiness | nindent 4 }}
  {{- if and (ne $mode "native") (gt (int $v.classic.preStopDelaySeconds) 0) }}
  lifecycle:
    preStop:
      exec:
        {{- /* node, not sleep: works in distroless images that have no shell or coreutils. */}}
        command: ["node", "-e", "setTimeout(() => {}, {{ mul (int $v.classic.preStopDelaySeconds) 1000 }})"]
  {{- end }}
  {{- with $v.resources }}
  resources:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  securityContext:
    {{- include "post-office-lib.securityContext" $v | nindent 4 }}
  volumeMounts:
    - name: post-office-data
      mountPath: /data
    - name: post-office-tmp
      mountPath: /tmp
{{- end -}}

{{- define "post-office-lib.image" -}}
{{- if .digest -}}
{{ .repository }}@{{ .digest }}
{{- else -}}
{{ .repository }}:{{ .tag }}
{{- end -}}
{{- end -}}

{{- /* Hardened by default; postOffice.securityContext is merged over it, key by key. */ -}}
{{- define "post-office-lib.securityContext" -}}
{{- $hardened := dict
  "runAsNonRoot" true
  "runAsUser" 10001
  "runAsGroup" 10001
  "allowPrivilegeEscalation" false
  "readOnlyRootFilesystem" true
  "privileged" false
  "capabilities" (dict "drop" (list "ALL"))
  "seccompProfile" (dict "type" "RuntimeDefault")
-}}
{{- include "post-office-lib.deepMerge" (dict "dst" $hardened "src" (deepCopy (.securityContext | default dict))) -}}
{{- toYaml $hardened -}}
{{- end -}}
