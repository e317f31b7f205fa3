{{/*
The chart's name, or nameOverride.
*/}}
{{- define "paxos-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The prefix of every object name: fullnameOverride, else the release name when it already
contains the chart name ("paxos-operator"), else "<release>-<chart name>". 63 characters
at most, the limit of a label value and a DNS name.
*/}}
{{- define "paxos-operator.fullname" -}}
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

{{/*
"<chart>-<version>", for the helm.sh/chart label.
*/}}
{{- define "paxos-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The labels of every object.
*/}}
{{- define "paxos-operator.labels" -}}
helm.sh/chart: {{ include "paxos-operator.chart" . }}
{{ include "paxos-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: paxos-operator
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
The labels that select the operator pods; they never change after install, since a
Deployment's selector is immutable.
*/}}
{{- define "paxos-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "paxos-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
The ServiceAccount the operator runs as.
*/}}
{{- define "paxos-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "paxos-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name must name an existing ServiceAccount when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The operator image reference; the tag defaults to the chart's appVersion.
*/}}
{{- define "paxos-operator.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag | toString) }}
{{- end }}

{{/*
The replica image to put in PaxosCluster specs; the tag defaults to the chart's appVersion.
*/}}
{{- define "paxos-operator.replicaImage" -}}
{{- printf "%s:%s" .Values.replica.image.repository (default .Chart.AppVersion .Values.replica.image.tag | toString) }}
{{- end }}
