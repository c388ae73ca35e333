complete --keep-order --exclusive --command toolbox --arguments "(TOOLBOX_COMPLETE=fish toolbox -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))"
