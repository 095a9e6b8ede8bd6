"""Schemathesis hooks for healthcode's API (loaded with SCHEMATHESIS_HOOKS=healthcode_hooks).

Batches and feeds take NDJSON or CSV text, which schemathesis has no serializer for: they
go on the wire as the text generated for them, as the text/plain serializer sends it.
"""

import schemathesis

schemathesis.serializer.alias(["application/x-ndjson", "text/csv"], "text/plain")
