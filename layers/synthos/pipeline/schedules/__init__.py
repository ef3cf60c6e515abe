"""What the scheduled EventBridge rules run (``infra_cdk.definition.SCHEDULES``)."""
