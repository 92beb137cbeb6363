"""Text generation with the policy: batched and continuous-batching sampling, the KV cache, decoding steps (no Lightning)."""
