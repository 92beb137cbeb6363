"""The command line: config files, refusals with one message, and the checks run before the model loads."""
