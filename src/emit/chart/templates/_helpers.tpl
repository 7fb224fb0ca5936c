{{/*
The image reference: digest first (with the tag it was written with, if any),
then tag; no render without one of them.
*/}}
{{- define "ship-app.image" -}}
{{- $repo := required "image.repository is required" .Values.image.repository -}}
{{- if and .Values.image.digest .Values.image.tag -}}
{{- printf "%s:%s@%s" $repo .Values.image.tag .Values.image.digest -}}
{{- else if .Values.image.digest -}}
{{- printf "%s@%s" $repo .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" $repo (required "image.digest or image.tag is required: shipc pins images by digest (run `shipc lock`)" .Values.image.tag) -}}
{{- end -}}
{{- end -}}
