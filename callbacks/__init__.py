"""Lightning callbacks of the loop: harvest, evaluation, curriculum, HumanEval, metrics row, checkpoints, adapters, plots, records."""
