"""Management commands of the s3media app."""
