"""Build hook: generates the protobuf modules (gen_protos.py) when they are missing, before
setuptools looks for packages (so the generated ones are found), so `pip install ./python` works
from a fresh checkout that has protoc. Everything else is in pyproject.toml."""
import os
import sys

from setuptools import setup

HERE = os.path.dirname(os.path.abspath(__file__))
STUB = os.path.join(HERE, "src", "kvcache_cluster", "_proto", "kvcache", "v1", "cache_pb2.py")

if not os.path.exists(STUB):
    sys.path.insert(0, HERE)
    import gen_protos

    gen_protos.generate()

setup()
