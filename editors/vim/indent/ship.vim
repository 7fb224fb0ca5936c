" Vim indent file
" Language: Ship (*.ship). The layout `shipc fmt` writes: one `shiftwidth`
" per line that leaves brackets open (`f("x", {` and `[{` open one level
" together); a line that starts with closers goes back to the indentation of
" the line that opened the first of them. Lines inside a triple-quoted
" string keep their indentation.
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

" Brackets inside strings and comments do not count.
function! s:Skip() abort
  return synIDattr(synID(line('.'), col('.'), 1), 'name') =~# 'shipString\|shipEscape\|shipComment'
endfunction

" The line of the bracket that opens the closer at (lnum, col), or 0.
function! s:OpenerLine(lnum, col) abort
  let save = getcurpos()
  call cursor(a:lnum, a:col)
  let found = searchpair('[[{(]', '', '[\]})]', 'bnW', 's:Skip()')
  call setpos('.', save)
  return found > 0 ? found : 0
endfunction

function! GetShipIndent(lnum) abort
  if s:InString(a:lnum)
    return -1
  endif
  let sw = shiftwidth()
  let line = getline(a:lnum)
  let first = match(line, '^\s*\zs[\]})]')
  if first >= 0
    let opener = s:OpenerLine(a:lnum, first + 1)
    if opener > 0
      return indent(opener)
    endif
  endif
  let prev = prevnonblank(a:lnum - 1)
  while prev > 0 && s:InString(prev)
    let prev = prevnonblank(prev - 1)
  endwhile
  if prev == 0
    return 0
  endif
  let code = s:Code(prev)
  let rest = substitute(code, '^\s*[\]})]\+', '', '')
  let opens = strlen(substitute(rest, '[^[{(]', '', 'g'))
  let closes = strlen(substitute(rest, '[^\]})]', '', 'g'))
  if opens > closes
    return indent(prev) + sw
  endif
  if closes > opens
    " It closed brackets opened on earlier lines: back to where they opened.
    let last = strridx(getline(prev), matchstr(rest, '[\]})]\ze[^\]})]*$'))
    let opener = last >= 0 ? s:OpenerLine(prev, last + 1) : 0
    if opener > 0 && opener < prev
      return indent(opener)
    endif
  endif
  return indent(prev)
endfunction
