"""The LightningModule: PolicyModule (the PEFT-adapted causal LM), its answer-only loss, adapter merging for sampling."""
