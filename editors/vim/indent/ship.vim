" Vim indent file
" Language: Ship (*.ship). The layout `shipc fmt` writes: one `shiftwidth`
" per open bracket; a line that starts with closers goes back by one for
" each. Lines inside a triple-quoted string keep their indentation.
if exists('b:did_indent')
  finish
endif
let b:did_indent = 1

setlocal indentexpr=GetShipIndent(v:lnum)
setlocal indentkeys=0},0],0),!^F,o,O
setlocal autoindent

if exists('*GetShipIndent')
  finish
endif

" The line without strings and comments (brackets in them do not count).
function! s:Code(lnum) abort
  let line = getline(a:lnum)
  let line = substitute(line, '\\.', '', 'g')
  let line = substitute(line, '"[^"]*"', '""', 'g')
  let line = substitute(line, '#.*$', '', '')
  return line
endfunction

function! s:InString(lnum) abort
  let name = synIDattr(synID(a:lnum, 1, 1), 'name')
  return name ==# 'shipString' || name ==# 'shipEscape'
endfunction

function! s:LeadingClosers(code) abort
  return strlen(matchstr(a:code, '^\s*\zs[\]})]\+'))
endfunction

function! GetShipIndent(lnum) abort
  if s:InString(a:lnum)
    return -1
  endif
  let prev = prevnonblank(a:lnum - 1)
  while prev > 0 && s:InString(prev)
    let prev = prevnonblank(prev - 1)
  endwhile
  if prev == 0
    return 0
  endif
  let sw = shiftwidth()
  let code = s:Code(prev)
  let opens = strlen(substitute(code, '[^[{(]', '', 'g'))
  let closes = strlen(substitute(code, '[^\]})]', '', 'g'))
  let depth = indent(prev) / sw + s:LeadingClosers(code) + opens - closes
  let depth -= s:LeadingClosers(s:Code(a:lnum))
  return max([0, depth]) * sw
endfunction
