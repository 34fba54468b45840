"""Writes Sources/VectorSearchServer/OpenAPIDocument.swift from docs/openapi.json (edit the JSON,
then run `python3 scripts/openapi.py`; a test checks that the two agree)."""
import os

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
text = open(os.path.join(root, "docs", "openapi.json")).read()
body = "\n".join(("        " + line if line else "") for line in text.split("\n"))
with open(os.path.join(root, "Sources", "VectorSearchServer", "OpenAPIDocument.swift"), "w") as f:
    f.write("/// The OpenAPI 3.1 document of the API, served at `GET /openapi.json`; `docs/openapi.json` is\n"
            "/// the same text (a test checks; `scripts/openapi.py` writes this file from it).\n"
            "enum OpenAPIDocument {\n"
            '    static let json = #"""\n' + body + '\n        """#\n}\n')
