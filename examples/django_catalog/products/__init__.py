"""The catalog's products: a model with an ImageField, written for any Django storage."""
