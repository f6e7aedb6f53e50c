"""The gallery's app: its model, ``Photo``, whose image is a ``MediaField``, and the model's form."""
