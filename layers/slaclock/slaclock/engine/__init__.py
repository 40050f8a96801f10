"""The pure SLA engine: stdlib + holidays only, never boto3/botocore/pynamodb/powertools.

Everything here is a function of (configuration, events, now); nothing reads the clock.
"""
