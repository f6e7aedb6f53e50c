"""Template tag libraries of the Django adapter (``{% load s3media %}``)."""
