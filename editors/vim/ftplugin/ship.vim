" Vim filetype plugin
" Language: Ship (*.ship)
if exists('b:did_ftplugin')
  finish
endif
let b:did_ftplugin = 1

setlocal commentstring=#\ %s
setlocal comments=:#
setlocal expandtab shiftwidth=2 softtabstop=2 tabstop=8
" `gq` formats through `shipc fmt --stdin` (the whole file is the unit:
" use `gggqG`); a file with a syntax error is left as it is.
setlocal formatprg=shipc\ fmt\ --stdin

let b:undo_ftplugin = 'setlocal commentstring< comments< expandtab< shiftwidth< softtabstop< tabstop< formatprg<'
