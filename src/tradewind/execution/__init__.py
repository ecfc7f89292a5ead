"""The task execution API's domain: per-try tokens, the wire models, and the service that carries out a
try's requests against the metadata database (served over HTTP by ``api.execution``; used in process by
`dags test`). A try's end is decided here, in ``try_ending``, whoever reports it."""
