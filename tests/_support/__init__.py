"""What tests in several folders share: import as ``tests._support.<module>``, never by a
``sys.path`` entry.

- ``clients``: the one factory of an SDK client on an emulator (``emulator_client``);
- ``fake_api``: a scriptable API behind ``httpx.MockTransport`` and a fake clock (``FakeApi``,
  ``make_client``), for SDK unit tests and the CLI's watch;
- ``hec_receiver``: a strict Splunk HEC receiver on loopback (sinks, sync, benchmarks);
- ``cef_parser``: a CEF parser written from the specification (formats, sinks, sync);
- ``hostile_server``: an HTTP server that misbehaves on purpose (client, netsec).
"""
