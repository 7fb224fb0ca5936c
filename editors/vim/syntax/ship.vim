" Vim syntax file
" Language: Ship (the shipc language, *.ship)
if exists('b:current_syntax')
  finish
endif

syntax case match

syntax keyword shipTodo TODO FIXME XXX NOTE contained
syntax match shipComment "#.*$" contains=shipTodo,@Spell

syntax keyword shipKeyword import let type template fn policy project from
syntax keyword shipConditional if then else
syntax match shipDeclaration "^\s*\zs\<\(image\|service\|infra\|env\|config\|object\)\>\ze\s\+\h"
syntax keyword shipBoolean true false
syntax keyword shipSelf self

" Unit literals: 10m, 250m, 1.5Gi, 1h30m, 100ms, -1, 1_000.
syntax match shipNumber "\<-\=\d[0-9_]*\%(\.\d\+\)\=\%(%\|\%(\a\+\%(\d\+\%(\.\d\+\)\=\a\+\)*\)\=\>\)"
syntax match shipNumber "-\d[0-9_]*\%(\.\d\+\)\=\%(%\|\%(\a\+\%(\d\+\%(\.\d\+\)\=\a\+\)*\)\=\>\)"

" Types: capitalised names (String, Port, Secret<String>).
syntax match shipType "\<\u\l\w*\>"
" The env being compiled: env.name, env.domain.
syntax match shipEnvRef "\<env\ze\."
" Calls: http(…), secret(…), forward(…), std.security.restricted.
syntax match shipFunction "\<\h\w*\ze("
syntax match shipAttribute "@\h\w*"
syntax match shipOperator "==\|!=\|||\|&&\|\.\.\|->\|=\||\|+\|!"

" Strings with ${…} interpolation and escapes; triple-quoted strings.
syntax match shipEscape "\\." contained
syntax region shipInterp matchgroup=shipInterpDelim start="\${" end="}" contained contains=TOP
syntax region shipString start=+"""+ end=+"""+ contains=shipInterp,shipEscape,@Spell
syntax region shipString start=+"\%(""\)\@!+ skip=+\\\\\|\\"+ end=+"+ oneline contains=shipInterp,shipEscape,@Spell

syntax sync fromstart

highlight default link shipTodo Todo
highlight default link shipComment Comment
highlight default link shipKeyword Keyword
highlight default link shipConditional Conditional
highlight default link shipDeclaration Structure
highlight default link shipBoolean Boolean
highlight default link shipSelf Special
highlight default link shipNumber Number
highlight default link shipType Type
highlight default link shipEnvRef Identifier
highlight default link shipFunction Function
highlight default link shipAttribute PreProc
highlight default link shipOperator Operator
highlight default link shipEscape SpecialChar
highlight default link shipInterpDelim Delimiter
highlight default link shipString String

let b:current_syntax = 'ship'
