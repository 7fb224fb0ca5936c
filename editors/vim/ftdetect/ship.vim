" Ship (.ship) files: the shipc language.
autocmd BufRead,BufNewFile *.ship setfiletype ship
