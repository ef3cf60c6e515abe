"""One construct per concern: storage, secrets, Lambda code, API, WebSocket, Batch, pipeline,
schedules, operations. (Not named ``constructs``: that would shadow the library when
``python infra_cdk/app.py`` puts this folder first on ``sys.path``.)"""
