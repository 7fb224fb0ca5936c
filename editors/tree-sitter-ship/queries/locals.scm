(source_file) @local.scope
(template_declaration) @local.scope
(let_declaration name: (identifier) @local.definition)
(declaration name: (identifier) @local.definition)
(template_declaration name: (identifier) @local.definition)
(parameter name: (identifier) @local.definition)
(identifier) @local.reference
