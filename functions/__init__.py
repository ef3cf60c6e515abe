"""Lambda handlers: one small module per handler, each a few lines around one library call
(``synthos.pipeline``), with Powertools logging, metrics, tracing and, where an event may be
delivered twice, idempotency. The logical names are ``infra_cdk.definition.FUNCTIONS``."""
