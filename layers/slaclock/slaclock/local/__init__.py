"""The local embedded stack's building blocks (no AWS account): resources created from template.yaml."""
