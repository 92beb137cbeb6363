"""The LightningDataModule: problem splits, the verified solutions of each outer iteration as training batches."""
