"""The Synthos CDK app: one stack per stage, one construct per concern (``components/``).

``python infra_cdk/app.py`` is the app entry (``cdk.json``); tests and the pipeline suite build
the same stack in-process through :func:`infra_cdk.synth.build_stack`.
"""

import os

# Node 20 runs jsii fine; silence its end-of-life banner (noise on stderr at every start)
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
