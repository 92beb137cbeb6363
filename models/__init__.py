"""Resolving and loading a model: hub ids, local folders, GGUF files, packaged models, the tiny test model, the CPU dtype (no Lightning)."""
