"""Training: the config, the data, augmentation, the model, the one training loop and what it reports."""
