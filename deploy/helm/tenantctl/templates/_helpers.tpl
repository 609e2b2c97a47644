{{- define "tenantctl.name" -}}
{{- printf "%s-operator" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "tenantctl.labels" -}}
app.kubernetes.io/name: tenantctl-operator
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "tenantctl.selector" -}}
app.kubernetes.io/name: tenantctl-operator
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
