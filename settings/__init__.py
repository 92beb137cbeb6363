"""Settings shared across the packages, checked once: ConfigError/require, SamplingArgs (standard library only)."""
