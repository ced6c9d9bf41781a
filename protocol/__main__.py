"""`python -m protocol asyncapi`: print the AsyncAPI document generated from the code."""

import sys

from protocol.asyncapi import render

if __name__ == "__main__":
    if sys.argv[1:] != ["asyncapi"]:
        sys.exit("usage: python -m protocol asyncapi > docs/asyncapi.yaml")
    sys.stdout.write(render())
