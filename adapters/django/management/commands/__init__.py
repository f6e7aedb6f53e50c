"""``manage.py s3media``."""
