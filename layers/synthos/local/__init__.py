"""The local stack's glue: what makes the pinned moto run the pipeline on one machine."""
