"""The validation pipeline: what each Lambda handler in ``functions/`` calls.

    claim -> inspect -> small: validate_small | large: shards (record, reduce)
          -> report -> complete (publish, notify);  any error -> fail
    schedules: sweeper, warranties, revalidate, cleanup;  websocket: connect/disconnect/push

Adapters (boto3, pynamodb) are allowed here; the engine they call is not.
"""
