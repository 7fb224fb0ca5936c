{{/*
The image reference: digest first, then tag; no render without one of them.
*/}}
{{- define "ship-app.image" -}}
{{- $repo := required "image.repository is required" .Values.image.repository -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" $repo .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" $repo (required "image.digest or image.tag is required: shipc pins images by digest (run `shipc lock`)" .Values.image.tag) -}}
{{- end -}}
{{- end -}}
