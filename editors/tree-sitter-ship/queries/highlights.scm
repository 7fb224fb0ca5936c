; Ship highlights (Neovim, Helix and Zed capture names)

(comment) @comment

[
  "import" "let" "type" "template" "fn" "policy" "project" "from"
] @keyword

["if" "then" "else"] @keyword.conditional

(declaration_kind) @keyword.type

(declaration name: (identifier) @type.definition)
(template_declaration name: (identifier) @type.definition)
(type_declaration name: (identifier) @type.definition)
(function_declaration name: (identifier) @function)
(let_declaration name: (identifier) @variable)
(from_clause template: (identifier) @type)
(template_use template: (identifier) @type)

(type_identifier) @type
(attribute "@" @attribute (identifier) @attribute)

(parameter name: (identifier) @variable.parameter)
(field_type name: (identifier) @property)
(argument name: (identifier) @variable.parameter)

(path (property) @property)
(entry label: (property) @label)
(member_expression member: (property) @property)

(call_expression function: (identifier) @function.call)
(call_expression function: (member_expression member: (property) @function.call))

((identifier) @variable.builtin
  (#any-of? @variable.builtin "env" "self"))

(boolean) @boolean
(number) @number
(string) @string
(triple_string) @string
(escape_sequence) @string.escape
(interpolation "${" @punctuation.special "}" @punctuation.special)

["=" "|" "||" "&&" "==" "!=" "+" ".." "->" "!" "?"] @operator
["(" ")" "[" "]" "{" "}" "<" ">"] @punctuation.bracket
["," "." ":"] @punctuation.delimiter
