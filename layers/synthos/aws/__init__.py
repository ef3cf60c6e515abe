"""AWS adapters: the only part of the library that imports boto3/pynamodb or reads settings.

Domain code (everything outside ``synthos.aws``, ``synthos.api``, ``synthos.pipeline`` and
``synthos.local``) stays free of the AWS SDK. Settings are read once at the edge
(:func:`synthos.aws.settings.Settings.from_env`) and passed down.
"""
